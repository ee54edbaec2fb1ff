"""Joins stored items, sentiment and themes into the frame and theme list the ranking expects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.protocols import ThemeResult
from outputs.report import ThemeInfo
from outputs.segments import metadata_columns


def ranking_frame(items: pd.DataFrame, sentiment: pd.Series, result: ThemeResult) -> pd.DataFrame:
    """Builds the per-item frame of ``outputs.ranking`` from stored items and model outputs.

    Args:
        items: Stored items of the analysis window (``ITEM_COLUMNS`` less raw text).
        sentiment: Sentiment label per item, indexed like ``items``.
        result: Theme fit over the same items, in the same order.

    Returns:
        Frame with ``item_key, text, source, channel, language, created_at, url, score,
        score_type, sentiment, theme_id``, then ``product``, ``customer_key`` (hashed) and
        one ``segment.<key>`` column per segment key; ``text`` is the cleaned, redacted text.
    """
    frame = pd.DataFrame(
        {
            "item_key": items["item_key"].to_numpy(),
            "text": items["text_clean"].to_numpy(),
            "source": items["source"].to_numpy(),
            "channel": items["channel"].to_numpy(),
            "language": items["language"].to_numpy(),
            "created_at": items["created_at"].to_numpy(),
            "url": items["url"].to_numpy(),
            "score": pd.to_numeric(items["score"], errors="coerce").to_numpy(dtype=float),
            "score_type": items["score_type"].to_numpy(),
            "sentiment": sentiment.to_numpy(),
            "theme_id": np.asarray(result.assignments, dtype=int),
        }
    )
    return pd.concat([frame, metadata_columns(items)], axis=1)


def theme_infos(items: pd.DataFrame, result: ThemeResult) -> list[ThemeInfo]:
    """Turns fitted themes into ``ThemeInfo`` with quote item keys."""
    keys = items["item_key"].to_numpy()
    area_of = dict(result.info.get("area_of") or {})  # type: ignore[call-overload]
    lineage = dict(result.info.get("lineage") or {})  # type: ignore[call-overload]
    return [
        ThemeInfo(
            theme_id=theme.theme_id,
            label=theme.label,
            keywords=list(theme.keywords),
            quote_item_keys=[str(keys[i]) for i in theme.representative_idx],
            area=area_of.get(theme.theme_id),
            lineage=lineage.get(theme.theme_id),
        )
        for theme in result.themes
    ]


def score_note(items: pd.DataFrame) -> str:
    """States where the scores come from, naming every derivation (reports print it)."""
    scored = items[items["score_type"].notna()]
    if scored.empty:
        return "No item in this window carries a score; impact figures are not available."
    parts = []
    for (source, kind), group in scored.groupby(["source", "score_type"], sort=True):
        derived = group["score_derived_from"].dropna().unique()
        how = f"derived: {derived[0]}" if len(derived) else "as answered"
        parts.append(f"{source}: {kind.upper()} ({how}, n={len(group)})")
    note = "; ".join(parts)
    if scored["score_derived_from"].notna().any():
        note += ". Derived scores are not genuine survey answers; read impacts as indicative."
    return note
