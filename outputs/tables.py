"""Tabular views of a report, for CSV/Parquet exports and warehouse tables."""

from __future__ import annotations

import pandas as pd

from outputs.report import Report

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
)
_INT_COLUMNS = ("rank", "theme_id", "volume", "n_scored")
_TEXT_COLUMNS = ("label", "keywords", "example_quote", "rank_reason")


def pain_points_frame(report: Report) -> pd.DataFrame:
    """One row per ranked theme, in rank order.

    Args:
        report: The report.

    Returns:
        DataFrame with columns ``PAIN_POINT_COLUMNS``: integers as int64, figures as
        float64 (NaN where the report has None), keywords joined by "; ".
    """
    records = [
        {
            **t.model_dump(include=set(PAIN_POINT_COLUMNS) - {"keywords"}),
            "keywords": "; ".join(t.keywords),
        }
        for t in report.pain_points
    ]
    frame = pd.DataFrame.from_records(records, columns=list(PAIN_POINT_COLUMNS))
    # Fixed dtypes keep the Parquet schema identical between runs, even for an empty run
    # or a column that is all None.
    for column in PAIN_POINT_COLUMNS:
        if column in _INT_COLUMNS:
            frame[column] = frame[column].astype("int64")
        elif column in _TEXT_COLUMNS:
            frame[column] = frame[column].astype("object").fillna("").astype(str)
        else:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return frame
