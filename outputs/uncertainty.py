"""Headline metrics with their convention, standard error, interval and minimum sample size.

Every estimate states how it was computed (``convention``) and carries a normal-approximation
("Wald") 95 % interval, value +/- 1.96 x SE, clipped to the scale's range:

* NPS (0-10, promoters 9-10, detractors 0-6): SE = 100 x sqrt((p + d - (p - d)^2) / n), the
  standard error of the mean of per-answer values +1 / 0 / -1.
* Shares (CSAT top-2-box = % of 4-5 on 1-5; CES % of answers >= 5 on 1-7):
  SE = 100 x sqrt(p (1 - p) / n).
* Means (CSAT mean 1-5, CES mean 1-7, star rating 1-5): SE = s / sqrt(n), s the sample
  standard deviation (ddof = 1).

Below ``min_n`` answers an estimate is marked ``too_few``: renderers print "too few (n=…)"
instead of a figure, because a normal interval on a handful of answers misleads.

Differences between two independent groups (segments) use z = (a - b) / sqrt(SE_a^2 + SE_b^2)
with a two-sided normal p-value; many comparisons are adjusted with Benjamini-Hochberg.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from outputs import metrics

Z95 = 1.959963984540054

CsatConvention = Literal["top2box", "mean"]
CesConvention = Literal["mean", "pct5"]

# score_type -> (metric name per convention, display name, convention text, scale range)
_SPECS: dict[str, tuple[str, str, str, tuple[float, float]]] = {
    "nps": ("nps", "NPS", "%promoters (9-10) - %detractors (0-6) on 0-10", (-100.0, 100.0)),
    "csat_top2box": ("csat_top2box", "CSAT top-2-box", "% of 4-5 answers on 1-5", (0.0, 100.0)),
    "csat_mean": ("csat_mean", "CSAT mean", "mean answer on 1-5", (1.0, 5.0)),
    "ces_mean": ("ces_mean", "CES mean", "CES 2.0 mean agreement on 1-7", (1.0, 7.0)),
    "ces_pct5": (
        "ces_pct5",
        "CES % easy",
        "CES 2.0 % of answers >= 5 on 1-7 (adapted from Gartner)",
        (0.0, 100.0),
    ),
    "stars": ("mean", "Star rating", "mean stars on 1-5", (1.0, 5.0)),
}


class MetricEstimate(BaseModel):
    """One metric over a set of items, with its uncertainty and the rule it follows."""

    key: str
    name: str
    convention: str
    n: int
    value: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    min_n: int = 1
    too_few: bool = False

    def display(self, digits: int = 1) -> str:
        """Format for people: "+12.3 ± 4.1 (n=250)" or "too few (n=7 < 30)"."""
        if self.value is None or self.n == 0:
            return "n/a (n=0)"
        if self.too_few:
            return f"too few (n={self.n} < {self.min_n})"
        value = f"{self.value:+.{digits}f}" if self.key == "nps" else f"{self.value:.{digits}f}"
        value = value.replace("-", "\u2212")
        if self.se is None:
            return f"{value} (n={self.n})"
        return f"{value} ± {Z95 * self.se:.{digits}f} (n={self.n})"


def metric_key(score_type: str, csat: CsatConvention, ces: CesConvention) -> str:
    """The metric used for a score type under the configured conventions.

    Args:
        score_type: "nps", "csat", "ces" or "stars".
        csat: CSAT convention.
        ces: CES convention.

    Returns:
        A key of the spec table, e.g. "csat_top2box"; "stars" for star ratings.

    Raises:
        ValueError: For an unknown score type.
    """
    if score_type == "csat":
        return f"csat_{csat}"
    if score_type == "ces":
        return f"ces_{ces}"
    if score_type in ("nps", "stars"):
        return score_type
    raise ValueError(f"unknown score type {score_type!r}")


def score_type_of(key: str) -> str:
    """The score type a metric key is computed from ("csat_mean" -> "csat")."""
    return key.split("_")[0]


def display_name(key: str) -> str:
    """People's name of a metric key ("csat_top2box" -> "CSAT top-2-box")."""
    return _SPECS[key][1]


def metric_name(key: str) -> str:
    """The bootstrap/LOO metric name (``outputs.metrics.METRIC_NAMES``) behind a key."""
    return _SPECS[key][0]


