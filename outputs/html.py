"""Render a :class:`~outputs.report.Report` as one self-contained HTML file.

The page has inline CSS, inline SVG charts (``outputs.charts``, drawn by matplotlib) and no
scripts or remote resources, so it can be mailed, attached to a ticket, printed or opened
offline. Customer text is untrusted: Jinja2 autoescaping escapes every value, quote links are
kept only for http(s) URLs, and the only markup passed through unescaped is the checked chart
SVG.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from outputs.charts import impact_chart_svg, sparkline_svg
from outputs.history import Changes
from outputs.markdown import fmt_did, fmt_primary
from outputs.report import Report, ThemeStats, fmt_impact, fmt_signed
from outputs.scoring import primary_impact
from outputs.series import sparkline

_SAFE_SCHEMES = frozenset({"http", "https"})
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


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


_MAX_HIGHLIGHTS = 3


def lineage_badges(report: Report, theme: ThemeStats) -> list[tuple[str, str]]:
    """Badges for what happened to a theme since the last run.

    Args:
        report: The report (its ``theme_changes`` name the themes merged into this one).
        theme: The theme.

    Returns:
        ``(event, explanation)`` pairs: "new", "grew", "shrank" or "split" from the theme's
        own lineage, plus "merged" when known themes were folded into it; empty when it is
        unchanged or there is no lineage.
    """
    badges: list[tuple[str, str]] = []
    own = theme.lineage or {}
    event = str(own.get("event") or "")
    related = ", ".join(str(r.get("label", "")) for r in own.get("related") or [])
    if event == "new":
        badges.append(("new", f"new theme{': formed from ' + related if related else ''}"))
    elif event in ("grew", "shrank"):
        sizes = f"{own.get('size_before')} → {own.get('size_after')} items"
        badges.append((event, f"{event} since the last run ({sizes})"))
    elif event == "split":
        badges.append(("split", f"split off from {related or 'a known theme'}"))
    absorbed = [
        str(c.get("label", ""))
        for c in report.theme_changes
        if c.get("event") == "merged"
        and any(r.get("theme_id") == theme.theme_id for r in c.get("related") or [])
    ]
    if absorbed:
        badges.append(("merged", "merged in: " + ", ".join(absorbed)))
    return badges


def segment_highlights(report: Report, theme: ThemeStats) -> list[str]:
    """Segments where the theme stands out, most telling first (at most three).

    Args:
        report: The report (its segment views list the most harmful themes per level).
        theme: The theme.

    Returns:
        The over-represented segment (lift and BH q) and the segment levels where the theme
        is among the most harmful, with its impact there.
    """
    lines = [f"over-represented in {theme.top_segment.label()}"] if theme.top_segment else []
    for view in report.segments:
        column = view.column.removeprefix("segment.")
        for level in view.levels:
            for x in level.top_themes:
                if x.theme_id == theme.theme_id and x.impact is not None:
                    lines.append(f"{column} = {level.level}: impact {fmt_signed(x.impact)} there")
    return lines[:_MAX_HIGHLIGHTS]


def _sparklines(themes: list[ThemeStats]) -> dict[int, Markup]:
    charts = {t.theme_id: sparkline_svg(t.weekly_volume, f"spark-{t.theme_id}") for t in themes}
    return {k: v for k, v in charts.items() if v is not None}


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


def render_html(report: Report, changes: Changes | None = None) -> str:
    """Render the report as a self-contained HTML page.

    Args:
        report: The report to render.
        changes: Change since the previous run of the same scope (``outputs.history``);
            None on a first run.

    Returns:
        The HTML document (UTF-8 text, no external resources).
    """
    template = _environment().get_template("report.html.j2")
    top_n = max(report.top_n, 0)
    return template.render(
        report=report,
        kpis=report.kpis,
        changes=changes,
        top=report.pain_points[:top_n],
        rest=report.pain_points[top_n:],
        strength_ids={s.theme_id for s in report.strengths},
        chart=impact_chart_svg(report.pain_points),
        sparks=_sparklines(report.pain_points),
        badges={t.theme_id: lineage_badges(report, t) for t in report.pain_points},
        highlights={t.theme_id: segment_highlights(report, t) for t in report.pain_points},
        run_rows=_flatten(report.run_summary),
    )
