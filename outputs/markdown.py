"""Render a :class:`~outputs.report.Report` as Markdown for chat and wiki pages.

Customer text is untrusted: table cells escape ``|``, drop line breaks and turn ``<``,
``>``, ``&`` and brackets into entities or escapes, so a quote can neither break the table
nor inject HTML or links where the Markdown is rendered (Slack, GitHub, Confluence).
"""

from __future__ import annotations

from outputs.report import Report, ThemeStats, fmt_impact, fmt_signed

_QUOTE_CHARS = 160


def escape_cell(text: str) -> str:
    """Make untrusted text safe for one Markdown table cell.

    Args:
        text: Any text.

    Returns:
        One line with ``|``, brackets and backslashes escaped and HTML-special characters
        as entities.
    """
    text = " ".join(text.split())
    text = text.replace("\\", "\\\\").replace("&", "&amp;")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    for char in "|[]`":
        text = text.replace(char, "\\" + char)
    return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rstrip() + "…"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{escape_cell(name)} {n:,}" for name, n in counts.items()) or "none"


def _kpi_lines(report: Report) -> list[str]:
    k = report.kpis
    nps = fmt_signed(k.nps)
    if k.nps_ci is not None:
        nps += f" (95% CI {fmt_signed(k.nps_ci[0])} to {fmt_signed(k.nps_ci[1])}, n={k.n_scored})"
    mix = ", ".join(f"{_pct(v)} {s}" for s, v in k.sentiment_mix.items())
    lines = [
        f"- **Items:** {k.n_items:,} ({_pct(report.outlier_share)} in no theme)",
        f"- **NPS:** {nps}",
        f"- **Sentiment:** {mix}",
        f"- **Languages:** {_counts(k.languages)}",
        f"- **Channels:** {_counts(k.channels)}",
    ]
    lines += [f"- **{escape_cell(name)}:** {value:.1f}" for name, value in k.other_metrics.items()]
    if k.score_note:
        lines.append(f"- **Scores:** {escape_cell(k.score_note)}")
    return lines


def _row(t: ThemeStats) -> str:
    cells = [
        str(t.rank),
        escape_cell(t.label),
        str(t.volume),
        _pct(t.negative_share),
        fmt_impact(t),
        escape_cell(_short(t.example_quote)) if t.example_quote else "",
    ]
    return "| " + " | ".join(cells) + " |"


def render_markdown(report: Report) -> str:
    """Render the report summary as Markdown.

    Args:
        report: The report to render.

    Returns:
        Markdown text: KPIs, the top-N pain points table with one quote each, strengths and
        method notes.
    """
    k = report.kpis
    window = ""
    if report.window_start or report.window_end:
        start = report.window_start.date().isoformat() if report.window_start else "…"
        end = report.window_end.date().isoformat() if report.window_end else "…"
        window = f" · window {start} to {end}"
    lines = [
        f"# {escape_cell(report.title)}",
        "",
        f"Run {escape_cell(report.run_id)} · generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC{window}",
        "",
        "## Headline",
        "",
        *_kpi_lines(report),
        "",
    ]
    top = report.pain_points[: max(report.top_n, 0)]
    lines += [f"## Top {len(top)} pain points", ""]
    if top:
        lines += [
            "| # | Theme | Items | Negative | NPS impact [95% CI] | Example |",
            "|---:|---|---:|---:|---|---|",
            *(_row(t) for t in top),
        ]
        rest = len(report.pain_points) - len(top)
        if rest > 0:
            lines += ["", f"{rest} more ranked themes in the full report."]
    else:
        lines.append("No themes to rank in this window.")
    lines += ["", "## Strengths", ""]
    lines += [
        f"- {escape_cell(s.label)}: NPS impact {fmt_impact(s)}, {s.volume} items"
        for s in report.strengths
    ] or ["No theme has an impact interval entirely above 0."]
    lines += ["", "## Method", ""]
    lines += [f"- {escape_cell(note)}" for note in report.method_notes]
    if k.score_note:
        lines.append(f"- Score note: {escape_cell(k.score_note)}")
    lines += [f"- Model {escape_cell(n)}: {escape_cell(v)}" for n, v in report.models.items()]
    return "\n".join(lines) + "\n"
