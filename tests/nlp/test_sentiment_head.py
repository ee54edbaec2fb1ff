"""Dense-only embedding head (fit, JSON round-trip, versioning; still loadable for artifacts
trained before the hybrid model) and the VADER baseline. The shipped hybrid model and its
training are tested in test_sentiment_hybrid.py."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlp.protocols import SENTIMENT_LABELS, SentimentModel  # noqa: E402
from nlp.sentiment.head import EmbeddingHeadSentiment  # noqa: E402
from nlp.sentiment.metrics import binary_from_proba, scores  # noqa: E402
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
