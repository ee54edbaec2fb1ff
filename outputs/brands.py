"""Brand comparison for social mentions of several brands (competitors).

Net sentiment = %positive - %negative mentions with SE = 100 x sqrt((p + d - (p - d)^2) / n),
the NPS formula on +1 / 0 / -1 mentions (Chattermill's net sentiment), and each theme's share
of each brand's mentions; both are compared with the other brands pooled (z-test) and marked
▲ / ▼ when the Benjamini-Hochberg q over the view's tests is below ``q``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from outputs.segments import column_values, proportion_z, significance_mark
from outputs.uncertainty import benjamini_hochberg, difference_z, two_sided_p


class BrandRow(BaseModel):
    """One brand's mentions: net sentiment and theme shares, each marked against the others."""

    brand: str
    n: int
    net_sentiment: float
    net_sentiment_se: float
    mark: str = ""
    theme_shares: dict[int, float] = Field(default_factory=dict)
    theme_marks: dict[int, str] = Field(default_factory=dict)


class BrandView(BaseModel):
    """Brand comparison over the largest themes."""

    column: str
    theme_ids: list[int] = Field(default_factory=list)
    brands: list[BrandRow] = Field(default_factory=list)


def brand_comparison(
    items: pd.DataFrame, column: str, *, top_themes: int = 8, min_n: int = 30, q: float = 0.05
) -> BrandView | None:
    """Net sentiment and theme shares per brand, each marked against the other brands pooled.

    Args:
        items: Item frame with ``sentiment``, ``theme_id`` and the brand column.
        column: The brand column (e.g. ``product`` or ``segment.brand``).
        top_themes: Largest themes compared.
        min_n: Mentions a brand needs to be compared.
        q: BH false-discovery level for the marks.

    Returns:
        The view, or None when fewer than two brands have ``min_n`` mentions.
    """
    if column not in items.columns:
        return None
    values = column_values(items, column)
    known = items[values.notna()].assign(_brand=values.dropna().astype(str))
    counts = known["_brand"].value_counts()
    brands = sorted((str(b) for b, n in counts.items() if n >= min_n), key=lambda b: -counts[b])
    if len(brands) < 2:
        return None
    tid = known["theme_id"].to_numpy(dtype=np.int64)
    volumes = pd.Series(tid[tid >= 0]).value_counts()
    ordered = sorted(volumes.items(), key=lambda kv: (-int(kv[1]), int(kv[0])))
    theme_ids = [int(t) for t, _ in ordered[:top_themes]]
    value = np.where(known["sentiment"] == "positive", 100.0, 0.0) - np.where(
        known["sentiment"] == "negative", 100.0, 0.0
    )
    brand_arr = known["_brand"].to_numpy()
    rows, z_all = [], []
    for brand in brands:
        inside = brand_arr == brand
        n, n_o = int(inside.sum()), int((~inside).sum())
        net, net_o = float(value[inside].mean()), float(value[~inside].mean())
        se, se_o = (float(np.std(v) / math.sqrt(v.size)) for v in (value[inside], value[~inside]))
        row = BrandRow(brand=brand, n=n, net_sentiment=net, net_sentiment_se=se)
        z_all.append(difference_z(net, se, net_o, se_o))
        for t in theme_ids:
            a, b = int((inside & (tid == t)).sum()), int((~inside & (tid == t)).sum())
            row.theme_shares[t] = a / n
            z_all.append(proportion_z(a, n, b, n_o))
        rows.append(row)
    qs = benjamini_hochberg([two_sided_p(z) for z in z_all])
    step = 1 + len(theme_ids)
    for i, row in enumerate(rows):
        row.mark = significance_mark(z_all[i * step], qs[i * step], q)
        for j, t in enumerate(theme_ids, start=1):
            row.theme_marks[t] = significance_mark(z_all[i * step + j], qs[i * step + j], q)
    return BrandView(column=column, theme_ids=theme_ids, brands=rows)
