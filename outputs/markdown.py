"""Render a :class:`~outputs.report.Report` as Markdown for chat and wiki pages.

Customer text is untrusted: table cells escape ``|``, drop line breaks and turn ``<``,
``>``, ``&`` and brackets into entities or escapes, so a quote can neither break the table
nor inject HTML or links where the Markdown is rendered (Slack, GitHub, Confluence).
"""

from __future__ import annotations

from outputs.did import DidEstimate
from outputs.history import Changes
from outputs.report import Report, ThemeStats, fmt_impact, fmt_signed
from outputs.scoring import primary_impact
from outputs.series import sparkline

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


def _since(changes: Changes | None, key: str, digits: int = 1, unit: str = "") -> str:
    delta = changes.delta(key) if changes is not None else None
    return "" if delta is None else f" ({fmt_signed(delta, digits)}{unit} since last run)"


def _kpi_lines(report: Report, changes: Changes | None = None) -> list[str]:
    k = report.kpis
    nps = fmt_signed(k.nps)
    if k.nps_ci is not None:
        nps += f" (95% CI {fmt_signed(k.nps_ci[0])} to {fmt_signed(k.nps_ci[1])}, n={k.n_scored})"
    nps_estimate = next((m for m in k.metrics if m.key == "nps"), None)
    if nps_estimate is not None and nps_estimate.too_few:
        nps += f"; too few answers for a reliable figure (n < {nps_estimate.min_n})"
    nps += _since(changes, "nps")
    mix = ", ".join(f"{_pct(v)} {s}" for s, v in k.sentiment_mix.items())
    lines = [
        f"- **Items:** {k.n_items:,} ({_pct(report.outlier_share)} in no theme)"
        + _since(changes, "items", 0),
        f"- **NPS:** {nps}",
        f"- **Sentiment:** {mix}" + _since(changes, "negative_pct", 1, " pp negative"),
        f"- **Languages:** {_counts(k.languages)}",
        f"- **Channels:** {_counts(k.channels)}",
    ]
    lines += [
        f"- **{escape_cell(m.name)}** ({escape_cell(m.convention)}): {m.display()}"
        + _since(changes, m.key)
        for m in k.metrics
        if m.key != "nps"
    ]
    if k.score_note:
        lines.append(f"- **Scores:** {escape_cell(k.score_note)}")
    return lines


def fmt_primary(t: ThemeStats) -> str:
    """The theme's primary impact with its interval, e.g. "−4.2 NPS [−5.1, −3.3]"."""
    primary = primary_impact(t)
    if primary is None:
        return fmt_impact(t)
    low, high = fmt_signed(primary.ci_low), fmt_signed(primary.ci_high)
    return f"{fmt_signed(primary.value)} {primary.name} [{low}, {high}]"


def fmt_trend(t: ThemeStats) -> str:
    """Trend cell: sparkline of weekly volume plus the status when it is not steady."""
    spark = sparkline(t.weekly_volume) if t.weekly_volume else ""
    shown = ("new", "spike", "falling")
    status = t.trend.status if t.trend is not None and t.trend.status in shown else ""
    return " ".join(x for x in (spark, status) if x)


def _row(t: ThemeStats) -> str:
    cells = [
        str(t.rank),
        escape_cell(t.label),
        str(t.volume),
        _pct(t.negative_share),
        fmt_primary(t),
        fmt_trend(t),
        escape_cell(_short(t.example_quote)) if t.example_quote else "",
    ]
    return "| " + " | ".join(cells) + " |"


def _emerging_lines(report: Report) -> list[str]:
    window = report.trend_window
    if window is None:
        return []
    lines = ["## Emerging issues", ""]
    if not window.has_baseline:
        return [*lines, "No baseline window before the recent days: nothing can be flagged."]
    found = report.emerging
    if not found:
        return [*lines, f"No theme is new or spiking in the last {window.recent_days} days."]
    for t in found:
        trend = t.trend.describe(window.recent_days) if t.trend else ""
        lines.append(f"- **{escape_cell(t.label)}** (rank {t.rank}): {escape_cell(trend)}")
    return lines


