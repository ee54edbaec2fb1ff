"""Embedding head (fit, JSON round-trip, versioning), VADER baseline, training/evaluation on
tiny inline data, and (slow) the committed head against baselines on held-out real data."""

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
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlp.protocols import SENTIMENT_LABELS, SentimentModel  # noqa: E402
from nlp.sentiment.head import EmbeddingHeadSentiment  # noqa: E402
from nlp.sentiment.train import binary_from_proba, scores, train_sentiment_head  # noqa: E402
from nlp.sentiment.vader_baseline import VaderSentiment, compound_to_proba  # noqa: E402

ARTIFACT = Path(__file__).resolve().parents[2] / "nlp" / "artifacts" / "sentiment_head.json"


def _clusters(seed: int = 0, n: int = 40, dim: int = 8) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3] * 3
    x = np.concatenate([c + rng.normal(size=(n, dim)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), [label for label in SENTIMENT_LABELS for _ in range(n)]


@pytest.fixture(scope="module")
def head() -> EmbeddingHeadSentiment:
    x, y = _clusters()
    return EmbeddingHeadSentiment.fit(x, y, embedder_id="fake:8", c_grid=(0.3, 1.0), cv_folds=3)


def test_fit_predicts_and_implements_protocol(head: EmbeddingHeadSentiment) -> None:
    assert isinstance(head, SentimentModel)
    assert head.labels == SENTIMENT_LABELS and head.needs_embeddings and head.dim == 8
    assert head.embedder_id == "fake:8"
    assert re.fullmatch(r"embedding-head:[0-9a-f]{12}", head.model_version)
    x, y = _clusters(seed=1)
    proba = head.predict_proba([""] * len(x), x)
    assert proba.shape == (len(x), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)] == np.array(y)) > 0.9
    assert head.metadata["cv"]["best_c"] in (0.3, 1.0)


def test_round_trip_is_exact_and_json_only(head: EmbeddingHeadSentiment, tmp_path: Path) -> None:
    path = head.save(tmp_path / "sub" / "head.json")
    raw = json.loads(path.read_text())
    assert raw["sha256"].startswith(head.model_version.split(":")[1])
    loaded = EmbeddingHeadSentiment.load(path)
    x, _ = _clusters(seed=2)
    np.testing.assert_array_equal(
        loaded.predict_proba(["t"] * len(x), x), head.predict_proba(["t"] * len(x), x)
    )
    assert loaded.model_version == head.model_version
    assert loaded.metadata == head.metadata


def test_model_version_tracks_weights_not_notes(head: EmbeddingHeadSentiment) -> None:
    changed = head.coef.copy()
    changed[0, 0] += 1e-6
    other = EmbeddingHeadSentiment(changed, head.intercept, embedder_id="fake:8")
    assert other.model_version != head.model_version
    renamed = EmbeddingHeadSentiment(head.coef, head.intercept, embedder_id="other")
    assert renamed.model_version != head.model_version
    noted = EmbeddingHeadSentiment(
        head.coef, head.intercept, embedder_id="fake:8", metadata={"note": "x"}
    )
    assert noted.model_version == head.model_version


def test_tampered_artifact_is_rejected(head: EmbeddingHeadSentiment, tmp_path: Path) -> None:
    data = head.to_dict()
    data["intercept"][0] += 1.0
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="sha256"):
        EmbeddingHeadSentiment.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="format"):
        EmbeddingHeadSentiment.from_dict({"format": "pickle"})


def test_predict_proba_requires_matching_embeddings(head: EmbeddingHeadSentiment) -> None:
    with pytest.raises(ValueError, match="pass embeddings"):
        head.predict_proba(["a"])
    with pytest.raises(ValueError, match="1 texts but 2"):
        head.predict_proba(["a"], np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"\(n, 8\)"):
        head.predict_proba(["a"], np.zeros((1, 5)))
    assert head.predict_proba([], np.zeros((0, 8))).shape == (0, 3)


def test_fit_needs_all_labels() -> None:
    x, y = _clusters()
    with pytest.raises(ValueError, match="neutral"):
        EmbeddingHeadSentiment.fit(x[:40], ["negative"] * 20 + ["positive"] * 20, embedder_id="f")


def test_vader_baseline_thresholds() -> None:
    vader = VaderSentiment()
    assert isinstance(vader, SentimentModel) and vader.model_version == "vader-nltk-1.0.0"
    texts = ["I love this, it is wonderful!", "This is terrible and I hate it.", "The box is blue."]
    proba = vader.predict_proba(texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert vader.predict(texts) == ["positive", "negative", "neutral"]
    assert list(np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)]) == vader.predict(texts)
    edge = np.array(SENTIMENT_LABELS)[compound_to_proba(np.array([0.05, 0.0499, -0.05])).argmax(1)]
    assert list(edge) == ["positive", "neutral", "negative"]


