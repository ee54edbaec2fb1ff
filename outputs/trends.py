"""Theme trends and emerging issues: per-period volume and sentiment, new themes and spikes.

Windows (UTC calendar days): the *recent* window is the ``recent_days`` days before ``asof``
(exclusive; by default the day after the newest item), the *baseline* the ``baseline_days``
days before that (28 by default: every weekday four times).

Spike statistic (per theme t), a weekday-adjusted Poisson test on the theme's daily counts:

    r_t(w)  = Nbar(w) x (c_B(t, w) + k p_t) / (N_B(w) + k)   expected count on weekday w:
              Nbar(w) = N_B(w) / days_B(w) is the mean baseline volume of all items on that
              weekday, the fraction is the theme's baseline share on it, shrunk towards its
              overall baseline share p_t = c_B(t) / N_B by k items
    E0_t    = sum over the recent calendar days d of r_t(weekday(d))
    f       = median over established themes (>= min_count baseline items, at least 3 of
              them) of c_R(t) / E0_t, else N_R / sum_d Nbar(weekday(d))
    E_t     = f x E0_t
    p-value = P(X >= c_R(t)),  X ~ Binomial(c_R(t) + c_B(t), E_t / (E_t + c_B(t)))
    z       = (c_R(t) - E_t) / sqrt(E_t)   (descriptive only)

Weekday habits of traffic (Nbar) and of the theme itself (its weekday share) are allowed for;
the trailing baseline absorbs slow seasonal drift; f rescales everything to the recent overall
volume the way DESeq's median-of-ratios size factor does (Anders & Huber 2010), so a campaign
that doubles all feedback flags nothing while a few spiking or brand-new themes cannot inflate
the expectation of the others. The p-value is the exact conditional test of two Poisson rates
(Przyborowski & Wilenski 1940): given c_R + c_B, the recent count is binomial with the recent
share of the exposure, E_t / (E_t + c_B). Unlike a Poisson test against E_t as if it were known,
it allows for the noise in the baseline itself (on pure-noise streams a Poisson test against the
estimated E raised about 10x the nominal false alarms). The rate ratio c_R / E_t is reported
with the lower end of its exact 95 % interval from the same binomial (Clopper-Pearson):
RR_low = pi_low / (1 - pi_low) x c_B / E_t.

A theme is *emerging* when the baseline window holds items and either

* it is **new**: no baseline item and at least ``min_count`` recent items, or
* it **spikes**: at least ``min_count`` recent items, c_R / E >= ``min_lift`` and
  p-value <= ``alpha`` / m (Bonferroni over the m themes tested), which keeps the nightly
  false-alarm rate at or below ``alpha``; ``min_lift`` guards against day-to-day
  over-dispersion, which Poisson counts ignore.

References: Thematic's ">2 sigma from the recent average" spike rule and Kapiche's
"%frequency now - %frequency before" emergence (shared/notes/anchors-and-metrics.md);
Przyborowski & Wilenski (1940), Biometrika 31, for the conditional test; Clopper & Pearson
(1934) for the exact binomial interval.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy import stats as sps

TrendStatus = Literal["new", "spike", "steady", "falling", "no_baseline"]


class TrendWindow(BaseModel):
    """The recent and baseline windows of a trend analysis."""

    recent_start: date
    recent_end: date
    baseline_start: date
    n_recent: int
    n_baseline: int
    recent_days: int
    baseline_days: int

    @property
    def has_baseline(self) -> bool:
        """Whether the baseline window holds any item (else nothing can be flagged)."""
        return self.n_baseline > 0


class ThemeTrend(BaseModel):
    """One theme's recent volume against its weekday-adjusted expectation."""

    theme_id: int
    recent: int
    baseline: int
    expected: float | None = None
    rate_ratio: float | None = None
    rate_ratio_low: float | None = None
    z: float | None = None
    p_value: float | None = None
    negative_share_recent: float | None = None
    negative_share_baseline: float | None = None
    status: TrendStatus = "steady"
    emerging: bool = False

    def describe(self, recent_days: int) -> str:
        """One short phrase: "new: 42 items in the last 3 d" or "+60% vs expected (…)"."""
        span = f"last {recent_days} d"
        if self.status == "new":
            return f"new: {self.recent} items in the {span}, none before"
        if self.status == "no_baseline":
            return f"{self.recent} items in the {span} (no baseline)"
        if self.rate_ratio is None:
            return f"{self.recent} items in the {span}, none in the baseline"
        # Past x3 a percentage reads badly ("+13745%"); a multiple says the same plainly.
        if self.rate_ratio >= 3:
            change = (
                f"×{self.rate_ratio:.0f}" if self.rate_ratio >= 10 else f"×{self.rate_ratio:.1f}"
            )
        else:
            change = f"{100 * (self.rate_ratio - 1):+.0f}%".replace("-", "\u2212")
        p = "p<0.001" if (self.p_value or 0) < 0.001 else f"p={self.p_value:.3f}"
        return f"{change} vs expected in the {span} ({self.recent} vs {self.expected:.1f}, {p})"


