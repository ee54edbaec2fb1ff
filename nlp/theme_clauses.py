"""Clause-level themes: one review can raise several themes, each with its own sentiment.

"Seats were comfortable but the food was cold" is about seats (positive) and food
(negative); one theme per document (BERTopic issues #209, #1485) hides the second. The
clauses are those of the sentiment step (``nlp.sentiment.clauses``: Kiwi rules for Korean,
contrast and sentence rules for English), stored with their sentiment by
``vocflow.clause_store``. Here each clause of a multi-clause item is assigned to the theme
whose centroid is most similar, when that cosine reaches a threshold (``assign_clauses``),
and item-level views aggregate the clause themes (``item_theme_sets``, ``theme_mentions``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClauseTheme:
    """One clause of one item and its theme.

    Attributes:
        item_idx: Index of the item.
        clause_idx: Position of the clause in the item.
        text: Clause text.
        theme_id: Assigned theme, -1 when no theme is close enough.
        similarity: Cosine to the assigned (or nearest) theme centroid.
        sentiment: The clause's sentiment label, when known.
    """

    item_idx: int
    clause_idx: int
    text: str
    theme_id: int
    similarity: float
    sentiment: str | None = None


def assign_clauses(
    item_idx: Sequence[int],
    clause_idx: Sequence[int],
    texts: Sequence[str],
    embeddings: np.ndarray,
    centroids: np.ndarray,
    theme_ids: Sequence[int],
    min_similarity: float,
    sentiments: Sequence[str | None] | None = None,
) -> list[ClauseTheme]:
    """Assigns each clause to the most similar theme centroid.

    Args:
        item_idx: Item of each clause.
        clause_idx: Position of each clause within its item.
        texts: Clause texts.
        embeddings: Clause embeddings, rows L2-normalised.
        centroids: Theme centroids, rows L2-normalised.
        theme_ids: Theme ID of each centroid row.
        min_similarity: Cosine a clause needs to join a theme.
        sentiments: Sentiment label per clause, if known.

    Returns:
        One ``ClauseTheme`` per clause, in input order.
    """
    n = len(texts)
    moods = list(sentiments) if sentiments is not None else [None] * n
    if n == 0:
        return []
    if len(theme_ids) == 0:
        best, best_sim, ids = np.zeros(n, dtype=np.int64), np.zeros(n), np.array([-1])
    else:
        sims = embeddings @ centroids.T
        best = sims.argmax(axis=1)
        best_sim = sims[np.arange(n), best]
        ids = np.asarray(theme_ids, dtype=np.int64)
    return [
        ClauseTheme(
            int(item_idx[k]),
            int(clause_idx[k]),
            texts[k],
            int(ids[best[k]]) if len(theme_ids) and best_sim[k] >= min_similarity else -1,
            round(float(best_sim[k]), 4),
            moods[k],
        )
        for k in range(n)
    ]


def item_theme_sets(
    n_items: int, item_themes: np.ndarray, clauses: Sequence[ClauseTheme]
) -> list[tuple[int, ...]]:
    """Aggregates clause themes to items: the item's own theme first, then clause themes.

    Args:
        n_items: Number of items.
        item_themes: Theme per item from the document-level fit (-1 = none).
        clauses: Clause assignments.

    Returns:
        Per item, the distinct themes it raises (empty when none).
    """
    sets: list[list[int]] = [[int(t)] if t >= 0 else [] for t in item_themes.tolist()]
    sets += [[] for _ in range(n_items - len(sets))]
    for clause in sorted(clauses, key=lambda c: (c.item_idx, c.clause_idx)):
        if clause.theme_id >= 0 and clause.theme_id not in sets[clause.item_idx]:
            sets[clause.item_idx].append(clause.theme_id)
    return [tuple(s) for s in sets]


def theme_mentions(
    item_themes: np.ndarray, clauses: Sequence[ClauseTheme]
) -> dict[int, dict[str, Any]]:
    """Per theme, how often clauses raise it and with which sentiment.

    Args:
        item_themes: Theme per item from the document-level fit (-1 = none).
        clauses: Clause assignments.

    Returns:
        Theme ID → ``mentions`` (clauses), ``items`` (distinct items),
        ``items_with_other_main_theme`` (items whose document-level theme is another one:
        what one theme per document would have missed) and ``sentiment`` (label → clauses).
    """
    mentions: Counter[int] = Counter()
    items: dict[int, set[int]] = {}
    other: dict[int, set[int]] = {}
    moods: dict[int, Counter[str]] = {}
    for clause in clauses:
        t = clause.theme_id
        if t < 0:
            continue
        mentions[t] += 1
        items.setdefault(t, set()).add(clause.item_idx)
        if int(item_themes[clause.item_idx]) != t:
            other.setdefault(t, set()).add(clause.item_idx)
        if clause.sentiment is not None:
            moods.setdefault(t, Counter())[clause.sentiment] += 1
    return {
        t: {
            "mentions": mentions[t],
            "items": len(items[t]),
            "items_with_other_main_theme": len(other.get(t, ())),
            "sentiment": dict(sorted(moods.get(t, Counter()).items())),
        }
        for t in sorted(mentions)
    }
