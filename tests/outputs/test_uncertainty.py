import math

import pandas as pd
import pytest

from outputs import metrics
from outputs.uncertainty import (
    Z95,
    benjamini_hochberg,
    difference_z,
    estimate,
    headline_metrics,
    metric_key,
    standard_error,
    two_sided_p,
)


def test_nps_estimate_hand_computed() -> None:
    # 3 promoters, 1 detractor of 4: NPS 50; SE = 100 sqrt((.75 + .25 - .25) / 4) = 43.30127
    est = estimate([10, 10, 9, 3], "nps", min_n=2)
    assert est.value == pytest.approx(50.0)
    assert est.se == pytest.approx(43.30127, abs=1e-4)
    assert est.ci_low == pytest.approx(50.0 - Z95 * 43.30127, abs=1e-3)
    assert est.ci_high == pytest.approx(100.0)  # 50 + 84.9 clipped to the scale's top
    assert not est.too_few
    assert est.convention == "%promoters (9-10) - %detractors (0-6) on 0-10"


def test_share_and_mean_standard_errors_hand_computed() -> None:
    answers = [5, 4, 3, 2, 1]
    # top-2-box 40 %: SE = 100 sqrt(.4 x .6 / 5) = 21.9089
    assert standard_error(answers, "csat_top2box") == pytest.approx(21.9089, abs=1e-4)
    # mean 3, sample sd sqrt(10 / 4) = 1.5811, SE = 1.5811 / sqrt(5) = 0.70711
    assert standard_error(answers, "csat_mean") == pytest.approx(0.70711, abs=1e-5)
    # CES % >= 5 of [7, 5, 4, 1]: 50 %, SE = 100 sqrt(.25 / 4) = 25
    assert metrics.ces_pct5([7, 5, 4, 1]) == pytest.approx(50.0)
    assert standard_error([7, 5, 4, 1], "ces_pct5") == pytest.approx(25.0)
    # A single answer has no sample sd: the mean's SE is undefined, not 0.
    assert math.isnan(standard_error([4], "stars"))


def test_too_few_is_flagged_and_displayed() -> None:
    est = estimate([5, 4, 4], "csat_mean", min_n=30)
    assert est.too_few
    assert est.value == pytest.approx(13 / 3)
    assert est.display() == "too few (n=3 < 30)"
    empty = estimate([], "nps")
    assert empty.value is None
    assert empty.display() == "n/a (n=0)"
    shown = estimate([10] * 20 + [0] * 10, "nps", min_n=30)
    # p = 2/3, d = 1/3: NPS 33.3, SE = 100 sqrt((1 - 1/9) / 30) = 17.2133, 1.96 SE = 33.7
    assert shown.display() == "+33.3 ± 33.7 (n=30)"


def test_headline_metrics_follow_conventions() -> None:
    frame = pd.DataFrame(
        {
            "score": [10, 0, 5, 4, 1, 7, 6, 2, math.nan],
            "score_type": ["nps", "nps", "csat", "csat", "csat", "ces", "ces", "ces", None],
        }
    )
    found = {m.key: m for m in headline_metrics(frame, csat="mean", ces="pct5", min_n=1)}
    assert set(found) == {"nps", "csat_mean", "ces_pct5"}
    assert found["csat_mean"].value == pytest.approx(10 / 3)
    assert found["ces_pct5"].value == pytest.approx(200 / 3)  # 7 and 6 of [7, 6, 2]
    assert found["ces_pct5"].convention.endswith("(adapted from Gartner)")
    assert metric_key("csat", "top2box", "mean") == "csat_top2box"
    with pytest.raises(ValueError, match="unknown score type"):
        metric_key("likes", "top2box", "mean")


def test_difference_z_and_p_value() -> None:
    # (50 - 0) / sqrt(30^2 + 40^2) = 1
    assert difference_z(50, 30, 0, 40) == pytest.approx(1.0)
    assert two_sided_p(1.959963984540054) == pytest.approx(0.05)
    assert math.isnan(difference_z(1, 0, 0, 0))


def test_benjamini_hochberg_hand_computed() -> None:
    # sorted p: .01, .02, .03, .5 (m = 4): raw q = .04, .04, .04, .5, then running minimum
    q = benjamini_hochberg([0.03, 0.5, 0.01, math.nan, 0.02])
    assert q[0] == pytest.approx(0.04)
    assert q[1] == pytest.approx(0.5)
    assert q[2] == pytest.approx(0.04)
    assert math.isnan(q[3])
    assert q[4] == pytest.approx(0.04)