def _driver_lines(report: Report) -> list[str]:
    d = report.drivers
    if d is None or not d.drivers:
        return []
    lines = [
        "## Key drivers",
        "",
        f"Shapley split of R² = {d.r2:.3f} (OLS of the per-answer {escape_cell(d.metric_key)} "
        f"value on theme indicators, n={d.n}); sign = direction of the theme's coefficient.",
        "",
        "| Theme | Signed share of R² | % of R² | Coefficient |",
        "|---|---:|---:|---:|",
    ]
    for x in d.drivers:
        pct = _pct(x.pct_of_r2) if x.pct_of_r2 is not None else "n/a"
        lines.append(
            f"| {escape_cell(report.theme_label(x.theme_id))} | {fmt_signed(x.signed_share, 4)} "
            f"| {pct} | {fmt_signed(x.coefficient, 2)} |"
        )
    return lines


def _segment_lines(report: Report) -> list[str]:
    if not report.segments:
        return []
    lines = ["## Segments", "", "▲/▼: differs from the other levels (BH q < 0.05)."]
    for view in report.segments:
        lines += ["", f"### {escape_cell(view.column.removeprefix('segment.'))}", ""]
        lines += [
            "| Level | Items | Score | Negative | Most harmful themes |",
            "|---|---:|---|---:|---|",
        ]
        for lv in view.levels:
            score = f"{lv.metric.display()} {lv.mark}".strip() if lv.metric else "n/a"
            themes = ", ".join(
                escape_cell(report.theme_label(x.theme_id))
                + (f" {fmt_signed(x.impact)}" if x.impact is not None else "")
                for x in lv.top_themes
            )
            lines.append(
                f"| {escape_cell(lv.level)} | {lv.n} | {score} | "
                f"{_pct(lv.negative_share)} {lv.negative_mark} | {themes} |".replace("  |", " |")
            )
        if view.levels_not_shown:
            lines.append(f"\n{view.levels_not_shown} smaller levels not shown.")
    return lines


def _brand_lines(report: Report) -> list[str]:
    b = report.brands
    if b is None:
        return []
    names = [escape_cell(report.theme_label(t)) for t in b.theme_ids]
    intro = (
        f"Brands from `{escape_cell(b.column)}`; net sentiment = %positive - %negative "
        "± 1.96 SE; ▲/▼ vs the other brands (BH q < 0.05)."
    )
    lines = ["## Brand comparison", "", intro, ""]
    lines.append("| Brand | Mentions | Net sentiment | " + " | ".join(names) + " |")
    lines.append("|---|---:|---|" + "---:|" * len(names))
    for row in b.brands:
        shares = " | ".join(
            f"{_pct(row.theme_shares[t])} {row.theme_marks.get(t, '')}".strip() for t in b.theme_ids
        )
        net = f"{fmt_signed(row.net_sentiment)} ± {1.96 * row.net_sentiment_se:.1f} {row.mark}"
        lines.append(f"| {escape_cell(row.brand)} | {row.n} | {net.strip()} | {shares} |")
    return lines


def fmt_did(e: DidEstimate) -> str:
    """A DiD estimate with its interval and unit, e.g. "−35.0 % vs controls [−52.1, −11.4]"."""
    return f"{fmt_signed(e.estimate)} {e.unit} [{fmt_signed(e.ci_low)}, {fmt_signed(e.ci_high)}]"


