"""Churn linkage: how much more often churned customers raise a theme than retained ones.

Unit: the customer (hashed ``customer_key``), not the item, so a customer who writes ten times
counts once. Only customers present in the window *and* in the status source count.

For a theme: a of n1 churned customers and c of n2 retained customers mention it (any item).

    lift = (a / n1) / (c / n2)
    SE(ln lift) = sqrt(1/a - 1/n1 + 1/c - 1/n2)        (Katz et al. 1978, risk-ratio form)
    95 % interval = lift x exp(+/- 1.96 SE)

With a zero cell, 0.5 is added to a and c and 1 to n1 and n2 (Haldane-Anscombe), so the
interval stays finite and honest about how little a zero says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel

from outputs.uncertainty import Z95


class ChurnLift(BaseModel):
    """One theme's churn lift with its interval."""

    theme_id: int
    churned_with: int
    churned_total: int
    retained_with: int
    retained_total: int
    lift: float
    ci_low: float
    ci_high: float

    def describe(self) -> str:
        """E.g. "churn lift ×1.8 [1.2, 2.6] (12 of 40 churned customers)"."""
        return (
            f"churn lift ×{self.lift:.1f} [{self.ci_low:.1f}, {self.ci_high:.1f}] "
            f"({self.churned_with} of {self.churned_total} churned customers)"
        )


def risk_ratio(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """Risk ratio (a/n1) / (c/n2) with its Katz log interval (module docstring).

    Args:
        a: Churned customers with the theme.
        n1: Churned customers.
        c: Retained customers with the theme.
        n2: Retained customers.

    Returns:
        (ratio, low, high).
    """
    if a == 0 or c == 0:
        a_f, c_f, n1_f, n2_f = a + 0.5, c + 0.5, n1 + 1.0, n2 + 1.0
    else:
        a_f, c_f, n1_f, n2_f = float(a), float(c), float(n1), float(n2)
    ratio = (a_f / n1_f) / (c_f / n2_f)
    se = math.sqrt(max(1 / a_f - 1 / n1_f + 1 / c_f - 1 / n2_f, 0.0))
    return ratio, ratio * math.exp(-Z95 * se), ratio * math.exp(Z95 * se)


def churn_lifts(
    items: pd.DataFrame, churned: Mapping[str, bool], *, min_customers: int = 10
) -> dict[int, ChurnLift]:
    """Churn lift of every theme.

    Args:
        items: Item frame with ``customer_key`` and ``theme_id``.
        churned: Hashed customer key -> True (churned) / False (retained).
        min_customers: Churned and retained customers each needed; else no lift at all.

    Returns:
        theme_id -> lift (empty when the status source covers too few customers).
    """
    if "customer_key" not in items.columns or not churned:
        return {}
    keys = items["customer_key"].astype("object")
    status = keys.map(lambda k: churned.get(k) if isinstance(k, str) else None)
    known = items[status.notna()].assign(_churned=status.dropna().astype(bool))
    customers = known.groupby("customer_key")["_churned"].first()
    n1, n2 = int(customers.sum()), int((~customers).sum())
    if n1 < min_customers or n2 < min_customers:
        return {}
    pairs = known.loc[known["theme_id"] >= 0, ["customer_key", "theme_id", "_churned"]]
    pairs = pairs.drop_duplicates(["customer_key", "theme_id"])
    out = {}
    for theme_id, group in pairs.groupby("theme_id"):
        a = int(group["_churned"].sum())
        c = int((~group["_churned"].to_numpy(dtype=bool)).sum())
        lift, low, high = risk_ratio(a, n1, c, n2)
        out[int(np.int64(theme_id))] = ChurnLift(
            theme_id=int(np.int64(theme_id)),
            churned_with=a,
            churned_total=n1,
            retained_with=c,
            retained_total=n2,
            lift=lift,
            ci_low=low,
            ci_high=high,
        )
    return out
