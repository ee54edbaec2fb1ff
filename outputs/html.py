"""Render a :class:`~outputs.report.Report` as one self-contained HTML file.

The page has inline CSS, an inline SVG chart and no scripts or remote resources, so it can
be mailed, attached to a ticket or opened offline. Customer text is untrusted: Jinja2
autoescaping escapes every value, and quote links are kept only for http(s) URLs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from outputs.markdown import fmt_did, fmt_primary
from outputs.report import Report, ThemeStats, fmt_impact, fmt_signed
from outputs.scoring import primary_impact
from outputs.series import sparkline

_SAFE_SCHEMES = frozenset({"http", "https"})
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_CHART_WIDTH = 760
_CHART_LABEL_WIDTH = 250
_CHART_ROW = 22
_CHART_TOP = 30
_LABEL_CHARS = 34


@dataclass(frozen=True)
class ChartRow:
    """Geometry of one theme's whisker in the impact chart (SVG user units)."""

    y: float
    x_low: float
    x_high: float
    x_point: float
    label: str
    tooltip: str
    tone: str


@dataclass(frozen=True)
class Chart:
    """Geometry of the impact chart; every number is computed here, never in the template."""

    width: int
    height: float
    plot_left: float
    plot_right: float
    x_zero: float
    ticks: list[tuple[float, str]]
    rows: list[ChartRow]


def safe_url(url: str | None) -> str | None:
    """Return the URL when it is an absolute http(s) link, else None.

    ``urlsplit`` drops the tabs, newlines and leading spaces browsers also ignore, so
    a "javascript:" hidden behind a leading space or an embedded tab is still caught.

    Args:
        url: A URL from the item data (untrusted).

    Returns:
        The URL unchanged, or None for anything that must not become a link.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        return None
    return url.strip()


def lang_tag(language: str) -> str | None:
    """Return a BCP 47-looking tag for a ``lang`` attribute, None for "und" or junk.

    Args:
        language: Language code from the item data.

    Returns:
        The tag, or None when it should be omitted.
    """
    if language == "und" or not _LANG_TAG.match(language):
        return None
    return language


def _nice_bound(value: float) -> float:
    # Round the axis end up to 1, 2 or 5 x 10^k so tick labels stay short.
    value = max(value, 1.0)
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def impact_chart(themes: list[ThemeStats]) -> Chart | None:
    """Lay out a horizontal whisker per theme around a zero line.

    Args:
        themes: Ranked themes; only those with an impact interval are drawn.

    Returns:
        The chart geometry, or None when no theme has an interval.
    """
    drawn = [t for t in themes if t.has_interval and t.nps_impact is not None]
    if not drawn:
        return None
    extent = max(
        max(abs(t.impact_ci_low or 0.0), abs(t.impact_ci_high or 0.0), abs(t.nps_impact or 0.0))
        for t in drawn
    )
    bound = _nice_bound(extent)
    left, right = float(_CHART_LABEL_WIDTH + 12), float(_CHART_WIDTH - 16)

    def x(value: float) -> float:
        return round(left + (value + bound) / (2 * bound) * (right - left), 1)

    rows = []
    for i, t in enumerate(drawn):
        low, high = t.impact_ci_low or 0.0, t.impact_ci_high or 0.0
        label = f"{t.rank}. {t.label}"
        if len(label) > _LABEL_CHARS:
            label = label[: _LABEL_CHARS - 1].rstrip() + "…"
        rows.append(
            ChartRow(
                y=_CHART_TOP + i * _CHART_ROW + _CHART_ROW / 2,
                x_low=x(low),
                x_high=max(x(high), x(low) + 1.0),
                x_point=x(t.nps_impact or 0.0),
                label=label,
                tooltip=f"{t.label}: NPS impact {fmt_impact(t)}",
                tone="bad" if high < 0 else "good" if low > 0 else "unclear",
            )
        )
    # Half of a 5 x 10^k bound is not a whole number (2.5): keep one decimal there.
    digits = 0 if (bound / 2).is_integer() else 1
    ticks = [
        (x(v), fmt_signed(v, digits) if v else "0")
        for v in (-bound, -bound / 2, 0.0, bound / 2, bound)
    ]
    return Chart(
        width=_CHART_WIDTH,
        height=_CHART_TOP + len(drawn) * _CHART_ROW + 8,
        plot_left=left,
        plot_right=right,
        x_zero=x(0.0),
        ticks=ticks,
        rows=rows,
    )


def _flatten(summary: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    # The run summary is opaque to us; one level of nesting per stage reads best as
    # "stage.field" rows rather than a dumped dict.
    rows: list[tuple[str, str]] = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{name}."))
        elif isinstance(value, float):
            rows.append((name, f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"))
        else:
            rows.append((name, str(value)))
    return rows


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["signed"] = fmt_signed
    env.filters["impact"] = fmt_impact
    env.filters["pct"] = lambda v, d=0: "n/a" if v is None else f"{100 * v:.{d}f}%"
    env.filters["safe_url"] = safe_url
    env.filters["primary"] = fmt_primary
    env.filters["primary_key"] = lambda t: p.key if (p := primary_impact(t)) else None
    env.filters["spark"] = lambda values: sparkline(values) if values else ""
    env.filters["did"] = fmt_did
    env.filters["lang_tag"] = lang_tag
    return env


def render_html(report: Report) -> str:
    """Render the report as a self-contained HTML page.

    Args:
        report: The report to render.

    Returns:
        The HTML document (UTF-8 text, no external resources).
    """
    template = _environment().get_template("report.html.j2")
    top_n = max(report.top_n, 0)
    return template.render(
        report=report,
        kpis=report.kpis,
        top=report.pain_points[:top_n],
        rest=report.pain_points[top_n:],
        strength_ids={s.theme_id for s in report.strengths},
        chart=impact_chart(report.pain_points),
        run_rows=_flatten(report.run_summary),
    )