def scale_range(key: str) -> tuple[float, float]:
    """The (min, max) a metric can take, used to clip intervals and scale impacts."""
    return _SPECS[key][3]


def standard_error(scores: npt.ArrayLike, key: str) -> float:
    """Standard error of a metric (formulas in the module docstring).

    Args:
        scores: Raw answers; NaN entries are ignored.
        key: A metric key such as "nps" or "csat_mean".

    Returns:
        The SE in the metric's units; NaN when it is undefined (n = 0, or n = 1 for means).
    """
    arr = np.asarray(scores, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    n = arr.size
    name = metric_name(key)
    if n == 0:
        return math.nan
    if name == "nps":
        return metrics.nps_standard_error(arr)
    if name in ("csat_top2box", "ces_pct5"):
        p = float(np.mean(metrics.item_values(arr, name))) / 100.0
        return 100.0 * math.sqrt(p * (1.0 - p) / n)
    if n < 2:
        return math.nan
    return float(np.std(arr, ddof=1) / math.sqrt(n))


def estimate(scores: npt.ArrayLike, key: str, min_n: int = 30) -> MetricEstimate:
    """Estimate a metric with SE, 95 % interval and the too-few flag.

    Args:
        scores: Raw answers on the metric's scale; NaN entries are ignored.
        key: A metric key: "nps", "csat_top2box", "csat_mean", "ces_mean", "ces_pct5", "stars".
        min_n: Answers needed before the figure is shown.

    Returns:
        The estimate; value and SE are None when there is no answer.
    """
    name, display, convention, (lo, hi) = _SPECS[key]
    arr = np.asarray(scores, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    value = metrics.METRIC_FUNCTIONS[name](arr)
    se = standard_error(arr, key)
    ok = math.isfinite(value)
    has_se = ok and math.isfinite(se)
    return MetricEstimate(
        key=key,
        name=display,
        convention=convention,
        n=int(arr.size),
        value=value if ok else None,
        se=se if has_se else None,
        ci_low=max(lo, value - Z95 * se) if has_se else None,
        ci_high=min(hi, value + Z95 * se) if has_se else None,
        min_n=min_n,
        too_few=arr.size < min_n,
    )


def headline_metrics(
    items: pd.DataFrame,
    *,
    csat: CsatConvention = "top2box",
    ces: CesConvention = "mean",
    min_n: int = 30,
) -> list[MetricEstimate]:
    """One estimate per score type present in the items (NPS, CSAT, CES, stars, in that order).

    Args:
        items: Item frame with ``score`` and ``score_type``.
        csat: CSAT convention (always stated in the estimate).
        ces: CES convention.
        min_n: Answers needed before a figure is shown.

    Returns:
        Estimates for the score types that have at least one answer.
    """
    scores = items["score"].to_numpy(dtype=np.float64)
    types = items["score_type"].to_numpy()
    out = []
    for score_type in ("nps", "csat", "ces", "stars"):
        mask = (types == score_type) & np.isfinite(scores)
        if mask.any():
            out.append(estimate(scores[mask], metric_key(score_type, csat, ces), min_n))
    return out


def two_sided_p(z: float) -> float:
    """Two-sided normal p-value of a z statistic (NaN stays NaN)."""
    if not math.isfinite(z):
        return math.nan
    return math.erfc(abs(z) / math.sqrt(2.0))


def difference_z(a: float, se_a: float, b: float, se_b: float) -> float:
    """The z statistic of the difference of two independent estimates; NaN when SEs are both 0."""
    se = math.sqrt(se_a**2 + se_b**2)
    if not math.isfinite(se) or se == 0.0:
        return math.nan
    return (a - b) / se


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN inputs stay NaN and are not counted.

    Args:
        p_values: Raw p-values.

    Returns:
        Adjusted values in the input order: q_(i) = min_{j >= i} p_(j) * m / j, capped at 1.
    """
    idx = [i for i, p in enumerate(p_values) if math.isfinite(p)]
    out = [math.nan] * len(p_values)
    m = len(idx)
    running = 1.0
    for rank, i in reversed(list(enumerate(sorted(idx, key=lambda j: p_values[j]), start=1))):
        running = min(running, p_values[i] * m / rank)
        out[i] = running
    return out
