"""Stable theme IDs: one-to-one matching, lineage events, incremental assignment, refit rule."""

import numpy as np
import pytest

from nlp.theme_matching import (
    LineageEvent,
    MatchSettings,
    RefitRule,
    ThemeSignature,
    assign_to_known,
    match_themes,
    refit_decision,
)


def _unit(*values: float) -> np.ndarray:
    x = np.asarray(values, dtype=np.float32)
    return x / np.linalg.norm(x)


SEAT = _unit(1, 0, 0, 0)
FOOD = _unit(0, 1, 0, 0)
STAFF = _unit(0, 0, 1, 0)
WIFI = _unit(0, 0, 0, 1)


def _sig(theme_id: int, centroid: np.ndarray, keywords: str, size: int) -> ThemeSignature:
    return ThemeSignature(theme_id, tuple(keywords.split()), centroid, size)


KNOWN = [
    _sig(10, SEAT, "seat legroom recline", 100),
    _sig(11, FOOD, "food meal cold", 80),
    _sig(12, STAFF, "staff rude crew", 60),
]


def _events(mapping_events: list[LineageEvent]) -> dict[int, str]:
    return {e.theme_id: e.event for e in mapping_events}


def test_refit_with_shuffled_local_ids_keeps_every_stable_id() -> None:
    fitted = [
        _sig(0, STAFF, "crew staff rude", 58),
        _sig(1, SEAT, "legroom seat recline", 130),
        _sig(2, FOOD, "meal food", 50),
    ]
    mapping = match_themes(KNOWN, fitted, next_id=13)
    assert mapping.stable_ids == {0: 12, 1: 10, 2: 11}
    assert _events(mapping.events) == {10: "grew", 11: "shrank", 12: "unchanged"}
    assert mapping.next_id == 13 and all(s > 0.8 for s in mapping.scores.values())


def test_unrelated_theme_gets_a_new_id_and_the_missing_one_retires() -> None:
    fitted = [_sig(0, SEAT, "seat legroom", 100), _sig(1, WIFI, "wifi internet", 40)]
    mapping = match_themes(KNOWN, fitted, next_id=13)
    assert mapping.stable_ids == {0: 10, 1: 13}
    assert _events(mapping.events) == {
        10: "unchanged", 11: "retired", 12: "retired", 13: "new"
    }  # fmt: skip
    assert mapping.next_id == 14


def test_centroids_within_the_floor_do_not_match_on_keywords_alone() -> None:
    # Same words, but the centroid cosine 0.5 is far below the 0.85 floor.
    fitted = [_sig(0, _unit(1, 1, 0, 0), "seat legroom recline", 100)]
    assert match_themes(KNOWN[:1], fitted, next_id=13).stable_ids == {0: 13}
    # With a lower acceptance score the keyword evidence alone is enough.
    loose = MatchSettings(min_score=0.3)
    assert match_themes(KNOWN[:1], fitted, next_id=13, settings=loose).stable_ids == {0: 10}


def test_member_overlap_detects_merge_and_split() -> None:
    # Items 0-5 were seat (10), 6-9 food (11), 10-13 staff (12).
    previous = np.array([10] * 6 + [11] * 4 + [12] * 4)
    # Refit: seat split in two (0-2 → local 0, 3-5 → local 1); food and staff merged (local 2).
    current = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2])
    fitted = [
        _sig(0, _unit(1, 0.1, 0, 0), "seat legroom", 3),
        _sig(1, _unit(1, 0, 0, 0.3), "seat recline", 3),
        _sig(2, _unit(0, 1, 0.9, 0), "food staff", 8),
    ]
    mapping = match_themes(KNOWN, fitted, 13, MatchSettings(), previous, current)
    assert mapping.stable_ids[0] == 10  # the better half keeps the seat ID
    assert mapping.stable_ids[1] == 13
    # Food+staff is too far from either centroid to keep an ID: a new theme made of both.
    assert mapping.stable_ids[2] == 14
    by_id = {e.theme_id: e for e in mapping.events}
    assert by_id[13].event == "split" and by_id[13].related == (10,)
    assert by_id[14].event == "new" and by_id[14].related == (11, 12)
    assert by_id[11].event == by_id[12].event == "merged"
    assert by_id[11].related == by_id[12].related == (14,)
    assert by_id[10].event == "shrank"


