"""Per-period tables of theme volume and sentiment, and the weekly sparklines of the reports."""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from outputs.trends import day_of

_SPARK = "▁▂▃▄▅▆▇█"


def theme_series(items: pd.DataFrame, freq: Literal["D", "W"] = "W") -> pd.DataFrame:
    """Volume and sentiment per theme per day or week (weeks start on Monday, UTC).

    Sentiment labels are categories: ``negative_share`` and ``positive_share`` count only those
    labels, so "mixed" or any new label lowers both without being forced into either.

    Args:
        items: Item frame with ``created_at``, ``theme_id`` and ``sentiment``.
        freq: "D" for days, "W" for weeks.

    Returns:
        Long frame ``period, theme_id, volume, share, negative_share, positive_share,
        net_sentiment`` (share = of all items in the period, outliers included), sorted.
    """
    columns = ["period", "theme_id", "volume", "share", "negative_share", "positive_share"]
    if items.empty:
        return pd.DataFrame(columns=[*columns, "net_sentiment"])
    day = day_of(items["created_at"])
    period = day - pd.to_timedelta(day.dt.weekday, unit="D") if freq == "W" else day
    frame = pd.DataFrame(
        {
            "period": period.dt.date,
            "theme_id": items["theme_id"].to_numpy(dtype=np.int64),
            "neg": (items["sentiment"] == "negative").to_numpy(dtype=float),
            "pos": (items["sentiment"] == "positive").to_numpy(dtype=float),
        }
    )
    totals = frame.groupby("period").size()
    grouped = frame[frame["theme_id"] >= 0].groupby(["period", "theme_id"])
    out = grouped.agg(
        volume=("neg", "size"), negative_share=("neg", "mean"), positive_share=("pos", "mean")
    ).reset_index()
    out["share"] = out["volume"] / out["period"].map(totals).to_numpy(dtype=float)
    out["net_sentiment"] = out["positive_share"] - out["negative_share"]
    return out[[*columns, "net_sentiment"]].sort_values(["period", "theme_id"], ignore_index=True)


def recent_weekly_counts(
    items: pd.DataFrame, theme_ids: list[int], end: date, weeks: int = 8
) -> dict[int, list[int]]:
    """Counts per theme in consecutive 7-day bins ending at ``end`` (exclusive), oldest first.

    Args:
        items: Item frame with ``created_at`` and ``theme_id``.
        theme_ids: Themes to count.
        end: Exclusive end of the last bin (the recent window's end).
        weeks: Number of bins.

    Returns:
        theme_id -> ``weeks`` counts.
    """
    days = day_of(items["created_at"]).dt.date
    age = np.array([(end - d).days for d in days], dtype=np.int64) if len(days) else np.zeros(0)
    # Day end-1 has age 1 and belongs to the last bin; ages 1..7 -> bin weeks-1.
    bins = weeks - 1 - (age - 1) // 7
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    ok = (age >= 1) & (bins >= 0)
    return {
        t: np.bincount(bins[ok & (tid == t)], minlength=weeks)[:weeks].astype(int).tolist()
        for t in theme_ids
    }


def sparkline(values: list[int]) -> str:
    """Unicode bar sparkline, scaled to the largest value (all blanks -> lowest bars)."""
    top = max(values, default=0)
    if top <= 0:
        return _SPARK[0] * len(values)
    return "".join(_SPARK[min(len(_SPARK) - 1, round(v / top * (len(_SPARK) - 1)))] for v in values)
