"""Calibrating sentiment on the customer's own rated items, and the adoption rule.

Rated items are stored items with a score (NPS, CSAT, stars) and text. Ratings become labels
through ``CalibrationSettings.rating_maps`` (default: NPS 0-4 negative, 5-7 neutral, 8-10
positive, the same bands as the NSMC training data; CSAT and stars 1-2 / 3 / 4-5; CES is not
mapped because its direction differs between survey versions).

Split: by time. The newest ``holdout_share`` of rated items (by ``created_at``) is held out;
the adapter (``nlp.sentiment.calibrate``) is fitted on the older ones. Before/after figures are
the base and the calibrated model on the held-out items, and the calibration is **adopted only
if** its macro-F1 there beats the base model's by at least ``min_gain``. The adopted adapter is
the one evaluated (fitted on the older items only), so the reported "after" describes it.
Every attempt is logged in the ``sentiment_calibrations`` table (created here).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp.protocols import SENTIMENT_LABELS, Embedder, SentimentModel
from nlp.registry import build_sentiment
from nlp.sentiment.calibrate import CalibratedSentiment, fit_adapter
from nlp.sentiment.eval import map_label, parse_label_map
from nlp.sentiment.metrics import expected_calibration_error, scores
from vocflow.settings import CalibrationSettings, Settings
from vocflow.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS sentiment_calibrations (
    created_at TIMESTAMPTZ NOT NULL,
    base_model_version VARCHAR NOT NULL,
    model_version VARCHAR,
    n_rated INTEGER NOT NULL,
    adopted BOOLEAN NOT NULL,
    report JSON NOT NULL
);
"""


@dataclass
class CalibrationReport:
    """Outcome of one calibration attempt.

    Attributes:
        base_model_version: The model that was calibrated.
        n_rated: Rated items with a mapped label.
        n_train: Older items the adapter was fitted on.
        n_holdout: Newest items held out.
        split_at: ``created_at`` of the first held-out item (ISO).
        before: Base model on the held-out items (accuracy, macro-F1, per-class F1, ECE).
        after: Calibrated model on the same items.
        adopted: Whether the calibrated model is now used.
        reason: Why it was (not) adopted.
        model_version: Version of the calibrated model.
        artifact: Where the adopted adapter was written.
        notes: Fit notes (C search).
    """

    base_model_version: str
    n_rated: int
    n_train: int = 0
    n_holdout: int = 0
    split_at: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    adopted: bool = False
    reason: str = ""
    model_version: str | None = None
    artifact: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def rated_items(store: Store, rating_maps: dict[str, str]) -> pd.DataFrame:
    """Stored items whose score maps to a label, oldest first.

    Args:
        store: The store.
        rating_maps: Score type -> map spec (``nlp.sentiment.eval.parse_label_map``).

    Returns:
        Items (``item_key, created_at, language, text_clean, text_hash, score, score_type``)
        plus ``gold``.
    """
    frame = store.con.execute(
        "SELECT item_key, created_at, language, text_clean, text_hash, score, score_type "
        "FROM items WHERE score IS NOT NULL AND score_type IS NOT NULL AND text_clean <> '' "
        "ORDER BY created_at, item_key"
    ).df()
    rules = {kind: parse_label_map(spec) for kind, spec in rating_maps.items()}
    gold = [
        map_label(score, rules[kind]) if kind in rules else None
        for score, kind in zip(frame["score"], frame["score_type"], strict=True)
    ]
    frame["gold"] = gold
    return frame[frame["gold"].notna()].reset_index(drop=True)


def _figures(gold: list[str], proba: np.ndarray) -> dict[str, Any]:
    pred = np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)].tolist()
    out = scores(gold, pred)
    out["ece"] = expected_calibration_error(proba, gold)
    return out


