"""Did the fix work? Difference-in-differences of a theme against control themes.

For an action logged on theme T at date D, items in ``[D - w, D)`` are *before* and items in
``[D, D + w)`` *after* (UTC days); the control group C is the other themes with items in both
windows (or the themes the action names). Each outcome's change in T minus its change in C:

* **Volume** (log rate ratio): DiD = ln(c_Ta / c_Tb) - ln(c_Ca / c_Cb), shown as
  100 x (e^DiD - 1) %; SE = sqrt(1/c_Ta + 1/c_Tb + 1/c_Ca + 1/c_Cb) (Poisson counts, delta
  method). Unequal window lengths cancel. With a zero count 0.5 is added to all four.
* **Negative share** (percentage points): (q_Ta - q_Tb) - (q_Ca - q_Cb),
  SE = sqrt(sum q (1 - q) / n) over the four independent groups.
* **Theme score** (e.g. NPS of T's items vs C's items): (m_Ta - m_Tb) - (m_Ca - m_Cb),
  SE = sqrt(sum SE^2) with the SEs of ``outputs.uncertainty``.
* **Impact** (leave-one-out, in the metric's points): (I_Ta - I_Tb) - s_T x mean_c
  ((I_ca - I_cb) / s_c) over the control themes c, with s the group's share of scored items
  over both windows. I / s is the theme's score gap (metric of the theme - metric without
  it), so the second term is what T's impact would have done had its gap moved like the
  average control's. 95 % percentile bootstrap, resampling the before and after items
  independently (seeds ``seed`` and ``seed + 1``). T's items sit in every control's
  "without" group, so a large T nudges the controls' gaps the other way and slightly inflates
  the estimate; with many control themes the effect is small.

Intervals are value +/- 1.96 SE except the bootstrap one. The design assumes parallel trends:
without the action T would have moved like C. References: Angrist & Pischke (2009), Mostly
Harmless Econometrics, ch. 5; Card & Krueger (1994).
"""

from __future__ import annotations

import math
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from outputs import metrics
from outputs.trends import day_of
from outputs.uncertainty import Z95, estimate, metric_name, score_type_of


class LoggedAction(BaseModel):
    """An action taken on a theme (from the action log)."""

    action_id: str
    theme: str
    owner: str = ""
    action: str = ""
    action_date: date
    link: str | None = None
    controls: list[str] = Field(default_factory=list)


class DidEstimate(BaseModel):
    """One outcome's difference-in-differences with its interval."""

    outcome: str
    unit: str
    treated_before: float | None = None
    treated_after: float | None = None
    control_before: float | None = None
    control_after: float | None = None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class ActionEffect(BaseModel):
    """A logged action, the theme it matched and its before/after estimates."""

    action: LoggedAction
    theme_id: int | None = None
    theme_label: str | None = None
    control_theme_ids: list[int] = Field(default_factory=list)
    window_days: int = 28
    n_before: int = 0
    n_after: int = 0
    estimates: list[DidEstimate] = Field(default_factory=list)
    note: str = ""


def match_theme(name: str, labels: dict[int, str], keywords: dict[int, list[str]]) -> int | None:
    """Find the theme an action names: exact label, else all its words in label + keywords.

    Theme ids change when themes are refitted, so actions name themes by label.

    Args:
        name: The action's theme text.
        labels: theme_id -> label.
        keywords: theme_id -> keywords.

    Returns:
        The theme id (the smallest id when several match), or None.
    """
    wanted = name.strip().casefold()
    exact = sorted(t for t, label in labels.items() if label.strip().casefold() == wanted)
    if exact:
        return exact[0]
    words = wanted.split()
    if not words:
        return None
    for t in sorted(labels):
        bag = " ".join([labels[t], *keywords.get(t, [])]).casefold()
        if all(w in bag for w in words):
            return t
    return None