def day_of(created_at: pd.Series) -> pd.Series:
    """UTC calendar day of each timestamp."""
    return pd.to_datetime(created_at, utc=True).dt.tz_convert("UTC").dt.normalize()


def trend_window(
    items: pd.DataFrame,
    *,
    recent_days: int = 7,
    baseline_days: int = 28,
    asof: datetime | date | None = None,
) -> TrendWindow:
    """Place the recent and baseline windows (see the module docstring).

    Args:
        items: Item frame with ``created_at`` (UTC).
        recent_days: Length of the recent window in days.
        baseline_days: Length of the baseline window before it.
        asof: Exclusive end of the recent window; default the day after the newest item.

    Returns:
        The windows and how many items each holds.
    """
    days = day_of(items["created_at"])
    if asof is None:
        end = (days.max() + pd.Timedelta(days=1)).date() if len(days) else date(1970, 1, 2)
    else:
        end = asof.date() if isinstance(asof, datetime) else asof
    recent_start = end - timedelta(days=recent_days)
    baseline_start = recent_start - timedelta(days=baseline_days)
    d = days.dt.date
    return TrendWindow(
        recent_start=recent_start,
        recent_end=end,
        baseline_start=baseline_start,
        n_recent=int(((d >= recent_start) & (d < end)).sum()),
        n_baseline=int(((d >= baseline_start) & (d < recent_start)).sum()),
        recent_days=recent_days,
        baseline_days=baseline_days,
    )


def expected_recent(
    baseline_counts: pd.Series,
    baseline_totals: pd.Series,
    baseline_days: pd.Series,
    recent_weekdays: list[int],
    prior: float = 20.0,
) -> float:
    """Weekday-adjusted expected count of a theme over the recent days, before scaling by f.

    Args:
        baseline_counts: Theme items in the baseline per weekday (0-6, Monday = 0).
        baseline_totals: All items in the baseline per weekday.
        baseline_days: Calendar days of the baseline per weekday.
        recent_weekdays: Weekday of each recent calendar day.
        prior: Shrinkage k (items) towards the theme's overall baseline share.

    Returns:
        E0 = sum_d Nbar(w_d) (c_B(w_d) + k p) / (N_B(w_d) + k); NaN when the baseline is empty.
    """
    n_b = float(baseline_totals.sum())
    if n_b == 0:
        return math.nan
    p = float(baseline_counts.sum()) / n_b
    mean_total = n_b / max(float(baseline_days.sum()), 1.0)
    expected = 0.0
    for weekday in recent_weekdays:
        days = float(baseline_days.get(weekday, 0.0))
        n_w = float(baseline_totals.get(weekday, 0.0))
        # A baseline shorter than a week lacks some weekdays: use the overall mean there.
        nbar = n_w / days if days else mean_total
        expected += nbar * (float(baseline_counts.get(weekday, 0.0)) + prior * p) / (n_w + prior)
    return expected


def traffic_factor(
    observed: list[int],
    unscaled: list[float],
    baseline: list[int],
    *,
    total_ratio: float,
    min_count: int,
) -> float:
    """The factor f that scales expectations to the recent overall volume (module docstring).

    Args:
        observed: Recent count per theme.
        unscaled: E0 per theme.
        baseline: Baseline count per theme.
        total_ratio: Recent items / expected recent items of all themes together (fallback).
        min_count: Baseline items that make a theme "established".

    Returns:
        Median of observed / E0 over at least 3 established themes, else ``total_ratio``.
    """
    ratios = [
        o / e
        for o, e, b in zip(observed, unscaled, baseline, strict=True)
        if b >= min_count and e > 0
    ]
    if len(ratios) >= 3:
        median = float(np.median(ratios))
        if median > 0:
            return median
    return total_ratio


def poisson_upper_p(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected); 0 when expected is 0 and observed > 0."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return float(sps.poisson.sf(observed - 1, expected))


def conditional_upper_p(recent: int, baseline: int, expected: float) -> float:
    """Exact conditional test of a higher recent rate (module docstring).

    P(X >= recent) for X ~ Binomial(recent + baseline, expected / (expected + baseline)).

    Args:
        recent: Recent count c_R.
        baseline: Baseline count c_B (0 falls back to the Poisson test against ``expected``).
        expected: Expected recent count E under "no change".

    Returns:
        The one-sided p-value.
    """
    if baseline <= 0:
        return poisson_upper_p(recent, expected)
    if recent <= 0:
        return 1.0
    share = expected / (expected + baseline)
    return float(sps.binom.sf(recent - 1, recent + baseline, share))


