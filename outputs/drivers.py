"""Key-driver analysis: Shapley decomposition of the R^2 of score ~ theme indicators.

Model: ordinary least squares of the per-answer value of the primary metric (NPS: +100 /
0 / -100 for promoter / passive / detractor, so drivers agree in sign with the NPS impact;
top-2-box shares: 100 / 0; mean metrics: the answer itself) on one 0/1 indicator per theme,
with an intercept; items in no modelled theme form the baseline. The R^2 of the full model
is split among the themes by the Shapley value (the "LMG" measure of Lindeman, Merenda &
Gold 1980; Lipovetsky & Conklin 2001; Grömping 2007, J. Stat. Softw. 17(1)):

    share_j = sum over subsets S of the other themes of
              |S|! (k - |S| - 1)! / k!  x  (R^2(S + j) - R^2(S))

Shares are non-negative and sum exactly to the full model's R^2, whatever the overlap between
themes (an item may carry several indicators); each share is signed by the theme's full-model
OLS coefficient (Q Research's convention), so negative drivers are pain points and positive
ones strengths. The exact sum visits all 2^k subsets, so only the ``max_themes`` largest themes
(12 by default: 4,096 small regressions) are modelled; the rest stay in the baseline, and the
result says so.

R^2(S) uses the centred Gram matrix: R^2(S) = b_S' G_S^+ b_S / y'y with G = Xc'Xc and
b = Xc'yc, so no regression is refitted on the items; the pseudo-inverse copes with themes that
are collinear (e.g. indicators that cover every item).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, Field

from outputs import metrics
from outputs.uncertainty import metric_name, score_type_of


class Driver(BaseModel):
    """One theme's share of the explained variance."""

    theme_id: int
    coefficient: float
    share: float
    signed_share: float
    pct_of_r2: float | None = None


class DriverResult(BaseModel):
    """Shapley decomposition of a regression of the score on theme indicators."""

    score_type: str
    metric_key: str
    n: int
    r2: float
    drivers: list[Driver] = Field(default_factory=list)
    themes_left_out: int = 0


def _r2_all_subsets(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> dict[int, float]:
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    syy = float(yc @ yc)
    gram = xc.T @ xc
    cross = xc.T @ yc
    k = x.shape[1]
    r2: dict[int, float] = {0: 0.0}
    if syy == 0.0:
        return {mask: 0.0 for mask in range(1 << k)}
    for size in range(1, k + 1):
        for cols in combinations(range(k), size):
            idx = list(cols)
            beta = np.linalg.pinv(gram[np.ix_(idx, idx)]) @ cross[idx]
            mask = sum(1 << c for c in cols)
            r2[mask] = float(cross[idx] @ beta) / syy
    return r2


def shapley_r2(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], float]:
    """Exact Shapley values of R^2 for each column of ``x`` (formula in the module docstring).

    Args:
        x: (n, k) predictor matrix (k <= about 15: the cost is 2^k small solves).
        y: (n,) outcome.

    Returns:
        (shares per column, full-model R^2); the shares sum to the R^2.
    """
    xm = np.asarray(x, dtype=np.float64)
    ym = np.asarray(y, dtype=np.float64).ravel()
    if xm.ndim != 2 or xm.shape[0] != ym.size:
        raise ValueError("x must be (n, k) with n = len(y)")
    k = xm.shape[1]
    if k == 0 or ym.size < 2:
        return np.zeros(k), 0.0
    r2 = _r2_all_subsets(xm, ym)
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    shares = np.zeros(k)
    for mask, value in r2.items():
        size = bin(mask).count("1")
        for j in range(k):
            if not mask >> j & 1:
                shares[j] += weight[size] * (r2[mask | 1 << j] - value)
    return shares, r2[(1 << k) - 1]


def ols_coefficients(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Slopes of the OLS fit of y on x with an intercept (minimum-norm when collinear)."""
    xm = np.asarray(x, dtype=np.float64)
    ym = np.asarray(y, dtype=np.float64).ravel()
    xc = xm - xm.mean(axis=0)
    coef, *_ = np.linalg.lstsq(xc, ym - ym.mean(), rcond=None)
    return np.asarray(coef, dtype=np.float64)


def key_drivers(
    items: pd.DataFrame, metric_key: str, *, max_themes: int = 12, min_n: int = 30
) -> DriverResult | None:
    """Key drivers of one metric among the themes of the window.

    Args:
        items: Item frame with ``score``, ``score_type`` and ``theme_id`` (-1 = no theme).
        metric_key: The metric to explain, e.g. "nps" or "csat_mean" (items of other score
            types are left out).
        max_themes: Largest themes modelled (by number of scored items); the rest are baseline.
        min_n: Scored items needed for a regression.

    Returns:
        The decomposition, drivers sorted by signed share ascending (worst first); None when
        fewer than ``min_n`` items carry the score or no theme has a scored item.
    """
    score_type = score_type_of(metric_key)
    scores = items["score"].to_numpy(dtype=np.float64)
    keep = (items["score_type"] == score_type).to_numpy() & np.isfinite(scores)
    if keep.sum() < max(min_n, 2):
        return None
    y = metrics.item_values(scores[keep], metric_name(metric_key))
    tid = items["theme_id"].to_numpy(dtype=np.int64)[keep]
    counts = pd.Series(tid[tid >= 0]).value_counts()
    # Largest first, ties by id, so the modelled set does not depend on hash order.
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), int(kv[0])))
    chosen = [int(t) for t, _ in ordered[:max_themes]]
    if not chosen:
        return None
    x = np.column_stack([(tid == t).astype(np.float64) for t in chosen])
    shares, r2 = shapley_r2(x, y)
    coef = ols_coefficients(x, y)
    drivers = [
        Driver(
            theme_id=t,
            coefficient=float(c),
            share=float(s),
            signed_share=float(math.copysign(s, c)),
            pct_of_r2=float(s / r2) if r2 > 0 else None,
        )
        for t, c, s in zip(chosen, coef, shares, strict=True)
    ]
    drivers.sort(key=lambda d: (d.signed_share, d.theme_id))
    return DriverResult(
        score_type=score_type,
        metric_key=metric_key,
        n=int(y.size),
        r2=float(r2),
        drivers=drivers,
        themes_left_out=max(0, len(ordered) - len(chosen)),
    )