def volume_did(c_tb: int, c_ta: int, c_cb: int, c_ca: int) -> DidEstimate:
    """Log-rate-ratio DiD of counts, as a % change with its interval (module docstring)."""
    h = 0.5 if min(c_tb, c_ta, c_cb, c_ca) == 0 else 0.0
    tb, ta, cb, ca = (c + h for c in (c_tb, c_ta, c_cb, c_ca))
    est = math.log(ta / tb) - math.log(ca / cb)
    se = math.sqrt(1 / ta + 1 / tb + 1 / ca + 1 / cb)

    def pct(x: float) -> float:
        return 100.0 * (math.exp(x) - 1.0)

    return DidEstimate(
        outcome="volume",
        unit="% vs controls",
        treated_before=float(c_tb),
        treated_after=float(c_ta),
        control_before=float(c_cb),
        control_after=float(c_ca),
        estimate=pct(est),
        ci_low=pct(est - Z95 * se),
        ci_high=pct(est + Z95 * se),
    )


def share_did(k: tuple[int, int, int, int], n: tuple[int, int, int, int]) -> DidEstimate | None:
    """DiD of proportions in percentage points; k and n ordered (Tb, Ta, Cb, Ca)."""
    if min(n) == 0:
        return None
    q = [ki / ni for ki, ni in zip(k, n, strict=True)]
    est = 100.0 * ((q[1] - q[0]) - (q[3] - q[2]))
    se = 100.0 * math.sqrt(sum(qi * (1 - qi) / ni for qi, ni in zip(q, n, strict=True)))
    return DidEstimate(
        outcome="negative_share",
        unit="pp",
        treated_before=100 * q[0],
        treated_after=100 * q[1],
        control_before=100 * q[2],
        control_after=100 * q[3],
        estimate=est,
        ci_low=est - Z95 * se,
        ci_high=est + Z95 * se,
    )


def _score_did(groups: list[np.ndarray], key: str, min_n: int) -> DidEstimate | None:
    ests = [estimate(g, key, min_n) for g in groups]
    if any(e.too_few or e.value is None or e.se is None for e in ests):
        return None
    v = [float(e.value or 0.0) for e in ests]
    est = (v[1] - v[0]) - (v[3] - v[2])
    se = math.sqrt(sum(float(e.se or 0.0) ** 2 for e in ests))
    return DidEstimate(
        outcome=f"theme_{key}", unit="points", treated_before=v[0], treated_after=v[1],
        control_before=v[2], control_after=v[3], estimate=est,
        ci_low=est - Z95 * se, ci_high=est + Z95 * se,
    )  # fmt: skip