def test_a_theme_absorbed_by_a_surviving_one_is_merged_into_it() -> None:
    previous = np.array([10] * 6 + [11] * 4)
    current = np.array([0] * 10)  # everything now in one theme, which keeps the seat ID
    fitted = [_sig(0, SEAT, "seat legroom recline", 100)]
    mapping = match_themes(KNOWN[:2], fitted, 13, MatchSettings(), previous, current)
    assert mapping.stable_ids == {0: 10}
    assert {e.theme_id: (e.event, e.related) for e in mapping.events} == {
        10: ("unchanged", ()), 11: ("merged", (10,))
    }  # fmt: skip


def test_no_known_themes_means_everything_is_new_in_fit_order() -> None:
    fitted = [_sig(0, SEAT, "seat", 5), _sig(1, FOOD, "food", 4)]
    mapping = match_themes([], fitted, next_id=0)
    assert mapping.stable_ids == {0: 0, 1: 1}
    assert [e.event for e in mapping.events] == ["new", "new"]


def test_matching_is_deterministic() -> None:
    fitted = [_sig(0, FOOD, "food", 80), _sig(1, SEAT, "seat", 100)]
    first = match_themes(KNOWN, fitted, 13)
    assert match_themes(KNOWN, list(reversed(fitted)), 13).stable_ids == first.stable_ids


def test_assign_to_known_uses_the_threshold() -> None:
    emb = np.vstack([_unit(1, 0.05, 0, 0), _unit(0.6, 0.8, 0, 0), _unit(0, 0, 0, 1)])
    ids, sims = assign_to_known(emb, np.vstack([SEAT, FOOD]), [10, 11], min_similarity=0.9)
    assert ids.tolist() == [10, -1, -1]
    assert sims[1] == pytest.approx(0.8)
    empty, _ = assign_to_known(emb, np.zeros((0, 4)), [], 0.9)
    assert empty.tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    ("kwargs", "refit", "reason"),
    [
        ({"forced": True}, True, "forced"),
        ({"n_known_themes": 0}, True, "first run"),
        ({"days_since_refit": None}, True, "first run"),
        ({"days_since_refit": 7.0}, True, "schedule"),
        ({"n_new": 100, "new_outlier_share": 0.4}, True, "drift"),
        ({"n_new": 10, "new_outlier_share": 0.9}, False, "incremental"),  # too few to judge
        ({"n_new": 600, "new_outlier_share": 0.1}, True, "volume"),
        ({"n_new": 100, "new_outlier_share": 0.1}, False, "incremental"),
        # Relative to the known items: a corpus where a third of everything fits no theme
        # is not drifting when a new day does the same (the benchmark corpus: 33 % vs 36 %).
        (
            {
                "n_new": 999,
                "new_outlier_share": 0.36,
                "known_outlier_share": 0.33,
                "n_at_last_refit": 20_000,
            },
            False,
            "incremental",
        ),
        (
            {
                "n_new": 999,
                "new_outlier_share": 0.50,
                "known_outlier_share": 0.33,
                "n_at_last_refit": 20_000,
            },
            True,
            "drift",
        ),
        # 15 points more, but only 40 new items: not significant at p < 0.01.
        (
            {"n_new": 40, "new_outlier_share": 0.45, "known_outlier_share": 0.30},
            False,
            "incremental",
        ),
    ],
)
def test_refit_rule(kwargs: dict, refit: bool, reason: str) -> None:
    args = {
        "forced": False, "n_known_themes": 20, "days_since_refit": 1.0, "n_new": 0,
        "n_at_last_refit": 1000, "new_outlier_share": 0.0, "known_outlier_share": 0.0,
        "n_known_items": 5000,
    }  # fmt: skip
    decided, why = refit_decision(RefitRule(), **{**args, **kwargs})
    assert decided is refit and why.startswith(reason)
