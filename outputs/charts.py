"""Report charts drawn offline by matplotlib and inlined in the HTML page as SVG.

Text stays text (``svg.fonttype = "none"``), so the browser draws labels with the page's
font stack and Korean renders wherever the page does. The SVG is post-processed for
inlining: no XML prolog, DOCTYPE or metadata, ids prefixed per chart so several charts can
share a page, and an allow-list check that fails loudly if anything active (scripts, event
handlers, external references) ever appears. Theme labels are customer-derived text;
matplotlib's SVG writer escapes them, and the check above re-parses the result.
"""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET  # noqa: S405  (parses our own output, never untrusted XML)
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import matplotlib as mpl
from markupsafe import Markup
from matplotlib import font_manager
from matplotlib.figure import Figure

from outputs.report import ThemeStats

_SVG_NS = "{http://www.w3.org/2000/svg}"
_ALLOWED_TAGS = frozenset(
    {"svg", "g", "defs", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
     "text", "tspan", "title", "desc", "clipPath", "use", "style"}
)  # fmt: skip
# Fonts tried for chart text (layout only: the browser renders with the page font).
_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "DejaVu Sans")
_TONE_COLOURS = {"bad": "#b42318", "good": "#067647", "unclear": "#667085"}
_LABEL_CHARS = 34
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>", re.S)
_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_MISSING_GLYPH = r"Glyph \d+ .* missing from font"


@dataclass(frozen=True)
class ImpactRow:
    """One theme's whisker in the impact chart (values in NPS points)."""

    label: str
    low: float
    high: float
    point: float
    tone: str


@cache
def _installed_fonts() -> list[str]:
    names = {f.name for f in font_manager.fontManager.ttflist}
    # Only fonts that exist: matplotlib logs a warning per missing family on every draw.
    return [f for f in _FONTS if f in names] or ["DejaVu Sans"]


@contextmanager
def _style(salt: str) -> Iterator[None]:
    # An inline literal: matplotlib types rc_context with the literal names of its settings.
    with mpl.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": salt,  # deterministic ids: the same report renders the same bytes
            "text.parse_math": False,  # a "$" in a label is text, not TeX
            "font.family": _installed_fonts(),
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#d0d5dd",
            "xtick.color": "#1d2939",
            "ytick.color": "#1d2939",
        }
    ):
        yield


def _check(svg: str) -> None:
    # Defence in depth: the chart holds customer-derived labels and is inlined unescaped.
    root = ET.fromstring(svg)  # noqa: S314  (our own, just-written SVG)
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag not in _ALLOWED_TAGS:
            raise ValueError(f"unexpected SVG element <{tag}>")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise ValueError(f"event handler attribute {name!r} in chart SVG")
            if local == "href" and not value.startswith("#"):
                raise ValueError(f"external reference {value!r} in chart SVG")
            if "url(" in value and not re.fullmatch(r"[^(]*url\(#[\w-]+\)[^(]*", value):
                raise ValueError(f"external url() in chart SVG: {value!r}")


def _to_svg(fig: Figure, chart_id: str, label: str) -> Markup:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Text stays text and the browser draws it: on a host without a CJK font matplotlib
        # would warn once per Hangul syllable per chart (hundreds of lines in a run's log)
        # about glyphs it never has to draw.
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.05, transparent=True)
    svg = _PROLOG.sub("", buffer.getvalue())
    _check(svg)
    svg = _XMLNS.sub("", svg).replace("xlink:href=", "href=")
    # Prefix ids and their references so two charts on one page never share an id.
    svg = re.sub(r'id="([^"]+)"', rf'id="{chart_id}-\1"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', rf"\g<1>{chart_id}-\g<2>", svg)
    svg = svg.replace("<svg ", f'<svg class="chart" role="img" aria-label="{_attr(label)}" ', 1)
    return Markup(svg.strip())  # noqa: S704  (checked above; every text node escaped by matplotlib)


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1].rstrip() + "…"


def impact_rows(themes: Sequence[ThemeStats]) -> list[ImpactRow]:
    """Whiskers of the themes that have an NPS impact interval, in rank order.

    Args:
        themes: Ranked themes.

    Returns:
        One row per theme with an interval; ``tone`` is "bad" when the whole interval is
        below 0, "good" when above 0, else "unclear".
    """
    rows = []
    for t in themes:
        if not t.has_interval or t.nps_impact is None:
            continue
        low, high = float(t.impact_ci_low or 0.0), float(t.impact_ci_high or 0.0)
        rows.append(
            ImpactRow(
                label=_short(f"{t.rank}. {t.label}"),
                low=low,
                high=high,
                point=float(t.nps_impact),
                tone="bad" if high < 0 else "good" if low > 0 else "unclear",
            )
        )
    return rows


def impact_chart_svg(themes: Sequence[ThemeStats], chart_id: str = "impact") -> Markup | None:
    """Horizontal 95 % interval per theme around a zero line, worst rank on top.

    Args:
        themes: Ranked themes; only those with an impact interval are drawn.
        chart_id: Prefix of the SVG's element ids (unique per page).

    Returns:
        The inline SVG, or None when no theme has an interval.
    """
    rows = impact_rows(themes)
    if not rows:
        return None
    bound = max(max(abs(r.low), abs(r.high), abs(r.point)) for r in rows)
    bound = max(1.0, bound * 1.08)
    with _style(chart_id):
        fig = Figure(figsize=(7.6, 0.3 * len(rows) + 0.7))
        ax = fig.add_subplot()
        ys = list(range(len(rows)))
        for y, row in zip(ys, rows, strict=True):
            colour = _TONE_COLOURS[row.tone]
            ax.hlines(y, row.low, row.high, colors=colour, linewidth=6, alpha=0.35)
            ax.plot([row.point], [y], "o", color=colour, markersize=6)
        ax.axvline(0.0, color="#1d2939", linewidth=1.2)
        ax.set_xlim(-bound, bound)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # rank 1 on top
        ax.set_yticks(ys, [r.label for r in rows])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#eaecf0", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.set_xlabel("NPS impact (points), 95 % interval")
        svg = _to_svg(fig, chart_id, "NPS impact with 95% intervals per theme")
    return svg


def sparkline_svg(values: Sequence[int], chart_id: str) -> Markup | None:
    """A small weekly-volume line (oldest week first) with the last week marked.

    Args:
        values: Weekly counts.
        chart_id: Prefix of the SVG's element ids (unique per page).

    Returns:
        The inline SVG, or None for fewer than two weeks.
    """
    if len(values) < 2:
        return None
    top = max(max(values), 1)
    with _style(chart_id):
        fig = Figure(figsize=(1.4, 0.32))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        xs = list(range(len(values)))
        ax.fill_between(xs, values, color="#98a2b3", alpha=0.25, linewidth=0)
        ax.plot(xs, values, color="#475467", linewidth=1.2)
        ax.plot([xs[-1]], [values[-1]], "o", color="#1d2939", markersize=2.5)
        ax.set_xlim(-0.3, len(values) - 0.7)
        ax.set_ylim(-0.05 * top, top * 1.15)
        ax.set_axis_off()
        weeks = ", ".join(str(v) for v in values)
        svg = _to_svg(fig, chart_id, f"Items per week, oldest first: {weeks}")
    return svg
