"""Survey metrics and leave-one-out theme impact, as pure numpy functions.

Conventions follow ``shared/notes/anchors-and-metrics.md`` section 2:

* NPS: 0-10 likelihood to recommend; promoters 9-10, detractors 0-6;
  NPS = %promoters - %detractors, range -100..100.
* CSAT: either top-2-box (% of 4-5 answers on a 1-5 scale) or the mean score.
* CES 2.0: 1-7 agreement scale, reported as the mean or as % of answers >= 5 ("adapted
  from Gartner"); the report states which.
* Theme impact (Thematic / Kapiche leave-one-out):
  impact = metric(all items) - metric(all items except the theme's).

Every function ignores NaN scores (items without a score) and returns NaN when nothing
is left, so callers never have to special-case empty themes or windows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

METRIC_NAMES: tuple[str, ...] = (
    "nps",
    "csat_top2box",
    "csat_mean",
    "ces_mean",
    "ces_pct5",
    "mean",
)

# Above this many index cells per chunk the bootstrap matrix would cost hundreds of MB; the
# chunk size depends only on the number of items, so results never depend on memory.
_MAX_CELLS_PER_CHUNK = 4_000_000


def _finite(scores: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arr = np.asarray(scores, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def nps(scores: npt.ArrayLike) -> float:
    """Net Promoter Score of 0-10 ratings.

    Args:
        scores: Ratings on the 0-10 scale; NaN entries are ignored.

    Returns:
        %promoters (9-10) minus %detractors (0-6), in -100..100; NaN when empty.
    """
    arr = _finite(scores)
    if arr.size == 0:
        return float("nan")
    return float(100.0 * (np.mean(arr >= 9) - np.mean(arr <= 6)))


def nps_standard_error(scores: npt.ArrayLike) -> float:
    """Standard error of the NPS under simple random sampling.

    SE = 100 * sqrt((p + d - (p - d)^2) / n), with p and d the promoter and detractor
    proportions: the NPS is the mean of per-respondent values +1/0/-1, whose variance is
    p + d - (p - d)^2.

    Args:
        scores: Ratings on the 0-10 scale; NaN entries are ignored.

    Returns:
        The standard error in NPS points; NaN when empty.
    """
    arr = _finite(scores)
    n = arr.size
    if n == 0:
        return float("nan")
    p = float(np.mean(arr >= 9))
    d = float(np.mean(arr <= 6))
    return float(100.0 * np.sqrt(max(p + d - (p - d) ** 2, 0.0) / n))


def csat_top2box(scores: npt.ArrayLike) -> float:
    """CSAT as top-2-box: the share of 4 and 5 answers on a 1-5 scale.

    Args:
        scores: Ratings on the 1-5 scale; NaN entries are ignored.

    Returns:
        Percentage (0..100) of ratings >= 4; NaN when empty.
    """
    arr = _finite(scores)
    if arr.size == 0:
        return float("nan")
    return float(100.0 * np.mean(arr >= 4))


def mean_score(scores: npt.ArrayLike) -> float:
    """Arithmetic mean of the scores.

    Args:
        scores: Ratings on any scale; NaN entries are ignored.

    Returns:
        The mean; NaN when empty.
    """
    arr = _finite(scores)
    if arr.size == 0:
        return float("nan")
    return float(np.mean(arr))


def csat_mean(scores: npt.ArrayLike) -> float:
    """CSAT as the mean rating on a 1-5 scale (Thematic's convention).

    Args:
        scores: Ratings on the 1-5 scale; NaN entries are ignored.

    Returns:
        The mean rating; NaN when empty.
    """
    return mean_score(scores)


def ces_mean(scores: npt.ArrayLike) -> float:
    """Customer Effort Score 2.0 as the mean answer on the 1-7 agreement scale.

    Args:
        scores: Answers on the 1-7 scale; NaN entries are ignored.

    Returns:
        The mean answer (higher = easier); NaN when empty.
    """
    return mean_score(scores)


def ces_pct5(scores: npt.ArrayLike) -> float:
    """Customer Effort Score 2.0 as the share of answers of 5 or more on the 1-7 scale.

    Args:
        scores: Answers on the 1-7 scale; NaN entries are ignored.

    Returns:
        Percentage (0..100) of answers >= 5 (somewhat agree or stronger); NaN when empty.
    """
    arr = _finite(scores)
    if arr.size == 0:
        return float("nan")
    return float(100.0 * np.mean(arr >= 5))


METRIC_FUNCTIONS: dict[str, Callable[[npt.ArrayLike], float]] = {
    "nps": nps,
    "csat_top2box": csat_top2box,
    "csat_mean": csat_mean,
    "ces_mean": ces_mean,
    "ces_pct5": ces_pct5,
    "mean": mean_score,
}


def loo_impact(
    scores: npt.ArrayLike,
    in_theme: npt.ArrayLike,
    metric: Callable[[npt.ArrayLike], float] = nps,
) -> float:
    """Leave-one-out impact of a theme on a metric.

    impact = metric(all scored items) - metric(scored items not in the theme), as in
    Thematic's and Kapiche's help centres. A negative value means the theme drags the
    metric down. For metrics that are a mean of per-item values (NPS, CSAT top-2-box and
    every ``*_mean``) this equals (n_theme / N) * (metric_theme - metric_without_theme):
    volume share times score gap. It does not hold for non-linear metrics such as a median
    or :func:`nps_standard_error`.

    Args:
        scores: One score per item; items with a NaN score are dropped with their flag.
        in_theme: Boolean flag per item, aligned with ``scores``.
        metric: Function of an array of scores, e.g. :func:`nps` or :func:`csat_mean`.

    Returns:
        The impact in the metric's units; NaN when there is no scored item, or none
        outside the theme.
    """
    arr = np.asarray(scores, dtype=np.float64).ravel()
    flags = np.asarray(in_theme, dtype=bool).ravel()
    if arr.shape != flags.shape:
        raise ValueError("scores and in_theme must have the same length")
    keep = np.isfinite(arr)
    arr, flags = arr[keep], flags[keep]
    if arr.size == 0:
        return float("nan")
    return float(metric(arr) - metric(arr[~flags]))


def item_values(scores: npt.NDArray[np.float64], metric: str) -> npt.NDArray[np.float64]:
    """Per-item values whose mean is the metric (NPS: +100 / 0 / -100 per answer).

    Every supported metric is such a mean, which is what lets the bootstraps work on
    resampled sums instead of calling the metric per resample.

    Args:
        scores: Finite scores.
        metric: One of ``METRIC_NAMES``.

    Returns:
        One value per score.

    Raises:
        ValueError: For an unknown metric.
    """
    if metric == "nps":
        return np.where(scores >= 9, 100.0, 0.0) - np.where(scores <= 6, 100.0, 0.0)
    if metric == "csat_top2box":
        return np.where(scores >= 4, 100.0, 0.0)
    if metric == "ces_pct5":
        return np.where(scores >= 5, 100.0, 0.0)
    if metric in ("csat_mean", "ces_mean", "mean"):
        return scores.astype(np.float64)
    raise ValueError(f"unknown metric {metric!r}; expected one of {METRIC_NAMES}")


def bootstrap_loo_draws(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    metric: str = "nps",
) -> npt.NDArray[np.float64]:
    """Bootstrap draws of the leave-one-out impact of every group (the raw resamples).

    Items are resampled with replacement (the same resamples serve every group, which keeps
    it to one pass over the data); for each resample and group the impact is computed from
    per-group sums, so 2,500 items x 50 themes x 1,000 resamples takes well under a second.

    Args:
        scores: One score per item; NaN scores are dropped before resampling.
        labels: Integer group per item, aligned with ``scores``; groups are 0..max(labels)
            and negative labels mark items in no group, which still count in "all items".
        n_boot: Number of bootstrap resamples.
        seed: Seed for ``np.random.default_rng``; the same seed gives identical draws.
        metric: One of ``METRIC_NAMES``.

    Returns:
        Array (n_boot, n_groups); NaN where a resample leaves no item outside the group.
    """
    arr = np.asarray(scores, dtype=np.float64).ravel()
    lab = np.asarray(labels).ravel().astype(np.int64)
    if arr.shape != lab.shape:
        raise ValueError("scores and labels must have the same length")
    if n_boot < 1:
        raise ValueError("n_boot must be >= 1")
    n_groups = int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0
    keep = np.isfinite(arr)
    values, lab = item_values(arr[keep], metric), lab[keep]
    n = values.size
    impacts = np.full((n_boot, n_groups), np.nan)
    if n == 0 or n_groups == 0:
        return impacts
    # Column n_groups collects the items in no group so bincount needs no masking.
    codes = np.where(lab >= 0, lab, n_groups)
    width = n_groups + 1
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CELLS_PER_CHUNK // n)
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(rows, n))
        flat = (np.arange(rows)[:, None] * width + codes[idx]).ravel()
        sums = np.bincount(flat, weights=values[idx].ravel(), minlength=rows * width)
        counts = np.bincount(flat, minlength=rows * width)
        sums, counts = sums.reshape(rows, width), counts.reshape(rows, width)
        total = sums.sum(axis=1, keepdims=True)
        n_without = n - counts[:, :n_groups]
        with np.errstate(invalid="ignore", divide="ignore"):
            without = (total - sums[:, :n_groups]) / n_without
        impacts[start : start + rows] = total / n - np.where(n_without > 0, without, np.nan)
    return impacts


def percentile_interval(
    draws: npt.NDArray[np.float64], alpha: float = 0.05
) -> npt.NDArray[np.float64]:
    """Percentile interval per column of bootstrap draws, ignoring NaN draws.

    Args:
        draws: Array (n_boot, k).
        alpha: Two-sided level; 0.05 gives the 2.5th and 97.5th percentiles.

    Returns:
        Array (k, 2) of (low, high); NaN rows for columns without any finite draw.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    out = np.full((draws.shape[1], 2), np.nan)
    defined = ~np.all(np.isnan(draws), axis=0)
    if defined.any():
        q = [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)]
        out[defined] = np.nanpercentile(draws[:, defined], q, axis=0).T
    return out