def calibrate_from_store(
    store: Store,
    base: SentimentModel,
    embedder: Embedder,
    settings: CalibrationSettings,
    artifact: Path,
    seed: int = 13,
) -> CalibrationReport:
    """Fits, evaluates and (if better) adopts an adapter on the store's rated items.

    Args:
        store: Store with rated items (their embeddings are computed and cached if missing).
        base: The configured base model.
        embedder: The pipeline's embedder.
        settings: Calibration settings.
        artifact: Where to write the adopted adapter (an existing one is replaced, or
            removed when the new attempt is not adopted, so a stale adapter never lingers).
        seed: Seed of the adapter fit.

    Returns:
        The report (also logged in ``sentiment_calibrations``).
    """
    from vocflow.analysis import embed_items

    rated = rated_items(store, settings.rating_maps)
    report = CalibrationReport(base.model_version, len(rated))
    if len(rated) < settings.min_rated_items:
        report.reason = f"{len(rated)} rated items < min_rated_items {settings.min_rated_items}"
        return _log(store, report)
    n_holdout = max(1, int(round(len(rated) * settings.holdout_share)))
    train, holdout = rated.iloc[:-n_holdout], rated.iloc[-n_holdout:]
    report.n_train, report.n_holdout = len(train), len(holdout)
    report.split_at = pd.Timestamp(holdout["created_at"].iloc[0]).isoformat()
    vectors, _ = embed_items(store, embedder, rated)
    texts = rated["text_clean"].tolist()
    base_proba = base.predict_proba(texts, vectors if base.needs_embeddings else None)
    n_train = len(train)
    try:
        adapter, notes, terms = fit_adapter(
            base_proba[:n_train], vectors[:n_train], train["gold"].tolist(),
            texts=texts[:n_train], seed=seed,
        )  # fmt: skip
    except ValueError as error:
        report.reason = str(error)
        return _log(store, report)
    calibrated = CalibratedSentiment(base, adapter, embedder_id=embedder.model_id, terms=terms)
    after_proba = calibrated.predict_proba(texts[n_train:], vectors[n_train:])
    gold = holdout["gold"].tolist()
    report.before = _figures(gold, base_proba[n_train:])
    report.after = _figures(gold, after_proba)
    report.notes = notes
    report.model_version = calibrated.model_version
    gain = report.after["macro_f1"] - report.before["macro_f1"]
    report.adopted = bool(gain >= settings.min_gain)
    report.reason = (
        f"held-out macro-F1 {report.before['macro_f1']:.3f} -> {report.after['macro_f1']:.3f} "
        f"({gain:+.3f}; adoption needs >= {settings.min_gain:+.3f})"
    )
    if report.adopted:
        calibrated.metadata = asdict(report)
        report.artifact = str(calibrated.save(artifact))
    elif artifact.is_file():
        artifact.unlink()
    return _log(store, report)


def _log(store: Store, report: CalibrationReport) -> CalibrationReport:
    store.con.execute(_DDL)
    store.con.execute(
        "INSERT INTO sentiment_calibrations VALUES (?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC),
            report.base_model_version,
            report.model_version,
            report.n_rated,
            report.adopted,
            json.dumps(asdict(report), default=str),
        ],
    )
    return report


def should_calibrate(store: Store, base_model_version: str, settings: CalibrationSettings) -> bool:
    """Whether the flow should attempt a calibration now.

    True when auto-calibration is on, at least ``min_rated_items`` rated items exist, and
    either no attempt was made for this base model or the rated items grew by ``min_growth``
    since the last one.
    """
    if not settings.auto:
        return False
    n_rated = len(rated_items(store, settings.rating_maps))
    if n_rated < settings.min_rated_items:
        return False
    store.con.execute(_DDL)
    last = store.con.execute(
        # Attempts that stopped for too few items (manual runs) do not count.
        "SELECT n_rated FROM sentiment_calibrations WHERE base_model_version = ? "
        "AND n_rated >= ? ORDER BY created_at DESC LIMIT 1",
        [base_model_version, settings.min_rated_items],
    ).fetchall()
    return not last or n_rated >= int(last[0][0]) * (1.0 + settings.min_growth)


def with_calibration(
    settings: Settings, base: SentimentModel, log: Callable[[str], None] | None = None
) -> SentimentModel:
    """Wraps ``base`` in the adopted calibration, if there is one for it.

    An adapter written for another base model version (the base was retrained or swapped) is
    ignored with a log line.

    Args:
        settings: Settings (``sentiment.calibration.artifact``).
        base: The configured base model.
        log: Receives a line about the calibration in use or ignored.

    Returns:
        The model to classify with.
    """
    path = settings.resolve(settings.sentiment.calibration.artifact)
    if not path.is_file():
        return base
    try:
        model = CalibratedSentiment.load(path, base)
    except (ValueError, KeyError) as error:
        if log is not None:
            log(f"calibration {path} not used: {error}")
        return base
    if log is not None:
        log(f"using calibration {model.model_version} on {base.model_version}")
    return model


def build_configured_sentiment(
    settings: Settings, log: Callable[[str], None] | None = None
) -> SentimentModel:
    """The configured sentiment model with its adopted calibration (see ``with_calibration``)."""
    base = build_sentiment(settings.sentiment.name, settings.sentiment.options)
    return with_calibration(settings, base, log)


def auto_calibrate(
    store: Store,
    settings: Settings,
    embedder: Embedder,
    base: SentimentModel,
    log: Callable[[str], None] | None = None,
) -> CalibrationReport | None:
    """The flow's hook: calibrates ``base`` when :func:`should_calibrate` says so.

    Args:
        store: The store.
        settings: Settings.
        embedder: The pipeline's embedder.
        base: The configured base model.
        log: Receives one summary line.

    Returns:
        The report of the attempt, or None when none was due.
    """
    calibration = settings.sentiment.calibration
    if not should_calibrate(store, base.model_version, calibration):
        return None
    report = calibrate_from_store(
        store, base, embedder, calibration, settings.resolve(calibration.artifact)
    )
    if log is not None:
        log(f"sentiment calibration: adopted={report.adopted}; {report.reason}")
    return report
