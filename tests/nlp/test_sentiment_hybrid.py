"""Hybrid (dense + sparse, stacked, per-language) sentiment model on tiny inline data, and
(slow) the committed artifact against its baselines on held-out real data."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nlp.protocols import SENTIMENT_LABELS, SentimentModel  # noqa: E402
from nlp.registry import build_sentiment, default_head_path  # noqa: E402
from nlp.sentiment.fit_hybrid import HeadFitConfig  # noqa: E402
from nlp.sentiment.head import EmbeddingHeadSentiment  # noqa: E402
from nlp.sentiment.hybrid import HybridSentiment, load_head  # noqa: E402
from nlp.sentiment.train import train_hybrid  # noqa: E402

FAST = HeadFitConfig(max_features=2000, sparse_c_grid=(1.0,), dense_c_grid=(1.0,), folds=2)
WORDS = {
    "ko": {"positive": ["최고", "재밌다", "좋아요"], "negative": ["최악", "지루", "별로"],
           "neutral": ["그냥", "보통", "무난"]},
    "en": {"positive": ["great", "love", "excellent"], "negative": ["awful", "hate", "boring"],
           "neutral": ["okay", "average", "fine"]},
}  # fmt: skip
SOURCES = {"ko": ["nsmc"], "en": ["uci_yelp", "vader_tweets"]}


class HashEmbedder:
    """Deterministic bag-of-words embedder: enough signal for a linear head."""

    model_id = "hash-words:32"
    dim = 32

    def embed(self, texts: Sequence[str], on_progress: object = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(word.encode()) % self.dim] += 1.0
            out[i, -1] += 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic(n: int = 24, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for lang, by_label in WORDS.items():
        for label, words in by_label.items():
            for source in SOURCES[lang]:
                if source.startswith("uci") and label == "neutral":
                    continue
                for i in range(n):
                    filler = "영화" if lang == "ko" else "the movie"
                    text = f"{filler} {rng.choice(words)} {rng.choice(words)} {i}"
                    rating = {"positive": 9.0, "negative": 2.0, "neutral": 6.0}[label]
                    if source.startswith("uci"):
                        rating = 1.0 if label == "positive" else 0.0
                    rows.append((text, label, lang, source, rating))
    return pd.DataFrame(rows, columns=["text", "label", "language", "source", "rating"])


@pytest.fixture(scope="module")
def trained() -> tuple[HybridSentiment, dict]:
    data = synthetic()
    vectors = HashEmbedder().embed(data["text"].tolist())
    result = train_hybrid(
        data,
        vectors,
        embedder_id=HashEmbedder.model_id,
        seed=1,
        dev_fraction=0.25,
        configs={"ko": FAST, "en": FAST},
    )
    assert not set(result.train_idx) & set(result.dev_idx)
    return result.model, result.metrics


def test_trained_model_is_a_sentiment_model_with_one_head_per_language(trained) -> None:
    model, metrics = trained
    assert isinstance(model, SentimentModel)
    assert re.fullmatch(r"hybrid-head:[0-9a-f]{12}", model.model_version)
    assert sorted(model.heads) == ["en", "ko"] and model.fallback == "en"
    assert model.route(["좋아요 정말", "great", "👍", "très bien"]) == ["ko", "en", "en", "en"]
    assert metrics["head"]["by_language"]["ko"]["accuracy"] == 1.0
    assert metrics["head"]["by_language"]["en"]["accuracy"] == 1.0
    assert metrics["head"]["nsmc_binary_accuracy"] == 1.0
    assert metrics["majority"]["overall"]["accuracy"] < 0.5
    assert set(metrics["parts"]) == {"dense", "sparse"}
    notes = model.metadata["heads"]["ko"]
    assert notes["combiner_class_weight"] in ("balanced", "None") and notes["vocabulary"] > 0


def test_round_trip_is_exact_json_and_versioned(trained, tmp_path: Path) -> None:
    model, _ = trained
    path = model.save(tmp_path / "h.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "vocflow-sentiment-hybrid" and "pickle" not in path.read_text()
    loaded = load_head(path)
    assert isinstance(loaded, HybridSentiment) and loaded.model_version == model.model_version
    texts = ["영화 최고 재밌다", "the movie awful", "그냥 보통", "love it"]
    vectors = HashEmbedder().embed(texts)
    np.testing.assert_array_equal(
        loaded.predict_proba(texts, vectors), model.predict_proba(texts, vectors)
    )
    proba = model.predict_proba(texts, vectors)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(np.array(SENTIMENT_LABELS)[proba.argmax(1)]) == [
        "positive", "negative", "neutral", "positive",
    ]  # fmt: skip


def test_tampered_or_foreign_artifacts_are_rejected(trained, tmp_path: Path) -> None:
    model, _ = trained
    data = model.to_dict()
    data["heads"]["ko"]["combiner"]["intercept"][0] += 1.0
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="sha256"):
        load_head(tmp_path / "bad.json")
    data = model.to_dict() | {"feature_version": "other"}
    with pytest.raises(ValueError, match="retrain"):
        HybridSentiment.from_dict(data)
    (tmp_path / "x.json").write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(ValueError, match="unknown sentiment artifact"):
        load_head(tmp_path / "x.json")


def test_old_dense_artifacts_still_load_through_the_registry(tmp_path: Path) -> None:
    head = EmbeddingHeadSentiment(np.eye(3, 4), np.zeros(3), embedder_id="fake:4")
    path = head.save(tmp_path / "dense.json")
    model = build_sentiment("embedding-head", {"path": str(path)})
    assert isinstance(model, EmbeddingHeadSentiment) and model.model_version == head.model_version
    with pytest.raises(ValueError, match="only options.path"):
        build_sentiment("embedding-head", {"path": str(path), "c": 1})


def test_predict_requires_embeddings(trained) -> None:
    model, _ = trained
    with pytest.raises(ValueError, match="pass embeddings"):
        model.predict_proba(["a"])
    with pytest.raises(ValueError, match="1 texts but 2"):
        model.predict_proba(["a"], np.zeros((2, 32)))
    assert model.predict_proba([], np.zeros((0, 32))).shape == (0, 3)


@pytest.mark.slow
def test_committed_artifact_meets_the_targets_on_held_out_real_data() -> None:
    """The shipped model on a sample of its verified dev split (rows it was not trained on)."""
    from nlp.embedders import get_embedder
    from nlp.sentiment.data import resolve_data_dir
    from nlp.sentiment.devsets import dev_rows
    from nlp.sentiment.metrics import binary_from_proba, scores
    from nlp.sentiment.vader_baseline import VaderSentiment

    if not (resolve_data_dir() / "nsmc").is_dir():
        pytest.skip("shared data not found (set VOCFLOW_SHARED_DATA)")
    path = default_head_path()
    assert path.stat().st_size < 6_000_000
    model = load_head(path)
    assert isinstance(model, HybridSentiment)
    dev = dev_rows(path)  # raises if the split no longer matches the artifact's fingerprints
    rating = dev["rating"]
    nsmc = dev[(dev["source"] == "nsmc") & ((rating <= 4) | (rating >= 9))].sample(
        n=400, random_state=0
    )
    uci = dev[dev["source"].str.startswith("uci_")].sample(n=200, random_state=0)
    drug = dev[dev["source"] == "drug_reviews"]
    embedder = get_embedder(model.metadata["embedder_name"])
    assert embedder.model_id == model.embedder_id

    def proba(part: pd.DataFrame) -> np.ndarray:
        texts = part["text"].tolist()
        return model.predict_proba(texts, embedder.embed(texts))

    nsmc_gold = np.where(nsmc["rating"] >= 9, "positive", "negative")
    nsmc_acc = np.mean(binary_from_proba(proba(nsmc), SENTIMENT_LABELS) == nsmc_gold)
    uci_gold = np.where(uci["rating"] >= 1, "positive", "negative")
    uci_acc = np.mean(binary_from_proba(proba(uci), SENTIMENT_LABELS) == uci_gold)
    drug_pred = np.array(SENTIMENT_LABELS)[proba(drug).argmax(1)]
    ours = scores(drug["label"].tolist(), drug_pred.tolist())["macro_f1"]
    vader = scores(drug["label"].tolist(), VaderSentiment().predict(drug["text"].tolist()))
    # Sample-size slack: the full-dev figures are in the model card.
    assert nsmc_acc >= 0.83, nsmc_acc
    assert uci_acc >= 0.88, uci_acc
    assert ours >= vader["macro_f1"] + 0.08, (ours, vader)


def test_long_texts_use_their_own_combiner(trained, tmp_path: Path) -> None:
    from nlp.sentiment.hybrid import LanguageHead, Linear

    model, _ = trained
    en = model.heads["en"]
    always_negative = Linear(np.zeros((3, 6)), np.array([5.0, 0.0, 0.0]))
    head = LanguageHead(en.features, en.sparse, en.dense, en.combiner, always_negative, 4)
    texts = ["great love", "great love excellent love great"]
    proba = head.proba(texts, HashEmbedder().embed(texts))
    assert proba[0].argmax() == 2 and proba[1].argmax() == 0
    heads = dict(model.heads, en=head)
    path = HybridSentiment(heads, embedder_id=model.embedder_id or "", fallback="en").save(
        tmp_path / "long.json"
    )
    reloaded = load_head(path)
    assert isinstance(reloaded, HybridSentiment) and reloaded.heads["en"].long_words == 4
    np.testing.assert_array_equal(reloaded.predict_proba(texts, HashEmbedder().embed(texts)), proba)
