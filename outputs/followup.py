"""Follow-up export: detractor items per theme, for closing the loop with customers.

An item is a *detractor* when its answer is on the unhappy side of its scale: NPS 0-6,
CSAT 1-2 (of 1-5), CES 1-3 (the disagree side of the 1-7 "easy to handle" scale), stars 1-2;
an item without a score counts when its sentiment is "negative". Customer keys are the salted
hashes the connectors store (never raw ids). The export carries no customer text (data
minimisation: outreach opens the item through its link or key), so the only personal datum in
it is the pseudonymous key, which ``vocflow forget`` must also look for in report folders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FOLLOWUP_COLUMNS: tuple[str, ...] = (
    "rank",
    "theme_id",
    "theme_label",
    "item_key",
    "customer_key",
    "created_at",
    "source",
    "score_type",
    "score",
    "sentiment",
    "url",
)

# score_type -> highest answer that still counts as a detractor
DETRACTOR_MAX: dict[str, float] = {"nps": 6.0, "csat": 2.0, "ces": 3.0, "stars": 2.0}


def is_detractor(items: pd.DataFrame) -> np.ndarray:
    """Boolean mask of detractor items (rule in the module docstring)."""
    scores = items["score"].to_numpy(dtype=np.float64)
    limit = items["score_type"].map(DETRACTOR_MAX).to_numpy(dtype=np.float64)
    scored = np.isfinite(scores) & np.isfinite(limit)
    unhappy = np.zeros(len(items), dtype=bool)
    unhappy[scored] = scores[scored] <= limit[scored]
    negative = (items["sentiment"] == "negative").to_numpy()
    return np.where(scored, unhappy, negative)


def followup_frame(
    items: pd.DataFrame, ranks: dict[int, int], labels: dict[int, str]
) -> pd.DataFrame:
    """Detractor items of every ranked theme, by theme rank then newest first.

    Args:
        items: Item frame (``customer_key`` optional).
        ranks: theme_id -> pain-point rank; themes not in it are left out.
        labels: theme_id -> label.

    Returns:
        Frame with ``FOLLOWUP_COLUMNS``.
    """
    frame = items[is_detractor(items) & items["theme_id"].isin(list(ranks)).to_numpy()].copy()
    if "customer_key" not in frame.columns:
        frame["customer_key"] = None
    frame["rank"] = frame["theme_id"].map(ranks).astype("int64")
    frame["theme_label"] = frame["theme_id"].map(labels).fillna("")
    frame = frame.sort_values(["rank", "created_at", "item_key"], ascending=[True, False, True])
    return frame.loc[:, list(FOLLOWUP_COLUMNS)].reset_index(drop=True)
