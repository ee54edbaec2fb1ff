"""Assemble a :class:`~outputs.report.Report`: ranking plus trends, drivers, segments, churn, DiD.

Each analysis lives in its own pure module (``trends``, ``drivers``, ``segments``, ``churn``,
``did``, ``scoring``); this module only wires them together in the order the ranking needs
(trends, churn and segment lifts feed the pain score; drivers, segment views and action
effects are shown beside it) and writes the method notes the reports print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from outputs.brands import brand_comparison
from outputs.churn import churn_lifts
from outputs.did import ActionEffect, LoggedAction, did_estimates, match_theme
from outputs.drivers import key_drivers
from outputs.ranking import ThemeContext, method_notes, rank_themes, strengths
from outputs.report import Report, ThemeInfo, ThemeStats, build_kpis
from outputs.scoring import PainWeights
from outputs.segments import segment_columns, segment_view, theme_segment_lifts
from outputs.series import recent_weekly_counts
from outputs.trends import ThemeTrend, TrendWindow, detect_trends
from outputs.uncertainty import CesConvention, CsatConvention, metric_key


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of the analyses beyond the ranking's bootstrap (see each module)."""

    min_metric_n: int = 30
    csat: CsatConvention = "top2box"
    ces: CesConvention = "mean"
    recent_days: int = 7
    baseline_days: int = 28
    weekday_prior: float = 20.0
    alert_alpha: float = 0.01
    alert_min_count: int = 5
    alert_min_lift: float = 1.5
    segment_columns: tuple[str, ...] | None = None
    segment_max_levels: int = 12
    brand_column: str | None = None
    did_window_days: int = 28
    max_driver_themes: int = 12
    min_churn_customers: int = 10
    weights: PainWeights = PainWeights()


def primary_metric_key(items: pd.DataFrame, options: AnalysisOptions) -> str | None:
    """Metric key of the most common score type in the window (None when nothing is scored)."""
    scored = items.loc[items["score"].notna(), "score_type"].dropna()
    if scored.empty:
        return None
    counts = scored.value_counts()
    top = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))[0][0]
    return metric_key(str(top), options.csat, options.ces)


def action_effects(
    items: pd.DataFrame,
    actions: list[LoggedAction],
    ranked: list[ThemeStats],
    *,
    options: AnalysisOptions,
    key: str | None,
    min_scored: int,
    n_boot: int,
    seed: int,
) -> list[ActionEffect]:
    """Match each logged action to a theme of this run and estimate its effect (DiD).

    Args:
        items: Item frame.
        actions: Logged actions.
        ranked: Ranked themes (labels and keywords for matching).
        options: Analysis options (DiD window).
        key: Primary metric key for the score and impact outcomes.
        min_scored: Scored items each group needs for the score outcome.
        n_boot: Bootstrap resamples.
        seed: Bootstrap seed.

    Returns:
        One effect per action, in the given order.
    """
    labels = {t.theme_id: t.label for t in ranked}
    keywords = {t.theme_id: t.keywords for t in ranked}
    out = []
    for action in actions:
        effect = ActionEffect(action=action, window_days=options.did_window_days)
        theme_id = match_theme(action.theme, labels, keywords)
        if theme_id is None:
            effect.note = "no theme of this run matches the action's theme"
            out.append(effect)
            continue
        controls = None
        if action.controls:
            found = [match_theme(c, labels, keywords) for c in action.controls]
            controls = sorted({c for c in found if c is not None and c != theme_id})
        estimates, n_b, n_a, control_ids = did_estimates(
            items, theme_id, action.action_date, control_ids=controls,
            window_days=options.did_window_days, metric_key=key, min_n=min_scored,
            n_boot=n_boot, seed=seed,
        )  # fmt: skip
        effect.theme_id, effect.theme_label = theme_id, labels[theme_id]
        effect.control_theme_ids, effect.n_before, effect.n_after = control_ids, n_b, n_a
        effect.estimates = estimates
        if not estimates:
            effect.note = "not enough items before and after the action date in this window"
        out.append(effect)
    return out


def analysis_notes(
    options: AnalysisOptions, window: TrendWindow | None, shown: set[str], drivers_left_out: int
) -> list[str]:
    """Method notes of the trend, driver, segment, churn and DiD analyses the report shows.

    Args:
        options: Analysis options.
        window: The trend windows (None when there was no item).
        shown: Which of "drivers", "segments", "churn", "actions" the report holds.
        drivers_left_out: Themes the driver model left in its baseline.

    Returns:
        One note per analysis shown.
    """
    notes = []
    if window is not None:
        notes.append(
            f"Trends: recent window {window.recent_start} to {window.recent_end} (exclusive, "
            f"{window.recent_days} d) against the {window.baseline_days} d before it. Expected "
            "recent count = sum over recent days of (mean baseline volume on that weekday) x "
            "(theme's baseline share on that weekday, shrunk towards its overall share by "
            f"{options.weekday_prior:g} items) x f, f = median recent/expected ratio of the "
            "established themes (robust to a few spiking ones); p-value of the exact "
            "conditional test of two Poisson rates (recent vs baseline count, binomial). "
            f"Emerging = new (no baseline item, >= {options.alert_min_count} recent) or spike "
            f"(>= {options.alert_min_count} recent, >= {options.alert_min_lift:g}x expected, "
            f"p <= {options.alert_alpha:g} / number of themes, Bonferroni)."
        )
    if "drivers" in shown:
        notes.append(
            "Key drivers: OLS of the primary metric's per-answer value (NPS: +100/0/-100) on "
            "theme indicators; R^2 split by exact Shapley values "
            "(LMG; Lindeman, Merenda & Gold 1980; Grömping 2007), signed by the OLS coefficient; "
            "the shares sum to R^2."
            + (
                f" {drivers_left_out} smaller themes were left in the baseline."
                if drivers_left_out
                else ""
            )
        )
    if "segments" in shown:
        notes.append(
            "Segments: each level vs all other levels, z-test on the difference (SE from each "
            "side), marks ▲/▼ when the Benjamini-Hochberg q < 0.05 over the column's tests."
        )
    if "churn" in shown:
        notes.append(
            "Churn lift: share of churned customers mentioning the theme / share of retained "
            "customers mentioning it, per hashed customer; 95 % Katz log interval."
        )
    if "actions" in shown:
        notes.append(
            f"Did the fix work: difference-in-differences over {options.did_window_days} d before "
            "and after the action date against the other themes pooled (or the named controls): "
            "volume as a log rate ratio (Poisson SE), negative share in points, theme score "
            "(normal SE) and leave-one-out impact against the controls' score-gap change scaled to "
            "the theme's share (bootstrap). Assumes parallel trends."
        )
    return notes


