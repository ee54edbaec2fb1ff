import math

import pytest

from outputs.churn import ChurnLift
from outputs.followup import followup_frame, is_detractor
from outputs.report import ImpactEstimate, ThemeStats
from outputs.scoring import PainWeights, impact_points, pain_components, reason_line
from outputs.segments import SegmentLift
from outputs.trends import ThemeTrend

from .conftest import items_frame


def _theme(**update: object) -> ThemeStats:
    base = ThemeStats(
        rank=0, theme_id=3, label="card delivery", volume=40, share=0.1, negative_share=0.5,
        impacts=[ImpactEstimate(key="nps", name="NPS", n=30, value=-4.2, ci_low=-5.1,
                                ci_high=-3.3)],
    )  # fmt: skip
    return base.model_copy(update=update)


def test_components_hand_computed() -> None:
    # H = 3.3; V = 100 x 20 negative items / 400 = 5; base 8.3
    # T: growth lower bound 1.6 - 1 = .6; C: churn lower bound 1.25 - 1 = .25
    # score = 8.3 x 1.6 x 1.25 = 16.6
    trend = ThemeTrend(theme_id=3, recent=16, baseline=30, expected=10.0, rate_ratio=1.6,
                       rate_ratio_low=1.6, p_value=0.04, status="steady")  # fmt: skip
    churn = ChurnLift(theme_id=3, churned_with=8, churned_total=20, retained_with=8,
                      retained_total=80, lift=4.0, ci_low=1.25, ci_high=9.3)  # fmt: skip
    parts = pain_components(_theme(trend=trend, churn=churn), 400)
    assert parts == pytest.approx(
        {"harm": 3.3, "negative": 5.0, "trend": 0.6, "churn": 0.25, "score": 8.3 * 1.6 * 1.25}
    )


def test_new_theme_gets_the_cap_and_strengths_are_not_amplified() -> None:
    new = ThemeTrend(theme_id=3, recent=30, baseline=0, expected=0.0, status="new", emerging=True)
    parts = pain_components(_theme(trend=new), 400, PainWeights(trend_cap=2.0))
    assert parts["trend"] == 2.0
    assert parts["score"] == pytest.approx(8.3 * 3)
    strong = [ImpactEstimate(key="nps", name="NPS", n=30, value=9.0, ci_low=6.0, ci_high=12.0)]
    parts = pain_components(_theme(impacts=strong, negative_share=0.05, trend=new), 400)
    # H = -12, V = 100 x 2 / 400 = .5: the base is negative, growth does not multiply it.
    assert parts["score"] == pytest.approx(-11.5)


def test_mean_impacts_become_points_of_the_scale() -> None:
    # -0.1 stars on 1-5 = -2.5 % of the range; top-2-box points stay as they are
    assert impact_points("stars", -0.1) == pytest.approx(-2.5)
    assert impact_points("ces_mean", 0.6) == pytest.approx(10.0)
    assert impact_points("csat_top2box", -3.0) == -3.0
    stars = [ImpactEstimate(key="stars", name="Star rating", n=30, value=-0.2, ci_low=-0.3,
                            ci_high=-0.1)]  # fmt: skip
    assert pain_components(_theme(impacts=stars), 400)["harm"] == pytest.approx(2.5)


def test_reason_line() -> None:
    trend = ThemeTrend(theme_id=3, recent=16, baseline=30, expected=10.0, rate_ratio=1.6,
                       rate_ratio_low=1.1, p_value=0.041, status="steady")  # fmt: skip
    lift = SegmentLift(column="segment.platform", level="iOS", lift=2.0, theme_n=12, q_value=0.01)
    line = reason_line(
        _theme(detractor_share=0.18, trend=trend, top_segment=lift), 1, recent_days=7,
        min_scored=10,
    )  # fmt: skip
    assert line == (
        "rank 1: −4.2 NPS [−5.1, −3.3]; 18% of detractor comments; 50% negative (40 items); "
        "+60% vs expected in the last 7 d (16 vs 10.0, p=0.041); over-represented in "
        "platform=iOS ×2.0"
    )
    few = [ImpactEstimate(key="nps", name="NPS", n=4, value=-1.0)]
    assert reason_line(_theme(impacts=few), 2, recent_days=7, min_scored=10) == (
        "rank 2: too few NPS scores for an interval (4 < 10); 50% negative (40 items)"
    )


def test_detractors_and_followup_export() -> None:
    rows = [
        (0, 6.0, "nps", "neutral"),  # detractor
        (0, 7.0, "nps", "negative"),  # passive: the score decides, not the text
        (0, 2.0, "csat", "neutral"),  # detractor
        (1, 3.0, "ces", "neutral"),  # detractor (disagree side of 1-7)
        (1, 2.0, "stars", "positive"),  # detractor
        (1, math.nan, None, "negative"),  # unscored: negative sentiment counts
        (-1, 0.0, "nps", "negative"),  # outlier: not exported
        (2, math.nan, None, "mixed"),  # not negative
    ]
    items = items_frame(rows, customer_key=[f"k{i}" for i in range(8)])
    assert is_detractor(items).tolist() == [True, False, True, True, True, True, True, False]
    out = followup_frame(items, {1: 1, 0: 2, 2: 3}, {0: "billing", 1: "delivery", 2: "app"})
    assert out["item_key"].tolist() == ["i0003", "i0004", "i0005", "i0000", "i0002"]
    assert out["rank"].tolist() == [1, 1, 1, 2, 2]
    assert out["theme_label"].tolist()[0] == "delivery"
    assert out["customer_key"].tolist()[0] == "k3"
    assert "text" not in out.columns  # hashed key and link only: no customer text
