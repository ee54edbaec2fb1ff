"""Report outputs: metrics, theme ranking and renderers (HTML, Markdown, tables, bundle).

Pure logic and pure renderers; only :mod:`outputs.bundle` writes files.
"""

from outputs.analytics import AnalysisOptions
from outputs.bundle import write_bundle
from outputs.did import LoggedAction
from outputs.html import render_html
from outputs.markdown import render_markdown
from outputs.ranking import rank_themes, split_pain_points_and_strengths, strengths
from outputs.report import (
    Kpis,
    Quote,
    Report,
    ThemeInfo,
    ThemeStats,
    build_kpis,
    build_report,
)
from outputs.tables import pain_points_frame

__all__ = [
    "AnalysisOptions",
    "Kpis",
    "LoggedAction",
    "Quote",
    "Report",
    "ThemeInfo",
    "ThemeStats",
    "build_kpis",
    "build_report",
    "pain_points_frame",
    "rank_themes",
    "render_html",
    "render_markdown",
    "split_pain_points_and_strengths",
    "strengths",
    "write_bundle",
]
