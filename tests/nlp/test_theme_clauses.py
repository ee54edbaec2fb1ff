"""Clause-level themes: several themes per item, each with its clause's sentiment."""

import numpy as np

from nlp.theme_clauses import assign_clauses, item_theme_sets, theme_mentions

SEAT = np.array([1.0, 0.0, 0.0], dtype=np.float32)
FOOD = np.array([0.0, 1.0, 0.0], dtype=np.float32)


def test_one_review_carries_two_themes_with_their_own_sentiment() -> None:
    # "The seat was comfortable but the food was cold" (item 0) and an item-1 clause about
    # neither theme.
    clause_emb = np.array([[0.99, 0.14, 0.0], [0.1, 0.99, 0.0], [0.0, 0.0, 1.0]], np.float32)
    clause_emb /= np.linalg.norm(clause_emb, axis=1, keepdims=True)
    clauses = assign_clauses(
        [0, 0, 1], [0, 1, 0], ["The seat was comfortable", "but the food was cold", "ok"],
        clause_emb, np.vstack([SEAT, FOOD]), [7, 9], min_similarity=0.9,
        sentiments=["positive", "negative", "neutral"],
    )  # fmt: skip
    assert [(c.item_idx, c.theme_id, c.sentiment) for c in clauses] == [
        (0, 7, "positive"), (0, 9, "negative"), (1, -1, "neutral")
    ]  # fmt: skip
    item_level = np.array([7, 9])  # the document-level fit put item 0 under seats
    assert item_theme_sets(2, item_level, clauses) == [(7, 9), (9,)]
    mentions = theme_mentions(item_level, clauses)
    assert mentions[9] == {
        "mentions": 1, "items": 1, "items_with_other_main_theme": 1,
        "sentiment": {"negative": 1},
    }  # fmt: skip
    assert mentions[7]["items_with_other_main_theme"] == 0


def test_no_themes_or_no_clauses() -> None:
    assert assign_clauses([], [], [], np.zeros((0, 3)), np.vstack([SEAT]), [1], 0.5) == []
    lone = assign_clauses([0], [0], ["x"], SEAT[None, :], np.zeros((0, 3)), [], 0.5)
    assert lone[0].theme_id == -1
    assert item_theme_sets(2, np.array([-1, 3]), []) == [(), (3,)]