def _action_lines(report: Report) -> list[str]:
    if not report.actions:
        return []
    lines = ["## Did the fix work?", ""]
    for effect in report.actions:
        a = effect.action
        head = (
            f"- **{escape_cell(a.theme)}**: {escape_cell(a.action)} ({escape_cell(a.owner)}, "
            f"{a.action_date.isoformat()})"
        )
        if effect.note:
            lines.append(f"{head}: {escape_cell(effect.note)}")
            continue
        lines.append(
            f"{head}: {effect.n_before} items before, {effect.n_after} after, "
            f"{len(effect.control_theme_ids)} control themes"
        )
        lines += [f"  - {e.outcome.replace('_', ' ')}: {fmt_did(e)}" for e in effect.estimates]
    return lines


def _theme_change_lines(report: Report) -> list[str]:
    """Theme areas (two-level view) and what changed since the last run."""
    if not report.theme_areas and not report.theme_changes:
        return []
    lines = ["## Theme areas and changes since the last run", ""]
    for area in report.theme_areas:
        names = "; ".join(escape_cell(report.theme_label(t)) for t in area["theme_ids"])
        lines.append(f"- **{escape_cell(area['label'])}** ({area['size']} items): {names}")
    moved = [c for c in report.theme_changes if c["event"] != "unchanged"]
    lines += [""] if report.theme_areas else []
    for c in moved:
        related = ", ".join(escape_cell(r["label"]) for r in c["related"])
        lines.append(
            f"- {c['event']}: {escape_cell(c['label'])} ({c['size_before']} → "
            f"{c['size_after']} items){': ' + related if related else ''}"
        )
    return lines if moved else [*lines, "No theme changed since the last run."]


def render_markdown(report: Report, changes: Changes | None = None) -> str:
    """Render the report summary as Markdown.

    Args:
        report: The report to render.
        changes: Change since the previous run of the same scope (``outputs.history``);
            None on a first run.

    Returns:
        Markdown text: KPIs, the top-N pain points table with trend and one quote each, why
        each ranks where it does, emerging issues, strengths, key drivers, segments, brands,
        action follow-ups and method notes.
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
        f"Changes are against run {escape_cell(changes.previous_run_id)}."
        if changes is not None
        else "No earlier run of the same scope: no changes shown.",
        "",
        "## Headline",
        "",
        *_kpi_lines(report, changes),
        "",
    ]
    top = report.pain_points[: max(report.top_n, 0)]
    lines += [f"## Top {len(top)} pain points", ""]
    if top:
        lines += [
            "| # | Theme | Items | Negative | Impact [95% CI] | Trend (8 wk) | Example |",
            "|---:|---|---:|---:|---|---|---|",
            *(_row(t) for t in top),
            "",
            "Why:",
            "",
            *(f"- {escape_cell(t.rank_reason)}" for t in top),
        ]
        rest = len(report.pain_points) - len(top)
        if rest > 0:
            lines += ["", f"{rest} more ranked themes in the full report."]
    else:
        lines.append("No themes to rank in this window.")
    emerging = _emerging_lines(report)
    lines += ["", *emerging] if emerging else []
    lines += ["", "## Strengths", ""]
    lines += [
        f"- {escape_cell(s.label)}: impact {fmt_primary(s)}, {s.volume} items"
        for s in report.strengths
    ] or ["No theme has an impact interval entirely above 0."]
    sections = (_driver_lines, _segment_lines, _brand_lines, _action_lines, _theme_change_lines)
    for section in (make(report) for make in sections):
        lines += ["", *section] if section else []
    lines += ["", "## Method", ""]
    start = report.window_start.date().isoformat() if report.window_start else "first item"
    end = report.window_end.date().isoformat() if report.window_end else "newest item"
    span = f"{start} to {end} (end exclusive)" if window else "every stored item"
    lines.append(f"- Data window: {span}; {k.n_items:,} items.")
    lines += [f"- {escape_cell(note)}" for note in report.method_notes]
    if k.score_note:
        lines.append(f"- Score note: {escape_cell(k.score_note)}")
    lines += [f"- Model {escape_cell(n)}: {escape_cell(v)}" for n, v in report.models.items()]
    return "\n".join(lines) + "\n"
