"""Clause embeddings are computed once: theme mentions reuse the sentiment step's vectors."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.sentiment.clauses import standalone_text
from vocflow.clause_store import (
    classify_and_store_clauses,
    clause_version,
    load_clauses,
    theme_mention_sentiment,
)
from vocflow.store import Store

DIM = 4
LABELS = ("negative", "neutral", "positive")


class CountingEmbedder:
    """Deterministic vectors from the text; remembers every text it was asked to embed."""

    model_id = "counting"
    dim = DIM

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        out = np.ones((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, len(text) % DIM] = 5.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class WordSentiment:
    """Negative when a clause names a complaint word, positive otherwise."""

    labels = LABELS
    needs_embeddings = True
    embedder_id = "counting"
    model_version = "word-v1"

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray | None) -> np.ndarray:
        assert vectors is not None and len(vectors) == len(texts)
        bad = ("별로", "late", "rude", "cold")
        return np.array(
            [[0.9, 0.05, 0.05] if any(w in t for w in bad) else [0.05, 0.05, 0.9] for t in texts]
        )


def test_theme_mentions_embed_no_clause_twice(tmp_path: Path) -> None:
    items = pd.DataFrame(
        {
            "item_key": ["k1", "k2", "k3"],
            "text_clean": [
                "스토리는 별로였지만 배우들 연기는 정말 좋았어요",
                "The crew was friendly, but the food was cold",
                "Great seat",
            ],
            "text_hash": ["h1", "h2", "h3"],
            "language": ["ko", "en", "en"],
        }
    )
    embedder, model = CountingEmbedder(), WordSentiment()
    version = clause_version(model.model_version, 0.2)
    with Store(tmp_path / "s.duckdb") as store:
        probs = model.predict_proba(items["text_clean"].tolist(), np.zeros((3, DIM)))
        labels = classify_and_store_clauses(store, model, items, probs, embedder, version, 0.2)
        assert labels[:2] == ["mixed", "mixed"]
        clauses = load_clauses(store, ["k1", "k2"], version)
        text_of = dict(zip(items["item_key"], items["text_clean"], strict=True))
        spans = zip(clauses["item_key"], clauses["start_char"], clauses["end_char"], strict=True)
        raw = [text_of[k][a:b] for k, a, b in spans]
        # The sentiment step embeds each clause as a statement of its own ...
        language = {"k1": "ko", "k2": "en"}
        standalone = [
            standalone_text(t, language[k]) for t, k in zip(raw, clauses["item_key"], strict=True)
        ]
        assert sorted(embedder.seen) == sorted(standalone)
        # The rewrite changed at least one clause, so raw clauses would be new texts.
        assert any(s != r for s, r in zip(standalone, raw, strict=True))
        seen_before = list(embedder.seen)
        centroids = embedder.embed(["theme zero", "theme one!"])
        embedder.seen = list(seen_before)
        rows = pd.DataFrame({"theme_id": [0, 1], "centroid": list(centroids)})
        mention = theme_mention_sentiment(
            store, embedder, items, pd.Series(labels), version, np.array([0, 1, -1]), rows
        )
    # ... and the theme step reads those vectors from the cache: nothing new is embedded.
    assert embedder.seen == seen_before
    assert set(mention.iloc[:2]) <= {"positive", "negative"}
    assert mention.iloc[2] == labels[2]
