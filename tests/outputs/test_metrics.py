import math

import numpy as np
import pytest

from outputs import metrics


def test_nps_hand_computed() -> None:
    # 2 promoters (10, 9), 2 detractors (6, 0) of 6 -> 33.3 - 33.3 = 0
    assert metrics.nps([10, 9, 8, 7, 6, 0]) == pytest.approx(0.0)
    # 3 promoters, 1 detractor of 4 -> 75 - 25 = 50
    assert metrics.nps([10, 10, 9, 3]) == pytest.approx(50.0)
    assert metrics.nps([0, 6]) == pytest.approx(-100.0)


def test_nps_ignores_nan_and_empty_is_nan() -> None:
    assert metrics.nps([10, math.nan, 0]) == pytest.approx(0.0)
    assert math.isnan(metrics.nps([]))
    assert math.isnan(metrics.nps([math.nan]))


def test_nps_standard_error_hand_computed() -> None:
    # p = .75, d = .25: p + d - (p - d)^2 = 1 - .25 = .75; .75 / 4 = .1875; sqrt = .4330127
    assert metrics.nps_standard_error([10, 10, 9, 3]) == pytest.approx(43.30127, abs=1e-4)
    # p = d = 1/3: 2/3 - 0 = 2/3; / 6 = 1/9; sqrt = 1/3
    assert metrics.nps_standard_error([10, 9, 8, 7, 6, 0]) == pytest.approx(33.3333, abs=1e-4)
    # Everyone a promoter: no spread at all.
    assert metrics.nps_standard_error([9, 10, 10]) == pytest.approx(0.0)
    assert math.isnan(metrics.nps_standard_error([]))


def test_csat_and_ces() -> None:
    # 4 and 5 of five answers -> 40 %
    assert metrics.csat_top2box([5, 4, 3, 2, 1]) == pytest.approx(40.0)
    assert metrics.csat_mean([5, 4, 3, 2, 1]) == pytest.approx(3.0)
    # (7 + 5 + 1) / 3
    assert metrics.ces_mean([7, 5, 1]) == pytest.approx(13 / 3)
    assert metrics.mean_score([2, math.nan, 4]) == pytest.approx(3.0)
    for fn in (metrics.csat_top2box, metrics.csat_mean, metrics.ces_mean, metrics.mean_score):
        assert math.isnan(fn([]))


def test_loo_impact_hand_computed() -> None:
    scores = [10, 10, 0, 0, 8, 9]
    in_theme = [False, False, True, True, False, False]
    # all: 3 promoters, 2 detractors of 6 -> 50 - 33.33 = 16.67
    # without theme [10, 10, 8, 9]: 3 of 4 promoters, 0 detractors -> 75
    # impact = 16.67 - 75 = -58.33; also (2/6) * (-100 - 75) = -58.33
    assert metrics.loo_impact(scores, in_theme) == pytest.approx(-58.3333, abs=1e-4)


def test_loo_impact_mean_metric_and_nan_rows() -> None:
    # all [5, 5, 1, 1] mean 3, without theme [5, 5] mean 5 -> -2; the NaN row is dropped
    scores = [5, 5, 1, 1, math.nan]
    in_theme = [False, False, True, True, True]
    assert metrics.loo_impact(scores, in_theme, metric=metrics.csat_mean) == pytest.approx(-2.0)


def test_loo_impact_undefined_cases() -> None:
    assert math.isnan(metrics.loo_impact([10, 0], [True, True]))
    assert math.isnan(metrics.loo_impact([], []))
    with pytest.raises(ValueError, match="same length"):
        metrics.loo_impact([10, 0], [True])


def _fixture(copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    # rest: 80x10, 40x8, 40x5; theme: 30x2, 10x9
    # all 200: 90 promoters, 70 detractors -> 10; rest 160: 80 - 40 -> 25; impact = -15
    rest = [10] * 80 + [8] * 40 + [5] * 40
    theme = [2] * 30 + [9] * 10
    scores = np.array((rest + theme) * copies, dtype=float)
    in_theme = np.array(([False] * 160 + [True] * 40) * copies)
    return scores, in_theme


def test_bootstrap_is_reproducible_per_seed() -> None:
    scores, in_theme = _fixture()
    first = metrics.bootstrap_loo_impact(scores, in_theme, n_boot=300, seed=7)
    again = metrics.bootstrap_loo_impact(scores, in_theme, n_boot=300, seed=7)
    other = metrics.bootstrap_loo_impact(scores, in_theme, n_boot=300, seed=8)
    assert first == again
    assert first != other


def test_bootstrap_interval_brackets_point_and_shrinks_with_data() -> None:
    scores, in_theme = _fixture()
    assert metrics.loo_impact(scores, in_theme) == pytest.approx(-15.0)
    low, high = metrics.bootstrap_loo_impact(scores, in_theme, n_boot=1000, seed=0)
    assert low < -15.0 < high
    assert high < 0  # a 40-item theme at NPS -50 against +25 is clearly harmful
    big_scores, big_in_theme = _fixture(copies=4)
    big_low, big_high = metrics.bootstrap_loo_impact(big_scores, big_in_theme, seed=0)
    # Four times the data: the width should roughly halve (1 / sqrt(4)).
    assert (big_high - big_low) < 0.75 * (high - low)
    assert big_low < -15.0 < big_high


def test_bootstrap_constant_scores_give_zero_width() -> None:
    scores = np.full(20, 5.0)
    in_theme = np.arange(20) < 10
    assert metrics.bootstrap_loo_impact(scores, in_theme, metric="csat_top2box") == (0.0, 0.0)


def test_bootstrap_single_matches_batched() -> None:
    scores, in_theme = _fixture()
    labels = np.where(in_theme, 1, np.where(np.arange(scores.size) % 2 == 0, 0, -1))
    batched = metrics.bootstrap_loo_impacts(scores, labels, n_boot=200, seed=3)
    single = metrics.bootstrap_loo_impact(scores, labels == 1, n_boot=200, seed=3)
    assert tuple(batched[1]) == pytest.approx(single)


def test_bootstrap_undefined_and_bad_metric() -> None:
    low, high = metrics.bootstrap_loo_impact([10, 0], [True, True], n_boot=50)
    assert math.isnan(low)
    assert math.isnan(high)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.bootstrap_loo_impact([10, 0], [True, False], metric="median")


def test_batched_bootstrap_covers_every_theme_at_report_scale() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 11, 2500).astype(float)
    labels = rng.integers(-1, 50, 2500)
    intervals = metrics.bootstrap_loo_impacts(scores, labels, n_boot=1000, seed=0)
    assert intervals.shape == (50, 2)
    assert np.all(intervals[:, 0] <= intervals[:, 1])
