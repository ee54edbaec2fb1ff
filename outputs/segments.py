"""Segments and competitors: any metadata column as a segment, with significance marks.

A segment column is any of ``product``, ``channel``, ``source``, ``language`` or a flattened
``segment.<key>`` column (country, plan, platform, app version, brand...). Items without a value
for the column are left out of that column's view.

* Per level: the primary metric with its SE (``outputs.uncertainty``), compared with all other
  levels pooled: z = (m_level - m_rest) / sqrt(SE_level^2 + SE_rest^2); the negative share is
  compared the same way (SE of a proportion). Marks ▲ / ▼ are shown when the Benjamini-Hochberg
  q-value over all tests of the view is below ``q`` (0.05).
* Per level: the themes with the most harmful leave-one-out impact inside the level, with
  bootstrap intervals (``outputs.metrics.bootstrap_loo_impacts``).
* Per theme: the level where the theme is most over-represented, lift = P(level | theme) /
  P(level | other items), two-proportion z-test, BH over every (theme, column, level) test.

The brand comparison of social mentions is in ``outputs.brands``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from outputs import metrics
from outputs.uncertainty import (
    MetricEstimate,
    benjamini_hochberg,
    difference_z,
    estimate,
    metric_name,
    score_type_of,
    two_sided_p,
)

BASE_COLUMNS: tuple[str, ...] = ("product", "channel", "source", "language")
PREFIX = "segment."


class SegmentTheme(BaseModel):
    """A theme inside one segment level."""

    theme_id: int
    volume: int
    negative_share: float
    impact: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class SegmentLevel(BaseModel):
    """One level of a segment column against all other levels."""

    level: str
    n: int
    metric: MetricEstimate | None = None
    diff: float | None = None
    q_value: float | None = None
    mark: str = ""
    negative_share: float = 0.0
    negative_diff: float = 0.0
    negative_q: float | None = None
    negative_mark: str = ""
    top_themes: list[SegmentTheme] = Field(default_factory=list)


class SegmentView(BaseModel):
    """Per-level metrics, marks and themes of one segment column."""

    column: str
    metric_key: str | None = None
    levels: list[SegmentLevel] = Field(default_factory=list)
    levels_not_shown: int = 0


class SegmentLift(BaseModel):
    """The segment level where a theme is most over-represented."""

    column: str
    level: str
    lift: float
    theme_n: int
    q_value: float

    def label(self) -> str:
        """E.g. "cabin_flown=Economy ×2.1"."""
        return f"{self.column.removeprefix(PREFIX)}={self.level} ×{self.lift:.1f}"


def metadata_columns(items: pd.DataFrame) -> pd.DataFrame:
    """Segment and customer columns of stored items, for the per-item analysis frame.

    Args:
        items: Stored items; uses ``product``, ``customer_key`` and ``segment`` (a JSON
            object or a dict per item) when present.

    Returns:
        Frame on a fresh 0..n-1 index with ``product``, ``customer_key`` and one
        ``segment.<key>`` column per key found (values as strings, missing as None).
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(items)))
    for column in ("product", "customer_key"):
        if column in items.columns:
            values = items[column].astype("object").to_numpy()
            out[column] = pd.Series(
                [v if isinstance(v, str) and v else None for v in values], dtype=object
            )
    if "segment" not in items.columns:
        return out
    parsed = [_as_dict(v) for v in items["segment"].to_numpy()]
    for key in sorted({k for d in parsed for k in d}):
        out[f"{PREFIX}{key}"] = pd.Series(
            [str(d[key]) if d.get(key) not in (None, "") else None for d in parsed], dtype=object
        )
    return out


def _as_dict(value: object) -> dict[str, object]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}


def significance_mark(z: float, q: float, level: float) -> str:
    """▲ / ▼ for a significant positive / negative difference (q below ``level``), else ""."""
    if not (math.isfinite(z) and math.isfinite(q)) or q >= level:
        return ""
    return "▲" if z > 0 else "▼"


def proportion_z(k1: int, n1: int, k2: int, n2: int) -> float:
    """The z statistic of k1/n1 - k2/n2 with unpooled proportion SEs."""
    p1, p2 = k1 / n1, k2 / n2
    return difference_z(p1, math.sqrt(p1 * (1 - p1) / n1), p2, math.sqrt(p2 * (1 - p2) / n2))