def unserved_note(counts: Mapping[str, int] | None) -> list[str]:
    """The method note on items left out for their language (``run.json``'s count).

    Args:
        counts: Language -> items stored in the window but not analysed (e.g. {"fr": 12}).

    Returns:
        One sentence, or none when every item was in a served language.
    """
    if not counts:
        return []
    listed = ", ".join(f"{language} {n}" for language, n in counts.items())
    return [
        f"Not analysed: {sum(counts.values())} items in languages the models do not serve "
        f"({listed}; und = undetermined). They are stored and counted, not scored or themed "
        "as another language."
    ]


def build_report(
    items: pd.DataFrame,
    themes: list[ThemeInfo],
    *,
    run_id: str,
    title: str = "Voice of Customer report",
    generated_at: datetime | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    top_n: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
    min_scored: int = 10,
    quotes_per_theme: int = 3,
    score_note: str = "",
    run_summary: dict[str, Any] | None = None,
    models: dict[str, str] | None = None,
    extra_notes: list[str] | None = None,
    options: AnalysisOptions | None = None,
    churned: Mapping[str, bool] | None = None,
    actions: list[LoggedAction] | None = None,
) -> Report:
    """Run every analysis and assemble the report (arguments as ``outputs.report.build_report``).

    Returns:
        The report.
    """
    options = options or AnalysisOptions()
    window: TrendWindow | None = None
    trends: dict[int, ThemeTrend] = {}
    weekly: dict[int, list[int]] = {}
    if not items.empty:
        window, trends = detect_trends(
            items, recent_days=options.recent_days, baseline_days=options.baseline_days,
            asof=window_end, prior=options.weekday_prior, alpha=options.alert_alpha,
            min_count=options.alert_min_count, min_lift=options.alert_min_lift,
        )  # fmt: skip
        weekly = recent_weekly_counts(items, sorted(trends), window.recent_end)
    explicit = list(options.segment_columns) if options.segment_columns is not None else None
    columns = segment_columns(items, explicit, min_n=options.min_metric_n)
    context = ThemeContext(
        trends=trends,
        weekly=weekly,
        churn=churn_lifts(items, churned or {}, min_customers=options.min_churn_customers),
        segment_lifts=theme_segment_lifts(items, columns),
        recent_days=options.recent_days,
        weights=options.weights,
        csat=options.csat,
        ces=options.ces,
    )
    ranked = rank_themes(
        items, themes, n_boot=n_boot, seed=seed, min_scored=min_scored,
        quotes_per_theme=quotes_per_theme, context=context,
    )  # fmt: skip
    key = primary_metric_key(items, options)
    drivers = None
    if key is not None:
        drivers = key_drivers(
            items, key, max_themes=options.max_driver_themes,
            min_n=options.min_metric_n,
        )  # fmt: skip
    if drivers is not None:
        shares = {d.theme_id: d.signed_share for d in drivers.drivers}
        ranked = [t.model_copy(update={"driver_share": shares.get(t.theme_id)}) for t in ranked]
    segments = [
        segment_view(
            items,
            c,
            metric_key=key,
            min_n=options.min_metric_n,
            max_levels=options.segment_max_levels,
            n_boot=n_boot,
            seed=seed,
            min_scored=min_scored,
        )  # fmt: skip
        for c in columns
    ]
    brands = brand_comparison(items, options.brand_column) if options.brand_column else None
    effects = action_effects(
        items, actions or [], ranked, options=options, key=key, min_scored=min_scored,
        n_boot=n_boot, seed=seed,
    )  # fmt: skip
    n = len(items)
    outliers = int((items["theme_id"] == -1).sum()) if n else 0
    notes = method_notes(min_scored, n_boot) + unserved_note(
        (run_summary or {}).get("unserved_languages")
    )
    shown = {
        name
        for name, present in (
            ("drivers", drivers is not None),
            ("segments", bool(segments) or brands is not None),
            ("churn", bool(context.churn)),
            ("actions", bool(effects)),
        )
        if present
    }
    notes += analysis_notes(options, window, shown, drivers.themes_left_out if drivers else 0)
    return Report(
        run_id=run_id,
        title=title,
        generated_at=generated_at or datetime.now(UTC),
        window_start=window_start,
        window_end=window_end,
        kpis=build_kpis(
            items, score_note, csat=options.csat, ces=options.ces, min_n=options.min_metric_n
        ),
        pain_points=ranked,
        strengths=strengths(ranked),
        top_n=top_n,
        outlier_share=outliers / n if n else 0.0,
        run_summary=run_summary or {},
        models=models or {},
        method_notes=notes + (extra_notes or []),
        trend_window=window,
        drivers=drivers,
        segments=segments,
        brands=brands,
        actions=effects,
    )
