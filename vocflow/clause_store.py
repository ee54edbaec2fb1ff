"""Clause-level sentiment in the store: the ``clause_sentiment`` table and theme mentions.

Kept out of ``vocflow/store.py`` (which holds the core schema): this module creates its own
table on first use. Clause embeddings go through the store's embedding cache (keyed by the
clause's content hash), so a re-run embeds no clause twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from nlp.protocols import Embedder, SentimentModel
from nlp.sentiment.clauses import (
    MIXED,
    ClauseResult,
    classify_clauses,
    mention_label,
    standalone_text,
)
from nlp.text import content_hash
from vocflow.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS clause_sentiment (
    item_key VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    clause_idx INTEGER NOT NULL,
    text_hash VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    clause_hash VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    probs FLOAT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_key, model_version, clause_idx)
);
"""


def ensure_schema(store: Store) -> None:
    """Creates the ``clause_sentiment`` table when missing (idempotent)."""
    store.con.execute(_DDL)


def embed_texts_cached(
    store: Store,
    embedder: Embedder,
    texts: Sequence[str],
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embeds texts through the store's embedding cache (content hash, model id).

    Args:
        store: Store holding the cache.
        embedder: Embedder.
        texts: Cleaned texts (e.g. clauses).
        on_progress: Called with ``(embedded, to embed)`` after each chunk.

    Returns:
        Float32 embeddings in input order, shape ``(len(texts), dim)``.
    """
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    hashes = [content_hash(t) for t in texts]
    missing = store.missing_embeddings(hashes, embedder.model_id)
    if missing:
        text_of = dict(zip(hashes, texts, strict=True))
        # Longest first: a padding embedder then batches clauses of equal length.
        missing = sorted(missing, key=lambda h: -len(text_of[h]))
        for start in range(0, len(missing), 256):
            part = missing[start : start + 256]
            store.save_embeddings(
                part, embedder.model_id, embedder.embed([text_of[h] for h in part])
            )
            if on_progress is not None:
                on_progress(start + len(part), len(missing))
    return store.load_embeddings(hashes, embedder.model_id)


def item_languages(items: pd.DataFrame) -> list[str]:
    """Language per item as the sentiment step read it ("und" when unknown or absent)."""
    if "language" not in items:
        return ["und"] * len(items)
    return items["language"].fillna("und").astype(str).tolist()


def clause_vectors(
    store: Store, embedder: Embedder, clauses: Sequence[str], languages: Sequence[str]
) -> np.ndarray:
    """Embeddings of stored clauses, as the sentiment step embedded them (cache hits).

    The sentiment step embeds each clause as a statement of its own
    (``nlp.sentiment.clauses.standalone_text``); theme mentions and clause themes use those
    same vectors instead of embedding the raw clause a second time.

    Args:
        store: Store with the embedding cache.
        embedder: The pipeline's embedder.
        clauses: Clause texts (``text[start:end]`` of their item).
        languages: Language of each clause's item.

    Returns:
        Float32 embeddings in input order.
    """
    texts = [standalone_text(c, lang) for c, lang in zip(clauses, languages, strict=True)]
    return embed_texts_cached(store, embedder, texts)


def save_clauses(
    store: Store,
    item_keys: Sequence[str],
    text_hashes: Sequence[str],
    model_version: str,
    result: ClauseResult,
) -> int:
    """Replaces the stored clauses of these items for ``model_version``.

    Args:
        store: The store.
        item_keys: Items, in the order of ``result``.
        text_hashes: Their text hashes (a changed text invalidates its clauses).
        model_version: Version the labels belong to.
        result: Output of ``nlp.sentiment.clauses.classify_clauses``.

    Returns:
        Number of clause rows written.
    """
    ensure_schema(store)
    rows = []
    for key, text_hash, clauses, proba, labels in zip(
        item_keys, text_hashes, result.clauses, result.clause_proba, result.clause_labels,
        strict=True,
    ):  # fmt: skip
        for idx, (clause, probs, label) in enumerate(zip(clauses, proba, labels, strict=True)):
            rows.append(
                (key, model_version, idx, text_hash, clause.start, clause.end,
                 content_hash(clause.text), label, probs.astype(np.float32).tolist())
            )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=["item_key", "model_version", "clause_idx", "text_hash", "start_char",
                 "end_char", "clause_hash", "label", "probs"],
    )  # fmt: skip
    frame["created_at"] = datetime.now(UTC)
    store.con.register("new_clauses", frame)
    try:
        with store.transaction():
            store.con.execute(
                "DELETE FROM clause_sentiment WHERE model_version = ? "
                "AND item_key IN (SELECT unnest(?))",
                [model_version, list(item_keys)],
            )
            if len(frame):
                store.con.execute(
                    "INSERT INTO clause_sentiment SELECT item_key, model_version, clause_idx, "
                    "text_hash, start_char, end_char, clause_hash, label, probs::FLOAT[], "
                    "created_at FROM new_clauses"
                )
    finally:
        store.con.unregister("new_clauses")
    return len(frame)


def load_clauses(store: Store, item_keys: Sequence[str], model_version: str) -> pd.DataFrame:
    """Returns the stored clauses of these items, ordered by item and clause index.

    Columns: ``item_key, clause_idx, start_char, end_char, clause_hash, label, probs``.
    """
    ensure_schema(store)
    return store.con.execute(
        "SELECT item_key, clause_idx, start_char, end_char, clause_hash, label, probs "
        "FROM clause_sentiment WHERE model_version = ? AND item_key IN (SELECT unnest(?)) "
        "ORDER BY item_key, clause_idx",
        [model_version, list(item_keys)],
    ).df()


def theme_mention_sentiment(
    store: Store,
    embedder: Embedder,
    items: pd.DataFrame,
    labels: pd.Series,
    version: str,
    assignments: np.ndarray,
    theme_rows: pd.DataFrame,
) -> pd.Series:
    """Sentiment of each item's theme mention: mixed items speak through one clause.

    For an item labelled ``mixed`` and assigned to a theme, the mention takes the label of the
    item's clause closest (cosine) to the theme centroid: "seat comfortable but food awful"
    counts as negative for a food theme and positive for a seat theme. Other items keep their
    label; outliers (theme -1) keep ``mixed``.

    Args:
        store: Store with the clause table and embedding cache.
        embedder: The pipeline's embedder (the centroids live in its space).
        items: Items with ``item_key`` and ``text_clean``, in the order of ``assignments``.
        labels: Item labels indexed like ``items``.
        version: Enrichment version the clauses were stored under (``clause_version``).
        assignments: Theme id per item (-1 = outlier).
        theme_rows: Themes with ``theme_id`` and ``centroid`` (L2-normalised), as returned
            by ``vocflow.analysis.fit_themes``.

    Returns:
        Mention labels indexed like ``items``.
    """
    out = labels.copy()
    mixed = np.flatnonzero((labels == MIXED).to_numpy() & (np.asarray(assignments) >= 0))
    if not mixed.size:
        return out
    centroids = {
        int(t): np.asarray(c, dtype=np.float32)
        for t, c in zip(theme_rows["theme_id"], theme_rows["centroid"], strict=True)
    }
    keys = items["item_key"].to_numpy()[mixed].tolist()
    clauses = load_clauses(store, keys, version)
    by_item = {k: part for k, part in clauses.groupby("item_key", sort=False)}
    # Every mixed item's clause texts in one cached embedding call: one call per item meant
    # two store queries and a tiny model batch per item (minutes over a large store).
    spans: list[tuple[int, list[str], list[str]]] = []
    for at, key in zip(mixed.tolist(), keys, strict=True):
        part = by_item.get(key)
        if part is None or part.empty:
            continue
        text = str(items["text_clean"].iloc[at])
        clause_texts = [
            text[a:b] for a, b in zip(part["start_char"], part["end_char"], strict=True)
        ]
        spans.append((int(at), clause_texts, part["label"].tolist()))
    language = item_languages(items)
    vectors = clause_vectors(
        store, embedder, [t for _, texts, _ in spans for t in texts],
        [language[pos] for pos, texts, _ in spans for _ in texts],
    )  # fmt: skip
    cursor = 0
    for pos, clause_texts, clause_labels in spans:
        own = vectors[cursor : cursor + len(clause_texts)]
        cursor += len(clause_texts)
        centroid = centroids.get(int(assignments[pos]))
        out.iloc[pos] = mention_label(MIXED, clause_labels, own, centroid)
    return out


def clause_version(model_version: str, margin: float) -> str:
    """Enrichment version of clause-aware labels (the mixed rule is part of the label)."""
    return f"{model_version}+clauses:m{margin:g}"


def classify_and_store_clauses(
    store: Store,
    model: SentimentModel,
    todo: pd.DataFrame,
    item_proba: np.ndarray,
    embedder: Embedder | None,
    version: str,
    margin: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Classifies the clauses of ``todo`` items, stores them, returns the item labels.

    Args:
        store: The store (clause table and embedding cache).
        model: Sentiment model.
        todo: Items with ``item_key, text_clean, text_hash, language``.
        item_proba: Whole-text probabilities of ``todo``.
        embedder: Embedder for clause embeddings (needed when the model needs embeddings).
        version: Enrichment version (see :func:`clause_version`).
        margin: Clause polarity margin of the mixed rule.
        on_progress: Clause embedding progress ``(done, total)``.

    Returns:
        Item labels (``mixed`` where clauses disagree confidently), in ``todo`` order.
    """

    def embed(texts: list[str]) -> np.ndarray:
        if embedder is None:
            raise ValueError(f"{model.model_version} needs an embedder to classify clauses")
        return embed_texts_cached(store, embedder, texts, on_progress)

    result = classify_clauses(
        model,
        todo["text_clean"].tolist(),
        todo["language"].fillna("und").tolist(),
        item_proba,
        embed=embed,
        margin=margin,
    )
    save_clauses(store, todo["item_key"].tolist(), todo["text_hash"].tolist(), version, result)
    return result.item_labels