def column_values(items: pd.DataFrame, column: str) -> pd.Series:
    """A column as objects with every missing value (None, NaN, pd.NA) as None."""
    return items[column].astype("object").where(items[column].notna(), None)


def segment_columns(
    items: pd.DataFrame, explicit: list[str] | None = None, min_n: int = 30
) -> list[str]:
    """Columns usable as segments: explicit ones, else every candidate with 2+ sizeable levels.

    Args:
        items: Item frame.
        explicit: Columns to use as given (missing ones are skipped).
        min_n: Items a level needs to count as sizeable.

    Returns:
        Column names in a stable order.
    """
    if explicit is not None:
        return [c for c in explicit if c in items.columns]
    candidates = [c for c in BASE_COLUMNS if c in items.columns]
    candidates += sorted(c for c in items.columns if str(c).startswith(PREFIX))
    out = []
    for column in candidates:
        counts = column_values(items, column).dropna().astype(str).value_counts()
        if int((counts >= min_n).sum()) >= 2:
            out.append(column)
    return out


def _level_themes(
    sub: pd.DataFrame, key: str | None, n_boot: int, seed: int, min_scored: int, limit: int
) -> list[SegmentTheme]:
    tid = sub["theme_id"].to_numpy(dtype=np.int64)
    negative = (sub["sentiment"] == "negative").to_numpy()
    ids = sorted(int(t) for t in np.unique(tid) if t >= 0)
    rows = [
        SegmentTheme(
            theme_id=t,
            volume=int((tid == t).sum()),
            negative_share=float(negative[tid == t].mean()),
        )
        for t in ids
    ]
    if key is not None:
        score_type = score_type_of(key)
        scores = sub["score"].to_numpy(dtype=np.float64)
        typed = (sub["score_type"] == score_type).to_numpy() & np.isfinite(scores)
        codes = np.array([ids.index(t) if t in ids else -1 for t in tid[typed]], dtype=np.int64)
        if codes.size and ids:
            pad = np.arange(len(ids))
            ci = metrics.bootstrap_loo_impacts(
                np.concatenate([scores[typed], np.full(pad.size, np.nan)]),
                np.concatenate([codes, pad]),
                n_boot=n_boot,
                seed=seed,
                metric=metric_name(key),
            )
            fn = metrics.METRIC_FUNCTIONS[metric_name(key)]
            for i, row in enumerate(rows):
                in_theme = tid[typed] == row.theme_id
                if in_theme.sum() >= min_scored and np.isfinite(ci[i]).all():
                    row.impact = metrics.loo_impact(scores[typed], in_theme, fn)
                    row.ci_low, row.ci_high = float(ci[i, 0]), float(ci[i, 1])
    # Most certainly harmful first; themes without an interval by negative volume.
    rows.sort(
        key=lambda r: (
            r.ci_high if r.ci_high is not None else math.inf,
            -r.volume * r.negative_share,
            r.theme_id,
        )
    )
    return rows[:limit]


