"""Inputs of the pain-point analyses the flow passes to ``outputs.report.build_report``.

Keeps the flow thin: settings become :class:`~outputs.analytics.AnalysisOptions`, the store's
action log and customer status are read here, and the extra bundle tables are built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from outputs.analytics import AnalysisOptions
from outputs.did import LoggedAction
from outputs.followup import followup_frame
from outputs.report import Report
from outputs.series import theme_series
from vocflow.actions import list_actions, load_churn_status
from vocflow.settings import AnalysisSettings
from vocflow.store import Store


@dataclass(frozen=True)
class ReportInputs:
    """What ``build_report`` needs beyond the item frame and themes."""

    options: AnalysisOptions
    churned: Mapping[str, bool] = field(default_factory=dict)
    actions: list[LoggedAction] = field(default_factory=list)


def analysis_options(analysis: AnalysisSettings) -> AnalysisOptions:
    """Map the ``analysis`` settings onto the options of the analyses."""
    columns = analysis.segment_columns
    return AnalysisOptions(
        min_metric_n=analysis.min_metric_n,
        csat=analysis.csat_convention,
        ces=analysis.ces_convention,
        recent_days=analysis.trend_recent_days,
        baseline_days=analysis.trend_baseline_days,
        alert_alpha=analysis.alert_p_value,
        alert_min_count=analysis.alert_min_count,
        alert_min_lift=analysis.alert_min_lift,
        segment_columns=tuple(columns) if columns is not None else None,
        brand_column=analysis.brand_column,
        did_window_days=analysis.did_window_days,
    )


def load_report_inputs(
    analysis: AnalysisSettings, store_target: Path | str, password_block: str | None = None
) -> ReportInputs:
    """Options from settings plus the stored action log and customer status.

    Args:
        analysis: Analysis settings.
        store_target: The store (``Settings.store_target``: DuckDB file or PostgreSQL URL).
        password_block: Prefect Secret block with a PostgreSQL store's password.
    """
    with Store(store_target, password_block=password_block) as store:
        return ReportInputs(
            options=analysis_options(analysis),
            churned=load_churn_status(store),
            actions=list_actions(store),
        )


def bundle_tables(frame: pd.DataFrame, report: Report) -> dict[str, pd.DataFrame]:
    """Extra report files: daily volume and sentiment per theme, and the follow-up export.

    Args:
        frame: The per-item analysis frame.
        report: The run's report (ranks and labels).

    Returns:
        ``theme_trends.csv`` (one row per day and theme, with the label) and ``followup.csv``
        (detractor items per ranked theme: hashed customer keys and item links).
    """
    labels = {t.theme_id: t.label for t in report.pain_points}
    series = theme_series(frame, "D")
    series.insert(2, "label", series["theme_id"].map(labels).fillna(""))
    ranks = {t.theme_id: t.rank for t in report.pain_points}
    return {
        "theme_trends.csv": series,
        "followup.csv": followup_frame(frame, ranks, labels),
    }
