from itertools import permutations

import numpy as np
import pytest

from outputs import metrics
from outputs.drivers import key_drivers, ols_coefficients, shapley_r2

from .conftest import items_frame, nps_rows


def _r2_by_lstsq(x: np.ndarray, y: np.ndarray, cols: list[int]) -> float:
    # Independent of the Gram-matrix shortcut: a plain regression with an intercept.
    design = np.column_stack([np.ones(len(y)), *(x[:, c] for c in cols)])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())


def test_shapley_two_overlapping_themes_hand_computed() -> None:
    """y mean 5, total sum of squares 64.

    x1 splits y into [0, 2, 4, 4] (mean 2.5) and [6, 8, 8, 8] (mean 7.5): R2(1) = 8 x 2.5^2 / 64
    = 50/64. x2 = items 0, 1, 4: mean 8/3 vs 32/5: R2(2) = (3 (7/3)^2 + 5 (1.4)^2) / 64 = 49/120.
    Both: R2(12) = 431/448 (from the two-predictor formula with r12 = 0.2582).
    Shapley: phi1 = (R2(1) + R2(12) - R2(2)) / 2, phi2 = (R2(2) + R2(12) - R2(1)) / 2.
    """
    x = np.array([[1, 1], [1, 1], [1, 0], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]], dtype=float)
    y = np.array([0, 2, 4, 4, 6, 8, 8, 8], dtype=float)
    shares, r2 = shapley_r2(x, y)
    r2_1, r2_2, r2_12 = 50 / 64, 49 / 120, 431 / 448
    assert r2 == pytest.approx(r2_12)
    assert shares[0] == pytest.approx((r2_1 + r2_12 - r2_2) / 2)
    assert shares[1] == pytest.approx((r2_2 + r2_12 - r2_1) / 2)
    assert shares.sum() == pytest.approx(r2)
    # Both themes lower the score: negative OLS coefficients.
    assert np.all(ols_coefficients(x, y) < 0)


def test_shapley_matches_permutation_definition_and_sums_to_r2() -> None:
    rng = np.random.default_rng(4)
    # 5 overlapping indicators (an item may carry several) and a score driven by two of them.
    x = (rng.random((300, 5)) < [0.3, 0.2, 0.25, 0.1, 0.4]).astype(float)
    y = 7 - 3 * x[:, 0] - 1.5 * x[:, 2] + 0.5 * x[:, 4] + rng.normal(0, 1.5, 300)
    shares, r2 = shapley_r2(x, y)
    brute = np.zeros(5)
    orders = list(permutations(range(5)))
    for order in orders:
        chosen: list[int] = []
        for j in order:
            before = _r2_by_lstsq(x, y, chosen) if chosen else 0.0
            chosen.append(j)
            brute[j] += _r2_by_lstsq(x, y, chosen) - before
    brute /= len(orders)
    assert shares == pytest.approx(brute, abs=1e-10)
    assert shares.sum() == pytest.approx(r2, abs=1e-12)
    assert r2 == pytest.approx(_r2_by_lstsq(x, y, [0, 1, 2, 3, 4]))
    assert np.argmax(shares) == 0


def test_collinear_and_constant_inputs() -> None:
    x = np.column_stack([np.r_[np.ones(5), np.zeros(5)], np.r_[np.zeros(5), np.ones(5)]])
    y = np.r_[np.zeros(5), np.full(5, 10.0)]
    # The two indicators cover every item (perfectly collinear with the intercept): the
    # pseudo-inverse still gives R^2 = 1, split evenly.
    shares, r2 = shapley_r2(x, y)
    assert r2 == pytest.approx(1.0)
    assert shares == pytest.approx([0.5, 0.5])
    shares, r2 = shapley_r2(x, np.full(10, 3.0))
    assert r2 == 0.0
    assert shares.tolist() == [0.0, 0.0]


def test_key_drivers_signs_agree_with_nps_impact() -> None:
    # outliers 40x10 + 20x8; theme 0: 15x0 (pain); theme 1: 20x10 (strength); theme 2: 5x8
    rows = nps_rows(-1, [10] * 40 + [8] * 20) + nps_rows(0, [0] * 15) + nps_rows(1, [10] * 20)
    rows += nps_rows(2, [8] * 5)
    items = items_frame(rows)
    result = key_drivers(items, "nps", max_themes=2, min_n=30)
    assert result is not None
    assert result.n == 100
    assert result.themes_left_out == 1  # theme 2 stays in the baseline
    by_id = {d.theme_id: d for d in result.drivers}
    assert set(by_id) == {0, 1}
    assert by_id[0].signed_share < 0 < by_id[1].signed_share
    assert sum(d.share for d in result.drivers) == pytest.approx(result.r2)
    assert sum(d.pct_of_r2 or 0 for d in result.drivers) == pytest.approx(1.0)
    scores = items["score"].to_numpy()
    for theme_id, driver in by_id.items():
        impact = metrics.loo_impact(scores, items["theme_id"] == theme_id)
        assert np.sign(impact) == np.sign(driver.signed_share)
    assert result.drivers[0].theme_id == 0  # worst first
    assert key_drivers(items, "nps", min_n=101) is None
    assert key_drivers(items, "csat_mean") is None