def _impact_did(
    scores: tuple[np.ndarray, np.ndarray],
    codes: tuple[np.ndarray, np.ndarray],
    key: str,
    n_boot: int,
    seed: int,
) -> DidEstimate | None:
    # codes: 0 = treated theme, 1..m = control themes, -1 = other items (outliers).
    name = metric_name(key)
    fn = metrics.METRIC_FUNCTIONS[name]
    m = int(max(c.max(initial=-1) for c in codes))
    counts = sum(np.bincount(c[c >= 0], minlength=m + 1) for c in codes)
    total = sum(c.size for c in codes)
    if m < 1 or any((c == 0).sum() == 0 for c in codes):
        return None
    share = np.asarray(counts, dtype=np.float64) / total
    points, draws = [], []
    for i, (s, c) in enumerate(zip(scores, codes, strict=True)):
        points.append(np.array([metrics.loo_impact(s, c == g, fn) for g in range(m + 1)]))
        # One padding item per group keeps every group's column in the draws.
        pad = np.arange(m + 1)
        draws.append(
            metrics.bootstrap_loo_draws(
                np.concatenate([s, np.full(pad.size, np.nan)]),
                np.concatenate([c, pad]),
                n_boot=n_boot,
                seed=seed + i,
                metric=name,
            )
        )

    def did(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        # Treated change minus the controls' mean change per unit of share, scaled to the
        # treated theme's share: what T's impact would have done had its gap moved like C's.
        control = np.nanmean((after[..., 1:] - before[..., 1:]) / share[1:], axis=-1)
        return np.asarray((after[..., 0] - before[..., 0]) - share[0] * control)

    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN control rows stay NaN
        est = float(did(points[0], points[1]))
        low, high = metrics.percentile_interval(did(draws[0], draws[1])[:, None])[0]
    if not math.isfinite(est):
        return None
    return DidEstimate(
        outcome=f"{key}_impact", unit="points", treated_before=float(points[0][0]),
        treated_after=float(points[1][0]), control_before=float(np.nanmean(points[0][1:])),
        control_after=float(np.nanmean(points[1][1:])), estimate=est,
        ci_low=float(low) if math.isfinite(low) else None,
        ci_high=float(high) if math.isfinite(high) else None,
    )  # fmt: skip


def did_estimates(
    items: pd.DataFrame,
    theme_id: int,
    action_date: date,
    *,
    control_ids: list[int] | None = None,
    window_days: int = 28,
    metric_key: str | None = "nps",
    min_n: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[list[DidEstimate], int, int, list[int]]:
    """All DiD outcomes of one action (module docstring).

    Args:
        items: Item frame with ``created_at``, ``theme_id``, ``sentiment``, ``score``,
            ``score_type``.
        theme_id: The treated theme.
        action_date: First day of the after window.
        control_ids: Control themes; default every other theme with items in both windows
            (outliers excluded).
        window_days: Length of the before and after windows.
        metric_key: Score metric for the score and impact outcomes; None = skip them.
        min_n: Scored items each of the four groups needs for the score outcome.
        n_boot: Bootstrap resamples for the impact outcome.
        seed: Bootstrap seed.

    Returns:
        (estimates, items before, items after, control theme ids); estimates are empty when
        either window has no treated or no control item.
    """
    days = day_of(items["created_at"]).dt.date
    before = (days >= action_date - timedelta(days=window_days)) & (days < action_date)
    after = (days >= action_date) & (days < action_date + timedelta(days=window_days))
    tid = items["theme_id"].to_numpy(dtype=np.int64)
    b, a = before.to_numpy(), after.to_numpy()
    if control_ids is None:
        # Only themes present on both sides: one born (or gone) in a window would read as a
        # change of the control group that has nothing to do with the action.
        both = set(np.unique(tid[b]).tolist()) & set(np.unique(tid[a]).tolist())
        control_ids = sorted(int(t) for t in both if t >= 0 and t != theme_id)
    treated, control = tid == theme_id, np.isin(tid, control_ids)
    counts = [int((g & p).sum()) for g in (treated, control) for p in (b, a)]
    c_tb, c_ta, c_cb, c_ca = counts
    n_b, n_a = int(b.sum()), int(a.sum())
    # The treated theme may vanish after the fix (c_ta = 0, the hoped-for case), but there
    # must be something to compare: treated items before, control items in both windows.
    if min(c_tb, c_cb, c_ca) == 0:
        return [], n_b, n_a, control_ids
    out = [volume_did(c_tb, c_ta, c_cb, c_ca)]
    negative = (items["sentiment"] == "negative").to_numpy()
    groups = [(treated & b), (treated & a), (control & b), (control & a)]
    shares = share_did(
        tuple(int((negative & g).sum()) for g in groups),  # type: ignore[arg-type]
        tuple(int(g.sum()) for g in groups),  # type: ignore[arg-type]
    )
    if shares is not None:
        out.append(shares)
    if metric_key is not None:
        score_type = score_type_of(metric_key)
        scores = items["score"].to_numpy(dtype=np.float64)
        typed = np.isfinite(scores) & (items["score_type"] == score_type).to_numpy()
        score_did = _score_did([scores[typed & g] for g in groups], metric_key, min_n)
        if score_did is not None:
            out.append(score_did)
        lookup = {t: i for i, t in enumerate(control_ids, start=1)}
        code = np.array([0 if t == theme_id else lookup.get(int(t), -1) for t in tid])
        impact = _impact_did(
            (scores[typed & b], scores[typed & a]),
            (code[typed & b], code[typed & a]),
            metric_key,
            n_boot,
            seed,
        )
        if impact is not None:
            out.append(impact)
    return out, n_b, n_a, control_ids
