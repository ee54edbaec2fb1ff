"""The pain-point score and the one-line reason every ranked theme carries.

    base       = w_impact x H + w_negative x V
    pain_score = base x (1 + w_trend x T) x (1 + w_churn x C)     when base > 0, else base

* H, certain harm: minus the *upper* bound of the theme's 95 % impact interval on the primary
  metric (NPS when the theme has an NPS interval, else CSAT, CES, stars), in impact points:
  NPS and %-metrics as they are, mean-score impacts as % of the scale's range (a -0.1 star
  impact on 1-5 is -2.5 points). A theme whose interval straddles 0 adds little or subtracts;
  a strength (interval above 0) gets a negative H. Without an interval H = 0.
* V, negative volume: 100 x the theme's negative items / all items in the window, i.e. the
  percentage points of all feedback that are negative about this theme.
* T, supported growth: the lower 95 % bound of the recent / expected rate ratio minus 1,
  clipped to [0, trend_cap]; a new theme (no baseline item) gets trend_cap; no trend data, 0.
* C, churn: the lower 95 % bound of the churn lift minus 1, clipped to [0, churn_cap].

Using bounds, not point estimates, means noise never promotes a theme: only what the data
support at 95 % counts. The multipliers only amplify harm (base > 0), so a growing strength
is not turned into a pain point. Ties go to the larger negative volume, then the theme id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from outputs.report import ImpactEstimate, ThemeStats, fmt_signed
from outputs.uncertainty import scale_range

STEADY_TREND_MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class PainWeights:
    """Weights and caps of the pain-point score (module docstring)."""

    impact: float = 1.0
    negative: float = 1.0
    trend: float = 1.0
    trend_cap: float = 2.0
    churn: float = 1.0
    churn_cap: float = 2.0


def primary_impact(stats: ThemeStats) -> ImpactEstimate | None:
    """The first impact with an interval, in the order NPS, CSAT, CES, stars."""
    return next((i for i in stats.impacts if i.ci_low is not None and i.ci_high is not None), None)


def impact_points(key: str, value: float) -> float:
    """An impact in points: NPS and %-metrics unchanged, means as % of the scale's range."""
    if key in ("nps", "csat_top2box", "ces_pct5"):
        return value
    low, high = scale_range(key)
    return 100.0 * value / (high - low)


def pain_components(
    stats: ThemeStats, total_items: int, weights: PainWeights = PainWeights()
) -> dict[str, float]:
    """H, V, T, C and the resulting score of one theme (module docstring).

    Args:
        stats: The theme (impacts, negative share, trend, churn filled in).
        total_items: All items in the window, outliers included.
        weights: Weights and caps.

    Returns:
        ``harm, negative, trend, churn, score``.
    """
    primary = primary_impact(stats)
    harm = -impact_points(primary.key, primary.ci_high or 0.0) if primary else 0.0
    negative = 100.0 * stats.negative_volume / total_items if total_items else 0.0
    trend = 0.0
    if stats.trend is not None:
        if stats.trend.status == "new":
            trend = weights.trend_cap
        elif stats.trend.rate_ratio_low is not None:
            trend = min(max(stats.trend.rate_ratio_low - 1.0, 0.0), weights.trend_cap)
    churn = 0.0
    if stats.churn is not None:
        churn = min(max(stats.churn.ci_low - 1.0, 0.0), weights.churn_cap)
    base = weights.impact * harm + weights.negative * negative
    score = base
    if base > 0:
        score = base * (1 + weights.trend * trend) * (1 + weights.churn * churn)
    return {"harm": harm, "negative": negative, "trend": trend, "churn": churn, "score": score}


def _impact_phrase(stats: ThemeStats, min_scored: int) -> str:
    primary = primary_impact(stats)
    if primary is not None and primary.value is not None:
        low, high = fmt_signed(primary.ci_low), fmt_signed(primary.ci_high)
        return f"{fmt_signed(primary.value)} {primary.name} [{low}, {high}]"
    scored = [i for i in stats.impacts if i.n > 0]
    if scored:
        best = max(scored, key=lambda i: i.n)
        return f"too few {best.name} scores for an interval ({best.n} < {min_scored})"
    return "no scores"


def reason_line(stats: ThemeStats, rank: int, *, recent_days: int, min_scored: int) -> str:
    """One line saying why a theme ranks where it does.

    Args:
        stats: The theme with its components filled in.
        rank: Its pain-point rank.
        recent_days: Length of the trend's recent window.
        min_scored: Scored items a theme needs for an impact interval.

    Returns:
        E.g. "rank 1: −4.2 NPS [−5.1, −3.3]; 18% of detractor comments; 62% negative
        (40 items); +60% vs expected in the last 7 d (16 vs 10.0, p=0.041)".
    """
    parts = [f"rank {rank}: {_impact_phrase(stats, min_scored)}"]
    if stats.detractor_share is not None:
        # ``impacts`` has a row per score type in the window; with none at all a "detractor"
        # is simply a negative comment, so the line says that.
        kind = "detractor" if stats.impacts else "negative"
        parts.append(f"{stats.detractor_share:.0%} of {kind} comments")
    parts.append(f"{stats.negative_share:.0%} negative ({stats.volume} items)")
    # A flagged trend always shows; a steady one only when enough items were expected for
    # its percentage to mean something (a "+68%" on 0.6 expected items is noise).
    trend = stats.trend
    if trend is not None and (
        trend.status in ("new", "spike", "falling")
        or (trend.status == "steady" and (trend.expected or 0.0) >= STEADY_TREND_MIN_EXPECTED)
    ):
        parts.append(trend.describe(recent_days))
    if stats.churn is not None:
        parts.append(stats.churn.describe())
    if stats.top_segment is not None:
        parts.append(f"over-represented in {stats.top_segment.label()}")
    return "; ".join(parts)


def finite_or_zero(value: float | None) -> float:
    """The value, or 0.0 for None/NaN (sort keys must be comparable)."""
    return value if value is not None and math.isfinite(value) else 0.0
