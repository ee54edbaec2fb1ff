"""Joins stored items, sentiment and themes into the frame and theme list the ranking expects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nlp.protocols import ThemeResult
from outputs.report import ThemeInfo


def ranking_frame(items: pd.DataFrame, sentiment: pd.Series, result: ThemeResult) -> pd.DataFrame:
    """Builds the per-item frame of ``outputs.ranking`` from stored items and model outputs.

    Args:
        items: Stored items of the analysis window (``ITEM_COLUMNS`` less raw text).
        sentiment: Sentiment label per item, indexed like ``items``.
        result: Theme fit over the same items, in the same order.

    Returns:
        Frame with ``item_key, text, source, channel, language, created_at, url, score,
        score_type, sentiment, theme_id``; ``text`` is the cleaned, redacted text.
    """
    return pd.DataFrame(
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


def theme_infos(items: pd.DataFrame, result: ThemeResult) -> list[ThemeInfo]:
    """Turns fitted themes into ``ThemeInfo`` with quote item keys."""
    keys = items["item_key"].to_numpy()
    return [
        ThemeInfo(
            theme_id=theme.theme_id,
            label=theme.label,
            keywords=list(theme.keywords),
            quote_item_keys=[str(keys[i]) for i in theme.representative_idx],
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