def test_scores_and_binary_helpers() -> None:
    s = scores(["negative", "positive", "positive"], ["negative", "positive", "negative"])
    assert s["accuracy"] == pytest.approx(0.6667) and set(s["per_class_f1"]) == {
        "negative",
        "positive",
    }
    proba = np.array([[0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    assert list(binary_from_proba(proba, SENTIMENT_LABELS)) == ["negative", "positive"]


class _WordEmbedder:
    """Bag of sentiment words: enough signal for a linear head on synthetic data."""

    model_id = "fake-words"
    vocab = ("good", "great", "좋아", "bad", "awful", "싫어", "okay", "보통", "filler")
    dim = len(vocab)

    def embed(self, texts: Sequence[str], on_progress: object = None) -> np.ndarray:
        x = np.array([[t.split().count(w) for w in self.vocab] for t in texts], dtype=np.float32)
        x[:, -1] += 0.1
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def _synthetic_data() -> pd.DataFrame:
    rows = []
    words = {
        "ko": {"positive": "좋아", "negative": "싫어", "neutral": "보통"},
        "en": {"positive": "great", "negative": "awful", "neutral": "okay"},
    }
    ratings = {"positive": (9.0, 1.0, 2.0), "negative": (2.0, 0.0, -2.0), "neutral": (6.0, 0, 0.0)}
    for i in range(30):
        for label in SENTIMENT_LABELS:
            rows.append(
                (f"{words['ko'][label]} filler {i}", label, "ko", "nsmc", ratings[label][0])
            )
            if label != "neutral":
                rows.append(
                    (f"{words['en'][label]} {i}", label, "en", "uci_yelp", ratings[label][1])
                )
            rows.append(
                (f"{words['en'][label]} tweet {i}", label, "en", "vader_tweets", ratings[label][2])
            )
    return pd.DataFrame(rows, columns=["text", "label", "language", "source", "rating"])


def test_train_and_evaluate_on_synthetic_data() -> None:
    data = _synthetic_data()
    result = train_sentiment_head(_WordEmbedder(), data, seed=1, dev_fraction=0.25)
    assert not set(result.train_idx) & set(result.dev_idx)
    assert len(result.train_idx) + len(result.dev_idx) == len(data)
    m = result.metrics
    assert m["head"]["overall"]["accuracy"] == 1.0
    assert set(m["head"]["by_language"]) == {"ko", "en"}
    assert m["head"]["nsmc_binary_accuracy"] == 1.0 and m["head"]["uci_binary_accuracy"] == 1.0
    assert m["majority"]["overall"]["accuracy"] < 0.5
    assert set(m["vader"]["by_language"]) == {"en"} and "nsmc_binary_accuracy" not in m["vader"]
    assert result.head.embedder_id == "fake-words"
    assert result.head.metadata["split"]["n_dev"] == len(result.dev_idx)
    assert result.head.metadata["dev_metrics"]["head"]["ko"]["accuracy"] == 1.0


@pytest.mark.slow
def test_committed_head_beats_baselines_on_held_out_real_data() -> None:
    from nlp.embedders import get_embedder
    from nlp.sentiment.data import (
        fingerprint_texts,
        load_sentiment_data,
        resolve_data_dir,
        split_train_dev,
    )

    data_dir = resolve_data_dir()
    if not (data_dir / "nsmc").is_dir():
        pytest.skip(f"shared data not found at {data_dir} (set VOCFLOW_SHARED_DATA)")
    head = EmbeddingHeadSentiment.load(ARTIFACT)
    assert ARTIFACT.stat().st_size < 200_000
    meta = head.metadata
    data = load_sentiment_data(
        data_dir, max_per_source=meta["max_per_source"], seed=meta["sampling_seed"]
    )
    split = meta["split"]
    train_idx, dev_idx = split_train_dev(
        data, seed=split["seed"], dev_fraction=split["dev_fraction"]
    )
    train, dev = data.iloc[train_idx], data.iloc[dev_idx]
    # Proves the rows below are the ones held out when the artifact was trained.
    assert fingerprint_texts(train["text"].tolist()) == split["train_sha256"], (
        "data loading or splitting changed since the head was trained: retrain it"
    )
    assert not set(dev["text"]) & set(train["text"])
    sample = pd.concat(
        [dev[dev["language"] == lang].sample(n=200, random_state=0) for lang in ("ko", "en")]
    )
    embedder = get_embedder(meta["embedder_name"])
    assert embedder.model_id == head.embedder_id
    texts = sample["text"].tolist()
    proba = head.predict_proba(texts, embedder.embed(texts))
    pred = np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)]
    vader_pred = np.array(VaderSentiment().predict(texts))
    majority = train.groupby("language")["label"].agg(lambda s: s.value_counts().idxmax())
    for lang in ("ko", "en"):
        rows = (sample["language"] == lang).to_numpy()
        gold = sample["label"][rows].tolist()
        ours = scores(gold, pred[rows])
        base = scores(gold, [majority[lang]] * len(gold))
        # Macro-F1 is the yardstick on skewed 3-class data (majority scores ~0.25 on it).
        assert ours["macro_f1"] > base["macro_f1"] + 0.2, (lang, ours, base)
        if lang == "en":
            assert ours["accuracy"] > base["accuracy"] + 0.1, (lang, ours, base)
            assert ours["macro_f1"] > scores(gold, vader_pred[rows])["macro_f1"], ours
    # Korean 3-class accuracy is not asserted: balanced class weights trade it for recall of
    # negative/neutral on the 64 %-positive NSMC mix (see the model card). The binary NSMC
    # benchmark (1-4 vs 9-10) must beat always-positive, though.
    ko = (sample["source"] == "nsmc").to_numpy() & (
        (sample["rating"] <= 4) | (sample["rating"] >= 9)
    ).to_numpy()
    binary_gold = np.where(sample["rating"][ko] >= 9, "positive", "negative")
    binary_pred = binary_from_proba(proba[ko], SENTIMENT_LABELS)
    always_positive = float(np.mean(binary_gold == "positive"))
    assert float(np.mean(binary_pred == binary_gold)) > always_positive + 0.03
