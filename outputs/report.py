"""Report data model: the one object every renderer (HTML, Markdown, tables) reads.

Everything here is plain data; numbers are already computed, so renderers only format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from outputs import metrics
from outputs.brands import BrandView
from outputs.churn import ChurnLift
from outputs.did import ActionEffect, LoggedAction
from outputs.drivers import DriverResult
from outputs.segments import SegmentLift, SegmentView
from outputs.trends import ThemeTrend, TrendWindow
from outputs.uncertainty import CesConvention, CsatConvention, MetricEstimate, headline_metrics

if TYPE_CHECKING:
    from outputs.analytics import AnalysisOptions

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")

NPS_CI_Z = 1.96


class Quote(BaseModel):
    """A representative feedback item shown under a theme.

    ``text`` is untrusted customer text: renderers must escape it.
    """

    text: str
    item_key: str
    language: str
    sentiment: str
    url: str | None = None


class ThemeInfo(BaseModel):
    """What the theme model knows about a theme (input to ranking)."""

    theme_id: int
    label: str
    keywords: list[str] = Field(default_factory=list)
    quote_item_keys: list[str] = Field(default_factory=list)
    area: str | None = None  # top-level area (nlp/theme_hierarchy.py)
    lineage: dict[str, Any] | None = None  # change since the last run (nlp/theme_matching.py)


class ImpactEstimate(BaseModel):
    """Leave-one-out impact of a theme on one metric, with its bootstrap interval."""

    key: str
    name: str
    n: int
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class ThemeStats(BaseModel):
    """One ranked theme with its volume, sentiment, impacts, trend and quotes.

    ``n_scored`` counts the theme's items with an NPS score (the sample behind the NPS
    impact); ``impacts`` holds one estimate per score type present (NPS, CSAT, CES, stars);
    ``mean_score`` is on ``mean_score_type``, the window's dominant score type.
    ``pain_score`` and ``score_components`` follow ``outputs.scoring``.
    """

    rank: int
    theme_id: int
    label: str
    keywords: list[str] = Field(default_factory=list)
    volume: int
    share: float
    negative_share: float
    sentiment_mix: dict[str, float] = Field(default_factory=dict)
    n_scored: int = 0
    mean_score: float | None = None
    mean_score_type: str | None = None
    theme_nps: float | None = None
    nps_impact: float | None = None
    impact_ci_low: float | None = None
    impact_ci_high: float | None = None
    pain_score: float | None = None
    rank_reason: str = ""
    quotes: list[Quote] = Field(default_factory=list)
    example_quote: str = ""
    languages: dict[str, int] = Field(default_factory=dict)
    impacts: list[ImpactEstimate] = Field(default_factory=list)
    detractor_share: float | None = None
    negative_mention_share: float = 0.0
    trend: ThemeTrend | None = None
    weekly_volume: list[int] = Field(default_factory=list)
    churn: ChurnLift | None = None
    driver_share: float | None = None
    top_segment: SegmentLift | None = None
    area: str | None = None
    lineage: dict[str, Any] | None = None
    score_components: dict[str, float] = Field(default_factory=dict)

    @property
    def has_interval(self) -> bool:
        """Whether the theme had enough NPS scores for a bootstrap interval."""
        return self.impact_ci_low is not None and self.impact_ci_high is not None

    @property
    def negative_volume(self) -> float:
        """Number of negative items in the theme (volume x negative share)."""
        return self.volume * self.negative_share


class Kpis(BaseModel):
    """Headline numbers for the whole analysis window.

    ``n_scored`` counts items with an NPS score; ``nps_ci`` is nps +/- 1.96 * nps_se,
    clipped to the -100..100 range of the scale.
    """

    n_items: int
    n_scored: int
    nps: float | None = None
    nps_se: float | None = None
    nps_ci: tuple[float, float] | None = None
    sentiment_mix: dict[str, float] = Field(default_factory=dict)
    languages: dict[str, int] = Field(default_factory=dict)
    channels: dict[str, int] = Field(default_factory=dict)
    score_types: dict[str, int] = Field(default_factory=dict)
    other_metrics: dict[str, float] = Field(default_factory=dict)
    metrics: list[MetricEstimate] = Field(default_factory=list)
    score_note: str = ""


class Report(BaseModel):
    """A complete run report: KPIs, ranked themes and provenance."""

    run_id: str
    title: str
    generated_at: AwareDatetime
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    kpis: Kpis
    pain_points: list[ThemeStats] = Field(default_factory=list)
    strengths: list[ThemeStats] = Field(default_factory=list)
    top_n: int = 10
    outlier_share: float = 0.0
    run_summary: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    method_notes: list[str] = Field(default_factory=list)
    trend_window: TrendWindow | None = None
    drivers: DriverResult | None = None
    segments: list[SegmentView] = Field(default_factory=list)
    brands: BrandView | None = None
    actions: list[ActionEffect] = Field(default_factory=list)
    # Theme areas and what changed since the last run (vocflow/theme_run.py info).
    theme_areas: list[dict[str, Any]] = Field(default_factory=list)
    theme_changes: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def emerging(self) -> list[ThemeStats]:
        """Ranked themes flagged as new or spiking, in rank order."""
        return [t for t in self.pain_points if t.trend is not None and t.trend.emerging]

    def theme_label(self, theme_id: int) -> str:
        """Label of a ranked theme ("Theme <id>" when it is not ranked)."""
        return next(
            (t.label for t in self.pain_points if t.theme_id == theme_id), f"Theme {theme_id}"
        )

    @field_validator("generated_at", "window_start", "window_end")
    @classmethod
    def _to_utc(cls, value: datetime | None) -> datetime | None:
        # Reports from different machines must compare without timezone arithmetic.
        return None if value is None else value.astimezone(UTC)


def optional_float(value: float | None) -> float | None:
    """Return ``value`` as a float, or None when it is None or not finite (NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def fmt_signed(value: float | None, digits: int = 1) -> str:
    """Format a signed figure for people: explicit sign, typographic minus.

    Args:
        value: The number, or None.
        digits: Decimal places.

    Returns:
        E.g. "−4.2" or "+1.0"; "n/a" for None or NaN.
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.{digits}f}".replace("-", "\u2212")


def fmt_impact(stats: ThemeStats) -> str:
    """Format a theme's NPS impact with its interval.

    Args:
        stats: The theme.

    Returns:
        "−4.2 [−5.1, −3.3]" with an interval, "−4.2 (no interval, n=3)" without one,
        "n/a" when the theme has no NPS score.
    """
    if stats.nps_impact is None:
        return "n/a"
    if stats.impact_ci_low is None or stats.impact_ci_high is None:
        return f"{fmt_signed(stats.nps_impact)} (no interval, n={stats.n_scored})"
    low, high = fmt_signed(stats.impact_ci_low), fmt_signed(stats.impact_ci_high)
    return f"{fmt_signed(stats.nps_impact)} [{low}, {high}]"


def value_counts(series: pd.Series) -> dict[str, int]:
    """Count a column's values (missing = "unknown"), most frequent first, ties by name."""
    counts = series.fillna("unknown").astype(str).value_counts()
    pairs = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return {str(k): int(v) for k, v in pairs}


def sentiment_mix(sentiment: pd.Series) -> dict[str, float]:
    """Share (0..1) of each sentiment label.

    The ``SENTIMENTS`` keys are always present; any other label (e.g. "mixed") gets its own
    key after them, so new labels are counted separately instead of breaking anything.
    """
    n = len(sentiment)
    extra = sorted(set(sentiment.dropna().astype(str)) - set(SENTIMENTS))
    return {s: (float((sentiment == s).sum()) / n if n else 0.0) for s in (*SENTIMENTS, *extra)}


def build_kpis(
    items: pd.DataFrame,
    score_note: str = "",
    *,
    csat: CsatConvention = "top2box",
    ces: CesConvention = "mean",
    min_n: int = 30,
) -> Kpis:
    """Compute the headline KPIs of the window.

    Args:
        items: The item frame (see ``outputs.ranking`` for the columns).
        score_note: How the scores were obtained, shown with the NPS.
        csat: CSAT convention of the headline estimate (both are in ``other_metrics``).
        ces: CES convention of the headline estimate.
        min_n: Answers a headline metric needs before it is shown.

    Returns:
        The KPIs; NPS fields are None when no item has an NPS score.
    """
    scores = items["score"].to_numpy(dtype=np.float64)
    types = items["score_type"]
    nps_scores = scores[(types == "nps").to_numpy() & np.isfinite(scores)]
    value = optional_float(metrics.nps(nps_scores))
    se = optional_float(metrics.nps_standard_error(nps_scores))
    ci = None
    if value is not None and se is not None:
        ci = (max(-100.0, value - NPS_CI_Z * se), min(100.0, value + NPS_CI_Z * se))
    others: dict[str, float] = {}
    for score_type, name, fn in (
        ("csat", "CSAT top-2-box (% of 4-5 on 1-5)", metrics.csat_top2box),
        ("csat", "CSAT mean (1-5)", metrics.csat_mean),
        ("ces", "CES mean (1-7)", metrics.ces_mean),
        ("ces", "CES % of answers >= 5 (1-7)", metrics.ces_pct5),
        ("stars", "Mean star rating (1-5)", metrics.mean_score),
    ):
        result = optional_float(fn(scores[(types == score_type).to_numpy()]))
        if result is not None:
            others[name] = result
    scored = items[np.isfinite(scores)]
    return Kpis(
        n_items=len(items),
        n_scored=int(nps_scores.size),
        nps=value,
        nps_se=se,
        nps_ci=ci,
        sentiment_mix=sentiment_mix(items["sentiment"]),
        languages=value_counts(items["language"]),
        channels=value_counts(items["channel"]),
        score_types=value_counts(scored["score_type"]),
        other_metrics=others,
        metrics=headline_metrics(items, csat=csat, ces=ces, min_n=min_n),
        score_note=score_note,
    )


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
    """Rank the themes, run the analyses and assemble a :class:`Report` in one call.

    Args:
        items: The item frame (see ``outputs.ranking`` for the columns).
        themes: Theme labels, keywords and representative items.
        run_id: Identifier of the run (also the bundle's folder name).
        title: Report title.
        generated_at: Timestamp of the report; now (UTC) by default.
        window_start: Start of the analysis window, if known.
        window_end: Exclusive end of the analysis window, if known (also the end of the
            trend's recent window; default the day after the newest item).
        top_n: How many pain points the renderers show first.
        n_boot: Bootstrap resamples per impact interval.
        seed: Bootstrap seed.
        min_scored: Minimum scored items for a theme's impact interval.
        quotes_per_theme: Quotes kept per theme.
        score_note: How the scores were obtained.
        run_summary: Counts and timings per stage (shown as given).
        models: Model name -> version.
        extra_notes: Method notes appended after the standard ones.
        options: Trend, segment, churn, DiD and scoring settings.
        churned: Hashed customer key -> churned (True) or retained (False).
        actions: Logged actions whose effect is estimated.

    Returns:
        The report.
    """
    # Local import: the analyses import this module's models.
    from outputs.analytics import build_report as assemble

    return assemble(
        items, themes, run_id=run_id, title=title, generated_at=generated_at,
        window_start=window_start, window_end=window_end, top_n=top_n, n_boot=n_boot,
        seed=seed, min_scored=min_scored, quotes_per_theme=quotes_per_theme,
        score_note=score_note, run_summary=run_summary, models=models,
        extra_notes=extra_notes, options=options, churned=churned, actions=actions,
    )  # fmt: skip
