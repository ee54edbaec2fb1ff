import json
import math

import pandas as pd
import pytest

from outputs.brands import brand_comparison
from outputs.segments import (
    metadata_columns,
    segment_columns,
    segment_view,
    theme_segment_lifts,
)
from outputs.uncertainty import two_sided_p

from .conftest import items_frame, nps_rows


def _countries() -> pd.DataFrame:
    """Country A: 20x10 + 20x0 (NPS 0); country B: 30x10 + 10x0 (NPS 50); 0s are negative.

    Theme 0 holds the 20 A detractors and 5 B detractors, theme 1 the rest.
    """
    rows = nps_rows(1, [10] * 20) + nps_rows(0, [0] * 20, "negative")  # A
    rows += nps_rows(1, [10] * 30) + nps_rows(0, [0] * 5, "negative")  # B
    rows += nps_rows(1, [0] * 5, "negative")  # B
    return items_frame(rows, **{"segment.country": ["A"] * 40 + ["B"] * 40})


def test_segment_view_hand_computed() -> None:
    """A vs B: diff -50. SE_A = 100 sqrt(1 / 40) = 15.811, SE_B = 100 sqrt(.75 / 40) = 13.693,
    z = -50 / sqrt(250 + 187.5) = -2.3905, p = .0168. Negative shares .5 vs .25:
    z = .25 / sqrt(.25 / 40 + .1875 / 40) = 2.3905. All four p-values are equal: BH q = p.
    """
    view = segment_view(_countries(), "segment.country", metric_key="nps", min_n=30, n_boot=200)
    a, b = view.levels
    assert (a.level, a.n, b.level, b.n) == ("A", 40, "B", 40)
    assert a.metric is not None and b.metric is not None
    assert a.metric.value == pytest.approx(0.0)
    assert b.metric.value == pytest.approx(50.0)
    assert a.metric.se == pytest.approx(15.8114, abs=1e-4)
    assert b.metric.se == pytest.approx(13.6931, abs=1e-4)
    assert a.diff == pytest.approx(-50.0)
    assert a.q_value == pytest.approx(two_sided_p(-50 / math.sqrt(250 + 187.5)))
    assert a.q_value == pytest.approx(0.0168, abs=1e-4)
    assert (a.mark, b.mark) == ("▼", "▲")
    assert a.negative_share == pytest.approx(0.5)
    assert a.negative_diff == pytest.approx(0.25)
    assert (a.negative_mark, b.negative_mark) == ("▲", "▼")
    # Inside A the detractor theme is the most harmful: impact = 0 - 100 = -100... of NPS 0
    # with theme 0 left out (all 20 promoters -> +100), so -100.
    assert a.top_themes[0].theme_id == 0
    assert a.top_themes[0].impact == pytest.approx(-100.0)


def test_levels_below_min_n_are_not_shown() -> None:
    view = segment_view(_countries(), "segment.country", metric_key="nps", min_n=41)
    assert view.levels == []
    assert view.levels_not_shown == 2


def test_sentiment_only_view_without_scores() -> None:
    items = _countries().assign(score=math.nan, score_type=None)
    view = segment_view(items, "segment.country", metric_key=None, min_n=30)
    a = view.levels[0]
    assert a.metric is None and a.mark == ""
    assert a.negative_mark == "▲"
    # Without scores the level's themes are ordered by negative volume.
    assert [x.theme_id for x in a.top_themes] == [0, 1]
    assert a.top_themes[0].impact is None


def test_segment_columns_auto_and_explicit() -> None:
    items = _countries()
    items["product"] = ["app"] * 79 + ["web"]
    # channel/source/language have one level; product has only one level with >= 30 items.
    assert segment_columns(items, min_n=30) == ["segment.country"]
    assert segment_columns(items, ["product", "missing"]) == ["product"]


def test_theme_segment_lift_hand_computed() -> None:
    """Theme 0: 20 of its 25 items in A, other items 20 of 55: lift (20/25) / (20/55) = 2.2.

    Theme 1: 35 of its 55 items in B, other items 5 of 25: lift (35/55) / (5/25) = 3.18.
    """
    lifts = theme_segment_lifts(_countries(), ["segment.country"])
    assert set(lifts) == {0, 1}
    assert lifts[1].level == "B"
    assert lifts[1].lift == pytest.approx(35 / 55 / 0.2)
    assert lifts[0].level == "A"
    assert lifts[0].lift == pytest.approx(2.2)
    assert lifts[0].theme_n == 20
    assert lifts[0].label() == "country=A ×2.2"


def test_brand_comparison_hand_computed() -> None:
    """Brand X: 20 positive, 10 negative, 10 neutral: net +25, SE = 100 sqrt((.5 + .25 -
    .0625) / 40) = 13.110. Brand Y: 10 positive, 20 negative, 10 neutral: net -25.
    """
    sentiment = ["positive"] * 20 + ["negative"] * 10 + ["neutral"] * 10
    sentiment += ["positive"] * 10 + ["negative"] * 20 + ["neutral"] * 10
    themes = [0] * 30 + [1] * 10 + [0] * 10 + [1] * 30
    rows = [(t, math.nan, None, s) for t, s in zip(themes, sentiment, strict=True)]
    items = items_frame(rows, product=["X"] * 40 + ["Y"] * 40)
    view = brand_comparison(items, "product", min_n=30)
    assert view is not None
    x, y = view.brands
    assert (x.brand, x.n) == ("X", 40)
    assert x.net_sentiment == pytest.approx(25.0)
    assert x.net_sentiment_se == pytest.approx(13.1101, abs=1e-4)
    assert y.net_sentiment == pytest.approx(-25.0)
    assert x.mark == "▲" and y.mark == "▼"
    assert view.theme_ids == [0, 1]
    assert x.theme_shares == {0: 0.75, 1: 0.25}
    assert x.theme_marks[0] == "▲"
    assert brand_comparison(items, "product", min_n=41) is None
    assert brand_comparison(items, "no_such_column") is None


def test_metadata_columns_from_stored_items() -> None:
    stored = pd.DataFrame(
        {
            "product": ["Asiana", None],
            "customer_key": ["abc", ""],
            "segment": [json.dumps({"country": "KR", "cabin": "Economy"}), "{}"],
        },
        index=[7, 9],  # stored frames need not have a 0..n-1 index
    )
    meta = metadata_columns(stored)
    assert list(meta.columns) == ["product", "customer_key", "segment.cabin", "segment.country"]
    assert meta["product"].tolist() == ["Asiana", None]
    assert meta["customer_key"].tolist() == ["abc", None]
    assert meta["segment.country"].tolist() == ["KR", None]
    assert list(metadata_columns(pd.DataFrame({"x": [1]})).columns) == []