def rate_ratio_lower(recent: int, baseline: int, expected: float, level: float = 0.95) -> float:
    """Lower end of the exact (Clopper-Pearson) interval of the recent / expected rate ratio."""
    if recent <= 0 or baseline <= 0 or expected <= 0:
        return 0.0
    low = float(sps.beta.ppf((1 - level) / 2, recent, baseline + 1))
    return low / (1.0 - low) * baseline / expected


def detect_trends(
    items: pd.DataFrame,
    *,
    recent_days: int = 7,
    baseline_days: int = 28,
    asof: datetime | date | None = None,
    prior: float = 20.0,
    alpha: float = 0.01,
    min_count: int = 5,
    min_lift: float = 1.5,
) -> tuple[TrendWindow, dict[int, ThemeTrend]]:
    """Recent volume of every theme against its weekday-adjusted baseline; flags emerging ones.

    Args:
        items: Item frame with ``created_at``, ``theme_id`` (-1 = outlier) and ``sentiment``.
        recent_days: Recent window in days.
        baseline_days: Baseline window in days.
        asof: Exclusive end of the recent window (default: day after the newest item).
        prior: Weekday shrinkage k in items.
        alpha: Family-wise false-alarm level over the themes (Bonferroni).
        min_count: Recent items a theme needs before it can be flagged.
        min_lift: Smallest rate ratio (recent / expected) that counts as a spike.

    Returns:
        (the windows, ThemeTrend per theme id >= 0).
    """
    window = trend_window(items, recent_days=recent_days, baseline_days=baseline_days, asof=asof)
    days = day_of(items["created_at"]).dt.date
    recent = ((days >= window.recent_start) & (days < window.recent_end)).to_numpy()
    base = ((days >= window.baseline_start) & (days < window.recent_start)).to_numpy()
    weekday = day_of(items["created_at"]).dt.weekday.to_numpy()
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    negative = (items["sentiment"] == "negative").to_numpy()
    theme_ids = sorted(int(t) for t in np.unique(tid) if t >= 0)
    base_totals = pd.Series(weekday[base]).value_counts()
    span = window.recent_end - window.baseline_start
    calendar = [window.baseline_start + timedelta(days=i) for i in range(span.days)]
    base_days = pd.Series([d.weekday() for d in calendar if d < window.recent_start]).value_counts()
    recent_weekdays = [d.weekday() for d in calendar if d >= window.recent_start]
    m = max(len(theme_ids), 1)
    counts = {t: (int((tid[recent] == t).sum()), int((tid[base] == t).sum())) for t in theme_ids}
    unscaled = {
        t: expected_recent(
            pd.Series(weekday[base & (tid == t)]).value_counts(),
            base_totals,
            base_days,
            recent_weekdays,
            prior,
        )  # fmt: skip
        for t in theme_ids
    }
    all_expected = expected_recent(base_totals, base_totals, base_days, recent_weekdays, prior)
    factor = traffic_factor(
        [counts[t][0] for t in theme_ids],
        [unscaled[t] for t in theme_ids],
        [counts[t][1] for t in theme_ids],
        total_ratio=window.n_recent / all_expected if all_expected > 0 else 0.0,
        min_count=min_count,
    )
    out: dict[int, ThemeTrend] = {}
    for t in theme_ids:
        mask = tid == t
        c_r, c_b = counts[t]
        neg_r = float(negative[mask & recent].mean()) if c_r else None
        neg_b = float(negative[mask & base].mean()) if c_b else None
        if not window.has_baseline:
            out[t] = ThemeTrend(
                theme_id=t, recent=c_r, baseline=c_b, status="no_baseline",
                negative_share_recent=neg_r, negative_share_baseline=neg_b,
            )  # fmt: skip
            continue
        e = factor * unscaled[t]
        p = conditional_upper_p(c_r, c_b, e)
        ratio = c_r / e if e > 0 else None
        low = rate_ratio_lower(c_r, c_b, e) if e > 0 else None
        z = (c_r - e) / math.sqrt(e) if e > 0 else None
        if c_b == 0:
            status: TrendStatus = "new" if c_r >= min_count else "steady"
        elif c_r >= min_count and (ratio or 0) >= min_lift and p <= alpha / m:
            status = "spike"
        elif c_r < e and float(sps.binom.cdf(c_r, c_r + c_b, e / (e + c_b))) <= alpha / m:
            # Lower-tail mirror of the spike test: a label for the trend table, never an alert.
            status = "falling"
        else:
            status = "steady"
        out[t] = ThemeTrend(
            theme_id=t,
            recent=c_r,
            baseline=c_b,
            expected=e,
            rate_ratio=ratio,
            rate_ratio_low=low,
            z=z,
            p_value=p,
            negative_share_recent=neg_r,
            negative_share_baseline=neg_b,
            status=status,
            emerging=status in ("new", "spike"),
        )
    return window, out
