import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from outputs.series import recent_weekly_counts, sparkline, theme_series
from outputs.trends import (
    conditional_upper_p,
    detect_trends,
    expected_recent,
    poisson_upper_p,
    rate_ratio_lower,
    traffic_factor,
    trend_window,
)

START = date(2026, 9, 28)  # a Monday


def stream(days: int, per_day, sentiment=lambda theme, day, i: "neutral") -> pd.DataFrame:
    """Items per day from ``per_day(day_index, weekday) -> {theme: count}``, at noon UTC."""
    rows = []
    for d in range(days):
        day = START + timedelta(days=d)
        for theme, count in per_day(d, day.weekday()).items():
            for i in range(count):
                rows.append((f"{theme}-{d}-{i}", f"{day.isoformat()}T12:00:00Z", theme,
                             sentiment(theme, d, i)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["item_key", "created_at", "theme_id", "sentiment"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def test_expected_count_hand_computed() -> None:
    # Baseline: 2 Mondays and 2 Tuesdays, 10 items on each weekday in all (Nbar = 5 a day);
    # the theme has 2 of the Monday items, none on Tuesdays: p = 2/20 = .1. With k = 10:
    # r(Mon) = 5 x (2 + 1) / 20 = .75, r(Tue) = 5 x (0 + 1) / 20 = .25.
    # Recent: a Monday and two Tuesdays -> E0 = .75 + .25 + .25 = 1.25.
    expected = expected_recent(
        pd.Series({0: 2}), pd.Series({0: 10, 1: 10}), pd.Series({0: 2, 1: 2}), [0, 1, 1], 10.0
    )
    assert expected == pytest.approx(1.25)
    empty = pd.Series(dtype=float)
    assert math.isnan(expected_recent(empty, empty, empty, [0]))


def test_traffic_factor_is_a_median_of_ratios() -> None:
    # Established themes (baseline >= 5): ratios 1, 2, 3 -> 2; the new theme is ignored.
    assert traffic_factor(
        [10, 20, 30, 5], [10, 10, 10, 1], [10, 10, 10, 0], total_ratio=9.0, min_count=5
    ) == pytest.approx(2.0)
    # Fewer than 3 established themes: the overall volume ratio.
    assert traffic_factor([10, 20], [10, 10], [10, 10], total_ratio=1.7, min_count=5) == 1.7


def test_tail_probabilities_hand_computed() -> None:
    # Poisson: P(X >= 3 | 1) = 1 - e^-1 (1 + 1 + 1/2)
    assert poisson_upper_p(3, 1.0) == pytest.approx(1 - 2.5 / math.e)
    assert poisson_upper_p(0, 4.0) == 1.0
    assert poisson_upper_p(2, 0.0) == 0.0
    # Conditional test: 3 recent, 2 baseline, E = 2 -> Binomial(5, 2 / 4):
    # P(X >= 3) = (10 + 5 + 1) / 32 = .5
    assert conditional_upper_p(3, 2, 2.0) == pytest.approx(0.5)
    assert conditional_upper_p(2, 0, 0.0) == 0.0  # no baseline: Poisson fallback
    # Exact lower limit of the rate ratio for 1 vs 1 with E = 1: the 2.5 % point of
    # Beta(1, 2) is 1 - sqrt(.975) = .012579, RR_low = .012579 / .987421 = .012739
    assert rate_ratio_lower(1, 1, 1.0) == pytest.approx(0.012739, abs=1e-6)
    assert rate_ratio_lower(0, 5, 1.0) == 0.0


def test_false_alarm_rate_on_pure_noise_is_near_alpha() -> None:
    # 100 seeded streams of 700 items over 60 days in 10 themes, no change at all: with
    # alpha = .01 (family-wise) about 1 run in 100 may flag something.
    alarms = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        offsets = pd.to_timedelta(rng.integers(0, 60 * 86_400, 700), unit="s")
        items = pd.DataFrame(
            {
                "created_at": pd.Timestamp("2026-09-01", tz="UTC") + offsets,
                "theme_id": rng.integers(-1, 10, 700),
                "sentiment": "neutral",
            }
        )
        trends = detect_trends(items, recent_days=3, alpha=0.01)[1]
        alarms += any(t.emerging for t in trends.values())
    assert alarms <= 3


def _scenario(d: int, weekday: int) -> dict[int, int]:
    counts = {0: 10, 1: 10, 4: 10, 5: 10, 6: 10}  # five steady themes
    if d >= 39:  # the last 3 of 42 days: a spike in theme 1 and a brand-new theme 3
        counts[1] = 30
        counts[3] = 12
    return counts


def test_spike_new_and_steady() -> None:
    items = stream(42, _scenario)
    window, trends = detect_trends(items, recent_days=3, baseline_days=28)
    assert window.recent_start == START + timedelta(days=39)
    assert window.recent_end == START + timedelta(days=42)
    assert window.baseline_start == START + timedelta(days=11)
    assert (window.n_recent, window.n_baseline) == (3 * 82, 28 * 50)
    assert trends[3].status == "new"
    assert (trends[3].baseline, trends[3].recent) == (0, 36)
    # Every steady theme expects 3 x 10 = 30 and sees 30: f = median(1, 1, 1, 1, 3) = 1, so
    # neither the spike nor the new theme inflates the others' expectation.
    assert trends[0].expected == pytest.approx(30.0)
    assert trends[0].status == "steady"
    assert trends[1].status == "spike"
    assert trends[1].expected == pytest.approx(30.0)
    assert trends[1].rate_ratio == pytest.approx(3.0)
    assert trends[1].p_value == pytest.approx(conditional_upper_p(90, 280, 30.0))
    assert trends[1].describe(3) == "×3.0 vs expected in the last 3 d (90 vs 30.0, p<0.001)"
    assert {t for t, tr in trends.items() if tr.emerging} == {1, 3}
    # A campaign that triples all feedback in the recent days flags nothing.
    _, tripled = detect_trends(stream(42, lambda d, w: {t: 30 if d >= 39 else 10 for t in range(5)}),
                               recent_days=3)  # fmt: skip
    assert not any(tr.emerging for tr in tripled.values())


def test_weekday_pattern_is_not_a_spike() -> None:
    def per_day(d: int, weekday: int) -> dict[int, int]:
        return {0: 10, 1: 10, **({2: 30} if weekday == 0 else {})}  # a Monday-only theme

    # 43 days: the recent window (days 40-42) is Saturday, Sunday, Monday.
    items = stream(43, per_day)
    _, trends = detect_trends(items, recent_days=3, baseline_days=28)
    # Baseline: 4 Mondays of 50 items (30 of theme 2), 24 other days of 20; p2 = 120 / 680.
    # E0_2 = 50 (120 + 20 p2) / 220 + 2 x 20 (20 p2) / 100 = 28.075 + 1.412 = 29.487;
    # themes 0 and 1: E0 = 50 (40 + 20 p0) / 220 + 2 x 20 (40 + 20 p0) / 100 = 30.257 with
    # p0 = 280 / 680, seen 30: f = median(.9915, .9915, 1.017) = .9915 -> E_2 = 29.24.
    assert trends[2].expected == pytest.approx(29.487 * 30 / 30.257, abs=0.01)
    assert trends[2].status == "steady"
    assert not any(tr.emerging for tr in trends.values())
    # Without weekday adjustment (huge shrinkage) the same Monday looks like a spike:
    # E0 = 90 p, f = 30 / (90 p0) -> E_2 = 30 x 120 / 280 = 12.86 for 30 seen.
    _, naive = detect_trends(items, recent_days=3, baseline_days=28, prior=1e9)
    assert naive[2].expected == pytest.approx(30 * 120 / 280, abs=0.01)
    assert naive[2].status == "spike"


def test_no_baseline_flags_nothing_and_describes() -> None:
    items = stream(3, lambda d, w: {0: 5, 1: 8})
    window, trends = detect_trends(items, recent_days=3, baseline_days=28)
    assert not window.has_baseline
    assert {tr.status for tr in trends.values()} == {"no_baseline"}
    assert trends[1].describe(3) == "24 items in the last 3 d (no baseline)"
    new = detect_trends(stream(42, _scenario), recent_days=3)[1][3]
    assert new.describe(3) == "new: 36 items in the last 3 d, none before"


def test_negative_share_recent_vs_baseline() -> None:
    def mood(theme: int, d: int, i: int) -> str:
        return "negative" if (d >= 39 and i < 8) or (d < 39 and i < 2) else "positive"

    items = stream(42, lambda d, w: {0: 10}, sentiment=mood)
    trend = detect_trends(items, recent_days=3)[1][0]
    assert trend.negative_share_recent == pytest.approx(0.8)
    assert trend.negative_share_baseline == pytest.approx(0.2)


def test_theme_series_weekly_hand_computed() -> None:
    items = pd.DataFrame(
        {
            # Monday, Wednesday (same week), next Monday
            "created_at": pd.to_datetime(
                [
                    "2026-11-02T10:00Z",
                    "2026-11-04T23:00Z",
                    "2026-11-04T01:00Z",
                    "2026-11-09T00:00Z",
                ],
                utc=True,
            ),
            "theme_id": [0, 0, -1, 0],
            "sentiment": ["negative", "mixed", "positive", "positive"],
        }
    )
    series = theme_series(items, "W")
    assert series["period"].tolist() == [date(2026, 11, 2), date(2026, 11, 9)]
    first = series.iloc[0]
    assert first["volume"] == 2
    assert first["share"] == pytest.approx(2 / 3)  # the outlier counts in the period total
    # "mixed" is neither negative nor positive: counted separately, not forced into one.
    assert first["negative_share"] == pytest.approx(0.5)
    assert first["positive_share"] == pytest.approx(0.0)
    assert first["net_sentiment"] == pytest.approx(-0.5)
    daily = theme_series(items, "D")
    assert len(daily) == 3


def test_weekly_counts_and_sparkline() -> None:
    items = stream(21, lambda d, w: {0: 1 if d < 14 else 3})
    end = START + timedelta(days=21)
    assert recent_weekly_counts(items, [0, 5], end, weeks=4) == {0: [0, 7, 7, 21], 5: [0, 0, 0, 0]}
    assert sparkline([0, 7, 7, 21]) == "▁▃▃█"
    assert sparkline([0, 0]) == "▁▁"
    assert trend_window(items, recent_days=7, asof=end).n_recent == 21