def bootstrap_loo_impacts(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    metric: str = "nps",
) -> npt.NDArray[np.float64]:
    """Percentile bootstrap intervals of the leave-one-out impact for many themes at once.

    See :func:`bootstrap_loo_draws` for the resampling.

    Args:
        scores: One score per item; NaN scores are dropped before resampling.
        labels: Integer group per item, aligned with ``scores``. Intervals are returned for
            groups 0..max(labels); negative labels mark items in no group (e.g. outliers),
            which still count in "all items".
        n_boot: Number of bootstrap resamples.
        seed: Seed for ``np.random.default_rng``; the same seed gives identical intervals.
        alpha: Two-sided level; 0.05 gives the 2.5th and 97.5th percentiles.
        metric: One of ``METRIC_NAMES``.

    Returns:
        Array of shape (n_groups, 2) with (low, high) per group; NaN rows where the impact
        is undefined (no scored item, or every scored item in that group).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("n_boot must be >= 1 and alpha in (0, 1)")
    draws = bootstrap_loo_draws(scores, labels, n_boot=n_boot, seed=seed, metric=metric)
    return percentile_interval(draws, alpha)


def bootstrap_loo_impact(
    scores: npt.ArrayLike,
    in_theme: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    metric: str = "nps",
) -> tuple[float, float]:
    """Percentile bootstrap interval of one theme's leave-one-out impact.

    Args:
        scores: One score per item; NaN scores are dropped with their flag.
        in_theme: Boolean flag per item, aligned with ``scores``.
        n_boot: Number of bootstrap resamples.
        seed: Seed for ``np.random.default_rng``; the same seed gives identical intervals.
        alpha: Two-sided level; 0.05 gives a 95 % interval.
        metric: One of ``METRIC_NAMES``.

    Returns:
        (low, high) in the metric's units; (NaN, NaN) when the impact is undefined.
    """
    flags = np.asarray(in_theme, dtype=bool).ravel()
    # Label 0 = in theme, -1 = rest: the resamples match bootstrap_loo_impacts exactly.
    labels = np.where(flags, 0, -1)
    if not flags.any():
        labels = np.append(labels, 0)
        scores = np.append(np.asarray(scores, dtype=np.float64).ravel(), np.nan)
    interval = bootstrap_loo_impacts(
        scores, labels, n_boot=n_boot, seed=seed, alpha=alpha, metric=metric
    )[0]
    return float(interval[0]), float(interval[1])
