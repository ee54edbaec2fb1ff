"""Report data model: the one object every renderer (HTML, Markdown, tables) reads.

Everything here is plain data; numbers are already computed, so renderers only format.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from outputs import metrics

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


class ThemeStats(BaseModel):
    """One ranked theme with its volume, sentiment, NPS impact and quotes.

    ``n_scored`` counts the theme's items with an NPS score (the sample behind the impact);
    ``mean_score`` is on ``mean_score_type``, the window's dominant score type.
    ``pain_score`` is ``-impact_ci_high`` (higher = more certainly harmful) and None when
    the theme has fewer than ``min_scored`` NPS scores.
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
    """Share (0..1) of each label in ``SENTIMENTS``; all three keys always present."""
    n = len(sentiment)
    return {s: (float((sentiment == s).sum()) / n if n else 0.0) for s in SENTIMENTS}


def build_kpis(items: pd.DataFrame, score_note: str = "") -> Kpis:
    """Compute the headline KPIs of the window.

    Args:
        items: The item frame (see ``outputs.ranking`` for the columns).
        score_note: How the scores were obtained, shown with the NPS.

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
) -> Report:
    """Rank the themes and assemble a :class:`Report` in one call.

    Args:
        items: The item frame (see ``outputs.ranking`` for the columns).
        themes: Theme labels, keywords and representative items.
        run_id: Identifier of the run (also the bundle's folder name).
        title: Report title.
        generated_at: Timestamp of the report; now (UTC) by default.
        window_start: Start of the analysis window, if known.
        window_end: End of the analysis window, if known.
        top_n: How many pain points the renderers show first.
        n_boot: Bootstrap resamples per impact interval.
        seed: Bootstrap seed.
        min_scored: Minimum NPS scores for a theme's impact interval.
        quotes_per_theme: Quotes kept per theme.
        score_note: How the scores were obtained.
        run_summary: Counts and timings per stage (shown as given).
        models: Model name -> version.
        extra_notes: Method notes appended after the standard ones.

    Returns:
        The report.
    """
    # Local import: ranking imports this module's models.
    from outputs.ranking import method_notes, rank_themes, strengths

    ranked = rank_themes(
        items,
        themes,
        n_boot=n_boot,
        seed=seed,
        min_scored=min_scored,
        quotes_per_theme=quotes_per_theme,
    )
    n = len(items)
    outliers = int((items["theme_id"] == -1).sum()) if n else 0
    return Report(
        run_id=run_id,
        title=title,
        generated_at=generated_at or datetime.now(UTC),
        window_start=window_start,
        window_end=window_end,
        kpis=build_kpis(items, score_note),
        pain_points=ranked,
        strengths=strengths(ranked),
        top_n=top_n,
        outlier_share=outliers / n if n else 0.0,
        run_summary=run_summary or {},
        models=models or {},
        method_notes=method_notes(min_scored, n_boot) + (extra_notes or []),
    )
