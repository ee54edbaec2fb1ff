"""Tabular views of a report, for CSV/Parquet exports and warehouse tables."""

from __future__ import annotations

from typing import Any

import pandas as pd

from outputs.report import Report, ThemeStats
from outputs.scoring import primary_impact

PAIN_POINT_COLUMNS: tuple[str, ...] = (
    "rank",
    "theme_id",
    "label",
    "volume",
    "share",
    "negative_share",
    "n_scored",
    "mean_score",
    "theme_nps",
    "nps_impact",
    "impact_ci_low",
    "impact_ci_high",
    "pain_score",
    "keywords",
    "example_quote",
    "rank_reason",
    # primary impact: NPS when the theme has an NPS interval, else CSAT, CES, stars
    "primary_metric",
    "primary_impact",
    "primary_ci_low",
    "primary_ci_high",
    "csat_impact",
    "csat_impact_ci_low",
    "csat_impact_ci_high",
    "ces_impact",
    "ces_impact_ci_low",
    "ces_impact_ci_high",
    "stars_impact",
    "stars_impact_ci_low",
    "stars_impact_ci_high",
    "detractor_share",
    "negative_mention_share",
    "mixed_share",
    "trend_status",
    "emerging",
    "trend_recent",
    "trend_baseline",
    "trend_expected",
    "trend_rate_ratio",
    "trend_rate_ratio_low",
    "trend_z",
    "trend_p_value",
    "weekly_volume",
    "churn_lift",
    "churn_lift_ci_low",
    "churn_lift_ci_high",
    "driver_share",
    "top_segment",
    "top_segment_lift",
    "top_segment_q",
    "score_harm",
    "score_negative",
    "score_trend",
    "score_churn",
)
_INT_COLUMNS = ("rank", "theme_id", "volume", "n_scored", "trend_recent", "trend_baseline")
_BOOL_COLUMNS = ("emerging",)
_TEXT_COLUMNS = (
    "label",
    "keywords",
    "example_quote",
    "rank_reason",
    "primary_metric",
    "trend_status",
    "weekly_volume",
    "top_segment",
)


def _extra(t: ThemeStats) -> dict[str, Any]:
    row: dict[str, Any] = {"keywords": "; ".join(t.keywords)}
    primary = primary_impact(t)
    if primary is not None:
        row.update(
            primary_metric=primary.key, primary_impact=primary.value,
            primary_ci_low=primary.ci_low, primary_ci_high=primary.ci_high,
        )  # fmt: skip
    for impact in t.impacts:
        prefix = impact.key.split("_")[0]
        if prefix in ("csat", "ces", "stars"):
            row[f"{prefix}_impact"] = impact.value
            row[f"{prefix}_impact_ci_low"] = impact.ci_low
            row[f"{prefix}_impact_ci_high"] = impact.ci_high
    row["mixed_share"] = t.sentiment_mix.get("mixed", 0.0)
    if t.trend is not None:
        tr = t.trend
        row.update(
            trend_status=tr.status, emerging=tr.emerging, trend_recent=tr.recent,
            trend_baseline=tr.baseline, trend_expected=tr.expected,
            trend_rate_ratio=tr.rate_ratio, trend_rate_ratio_low=tr.rate_ratio_low,
            trend_z=tr.z, trend_p_value=tr.p_value,
        )  # fmt: skip
    row["weekly_volume"] = ";".join(str(v) for v in t.weekly_volume)
    if t.churn is not None:
        row.update(
            churn_lift=t.churn.lift, churn_lift_ci_low=t.churn.ci_low,
            churn_lift_ci_high=t.churn.ci_high,
        )  # fmt: skip
    if t.top_segment is not None:
        row.update(
            top_segment=f"{t.top_segment.column}={t.top_segment.level}",
            top_segment_lift=t.top_segment.lift, top_segment_q=t.top_segment.q_value,
        )  # fmt: skip
    for part in ("harm", "negative", "trend", "churn"):
        row[f"score_{part}"] = t.score_components.get(part)
    return row


def pain_points_frame(report: Report) -> pd.DataFrame:
    """One row per ranked theme, in rank order.

    Args:
        report: The report.

    Returns:
        DataFrame with columns ``PAIN_POINT_COLUMNS``: integers as int64 (trend counts 0
        without trend data), ``emerging`` as bool, figures as float64 (NaN where the report
        has None), text as str ("" when absent), keywords joined by "; ", weekly volumes
        (oldest first) by ";".
    """
    base = set(ThemeStats.model_fields) & set(PAIN_POINT_COLUMNS)
    records = [
        {**t.model_dump(include=base - {"keywords"}), **_extra(t)} for t in report.pain_points
    ]
    frame = pd.DataFrame.from_records(records, columns=list(PAIN_POINT_COLUMNS))
    # Fixed dtypes keep the Parquet schema identical between runs, even for an empty run
    # or a column that is all None.
    for column in PAIN_POINT_COLUMNS:
        if column in _INT_COLUMNS:
            frame[column] = frame[column].fillna(0).astype("int64")
        elif column in _BOOL_COLUMNS:
            frame[column] = frame[column].astype("object").fillna(False).astype(bool)
        elif column in _TEXT_COLUMNS:
            frame[column] = frame[column].astype("object").fillna("").astype(str)
        else:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return frame