def segment_view(
    items: pd.DataFrame,
    column: str,
    *,
    metric_key: str | None,
    min_n: int = 30,
    max_levels: int = 12,
    n_boot: int = 500,
    seed: int = 0,
    min_scored: int = 10,
    themes_per_level: int = 3,
    q: float = 0.05,
) -> SegmentView:
    """Metrics, significance marks and top themes for each sizeable level of one column.

    Args:
        items: Item frame with ``score``, ``score_type``, ``sentiment``, ``theme_id``, ``column``.
        column: The segment column.
        metric_key: Primary metric key (e.g. "nps", "csat_top2box"); None = sentiment only.
        min_n: Items a level needs to be shown.
        max_levels: Most levels shown (largest first).
        n_boot: Bootstrap resamples for per-level theme impacts.
        seed: Bootstrap seed.
        min_scored: Scored theme items needed for a theme's impact interval.
        themes_per_level: Themes listed per level.
        q: BH false-discovery level for the marks.

    Returns:
        The view (levels sorted by size).
    """
    values = column_values(items, column)
    known = items[values.notna()].assign(_level=values.dropna().astype(str))
    counts = known["_level"].value_counts()
    ordered = sorted(
        ((str(k), int(v)) for k, v in counts.items() if v >= min_n), key=lambda kv: (-kv[1], kv[0])
    )
    shown = ordered[:max_levels]
    score_type = score_type_of(metric_key) if metric_key is not None else None
    scores = known["score"].to_numpy(dtype=np.float64)
    typed = np.isfinite(scores) & (known["score_type"] == score_type).to_numpy()
    negative = (known["sentiment"] == "negative").to_numpy()
    level_arr = known["_level"].to_numpy()
    levels: list[SegmentLevel] = []
    z_all: list[float] = []
    for level, n in shown:
        inside = level_arr == level
        row = SegmentLevel(level=level, n=n)
        z_metric = math.nan
        if metric_key is not None and typed.any():
            est = estimate(scores[typed & inside], metric_key, min_n)
            rest = estimate(scores[typed & ~inside], metric_key, min_n)
            row.metric = est
            if est.value is not None and rest.value is not None:
                row.diff = est.value - rest.value
                z_metric = difference_z(est.value, est.se or 0.0, rest.value, rest.se or 0.0)
        k_in, k_out, n_out = (
            int(negative[inside].sum()),
            int(negative[~inside].sum()),
            len(known) - n,
        )
        row.negative_share = k_in / n
        row.negative_diff = row.negative_share - (k_out / n_out if n_out else math.nan)
        z_neg = proportion_z(k_in, n, k_out, n_out) if n_out else math.nan
        z_all += [z_metric, z_neg]
        row.top_themes = _level_themes(
            known[inside], metric_key, n_boot, seed, min_scored, themes_per_level
        )
        levels.append(row)
    qs = benjamini_hochberg([two_sided_p(z) for z in z_all])
    for i, row in enumerate(levels):
        z_metric, z_neg, q_metric, q_neg = z_all[2 * i], z_all[2 * i + 1], qs[2 * i], qs[2 * i + 1]
        row.q_value = q_metric if math.isfinite(q_metric) else None
        row.negative_q = q_neg if math.isfinite(q_neg) else None
        row.mark = (
            ""
            if row.metric is None or row.metric.too_few
            else significance_mark(z_metric, q_metric, q)
        )
        row.negative_mark = significance_mark(z_neg, q_neg, q)
    return SegmentView(
        column=column,
        metric_key=metric_key,
        levels=levels,
        levels_not_shown=len(counts) - len(shown),
    )


def theme_segment_lifts(
    items: pd.DataFrame, columns: list[str], *, min_count: int = 5, q: float = 0.05
) -> dict[int, SegmentLift]:
    """For each theme, the segment level where it is most over-represented (if significant).

    Args:
        items: Item frame with ``theme_id`` and the segment columns.
        columns: Segment columns to test.
        min_count: Theme items a level needs before it is tested.
        q: BH false-discovery level over all tests.

    Returns:
        theme_id -> the significant over-representation with the smallest q (ties: larger
        lift); themes without one are absent.
    """
    tests: list[tuple[int, str, str, float, int, float]] = []
    tid_all = items["theme_id"].to_numpy(dtype=np.int64)
    for column in columns:
        values = column_values(items, column)
        known = values.notna().to_numpy()
        level_arr = values.astype(str).to_numpy()
        tid = tid_all[known]
        levels = level_arr[known]
        for t in sorted(int(x) for x in np.unique(tid) if x >= 0):
            in_t = tid == t
            n_t, n_o = int(in_t.sum()), int((~in_t).sum())
            if n_o == 0:
                continue
            for level in np.unique(levels[in_t]):
                a = int((in_t & (levels == level)).sum())
                b = int((~in_t & (levels == level)).sum())
                if a < min_count or b == 0:
                    continue
                lift = (a / n_t) / (b / n_o)
                tests.append(
                    (t, column, str(level), lift, a, two_sided_p(proportion_z(a, n_t, b, n_o)))
                )
    qs = benjamini_hochberg([p for *_, p in tests])
    best: dict[int, SegmentLift] = {}
    for (t, column, level, lift, a, _p), qv in zip(tests, qs, strict=True):
        if lift <= 1 or not math.isfinite(qv) or qv >= q:
            continue
        found = SegmentLift(column=column, level=level, lift=lift, theme_n=a, q_value=qv)
        old = best.get(t)
        if old is None or (qv, -lift) < (old.q_value, -old.lift):
            best[t] = found
    return best
