import math

import numpy as np
import pandas as pd
import pytest

from outputs import metrics
from outputs.ranking import rank_themes, split_pain_points_and_strengths, truncate_quote
from outputs.report import ThemeInfo, fmt_signed

from .conftest import items_frame, nps_rows


def _by_id(stats: list) -> dict:
    return {s.theme_id: s for s in stats}


def test_confident_theme_outranks_noisier_theme_with_worse_point(
    ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]
) -> None:
    stats = _by_id(rank_themes(ranking_items, ranking_themes, seed=0))
    steady, noisy = stats[0], stats[1]
    # Point estimates from the fixture's docstring arithmetic.
    assert steady.nps_impact == pytest.approx(-1.9636, abs=1e-4)
    assert noisy.nps_impact == pytest.approx(-2.9913, abs=1e-4)
    # Preconditions of the scenario: steady's interval is below 0, noisy's straddles 0.
    assert steady.impact_ci_high is not None
    assert steady.impact_ci_high < 0
    assert noisy.impact_ci_low is not None
    assert noisy.impact_ci_high is not None
    assert noisy.impact_ci_low < 0 < noisy.impact_ci_high
    assert (steady.rank, noisy.rank) == (1, 2)
    # pain score = H + V: H = -(upper bound), V = 100 x 30 negative items / 263 items
    assert steady.score_components["harm"] == pytest.approx(-steady.impact_ci_high)
    assert steady.score_components["negative"] == pytest.approx(100 * 30 / 263)
    assert steady.pain_score == pytest.approx(-steady.impact_ci_high + 100 * 30 / 263)
    # noisy: the interval straddles 0, so its harm term is negative and only V keeps it up
    assert noisy.score_components["harm"] == pytest.approx(-noisy.impact_ci_high)
    assert noisy.pain_score == pytest.approx(-noisy.impact_ci_high + 100 * 11 / 263)


def test_themes_without_intervals_rank_by_negative_volume(
    ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]
) -> None:
    stats = _by_id(rank_themes(ranking_items, ranking_themes, n_boot=200))
    # Theme 2 (4 negative of 5) before theme 3 (2 negative of 8, only CSAT scores).
    assert stats[2].rank < stats[3].rank
    assert sorted(s.rank for s in stats.values()) == [1, 2, 3, 4]
    unscored = stats[2]
    assert unscored.impact_ci_low is None
    assert unscored.impact_ci_high is None
    assert unscored.nps_impact is None
    # No interval: H = 0, the score is V = 100 x 4 / 263 percentage points of all feedback.
    assert unscored.pain_score == pytest.approx(100 * 4 / 263)
    # Detractor comments: 51 NPS 0-6, 2 CSAT 1-2 and 4 unscored negatives = 57; 4 are theme 2's.
    assert unscored.detractor_share == pytest.approx(4 / 57)
    assert unscored.rank_reason == (
        f"rank {unscored.rank}: no scores; 7% of detractor comments; 80% negative (5 items)"
    )
    csat_only = stats[3]
    assert csat_only.pain_score == pytest.approx(100 * 2 / 263)
    assert csat_only.rank_reason.startswith(
        "rank 4: too few CSAT top-2-box scores for an interval (8 < 10)"
    )


def test_outliers_and_empty_themes_are_not_ranked(
    ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]
) -> None:
    ids = {s.theme_id for s in rank_themes(ranking_items, ranking_themes, n_boot=100)}
    assert -1 not in ids
    assert 9 not in ids  # listed theme with no items in the window


def test_theme_fields_hand_computed(
    ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]
) -> None:
    stats = _by_id(rank_themes(ranking_items, ranking_themes, n_boot=100))
    noisy = stats[1]
    assert noisy.volume == 20
    assert noisy.share == pytest.approx(20 / 263)
    assert noisy.negative_share == pytest.approx(11 / 20)
    assert noisy.sentiment_mix == pytest.approx(
        {"negative": 0.55, "neutral": 0.0, "positive": 0.45}
    )
    assert noisy.n_scored == 20
    # 7 promoters, 11 detractors of 20 -> -20
    assert noisy.theme_nps == pytest.approx(-20.0)
    # mean of 11x0, 7x10, 2x8 = 86 / 20 on the dominant type (nps)
    assert noisy.mean_score == pytest.approx(4.3)
    assert noisy.mean_score_type == "nps"
    assert noisy.languages == {"en": 20}
    csat_only = stats[3]
    assert csat_only.n_scored == 0
    assert csat_only.theme_nps is None
    assert csat_only.mean_score is None  # its scores are CSAT, not the dominant NPS


def test_interval_matches_single_theme_bootstrap(
    ranking_items: pd.DataFrame, ranking_themes: list[ThemeInfo]
) -> None:
    steady = _by_id(rank_themes(ranking_items, ranking_themes, n_boot=300, seed=5))[0]
    nps_items = ranking_items[ranking_items["score_type"] == "nps"]
    expected = metrics.bootstrap_loo_impact(
        nps_items["score"], nps_items["theme_id"] == 0, n_boot=300, seed=5
    )
    assert (steady.impact_ci_low, steady.impact_ci_high) == pytest.approx(expected)
    low, high = (fmt_signed(v) for v in expected)
    assert steady.rank_reason == (
        f"rank 1: −2.0 NPS [{low}, {high}]; 0% of detractor comments; 100% negative (30 items)"
    )


def test_min_scored_boundary() -> None:
    rows = nps_rows(-1, [10] * 20 + [0] * 10) + nps_rows(0, [0] * 10)
    themes = [ThemeInfo(theme_id=0, label="x")]
    assert rank_themes(items_frame(rows), themes, n_boot=50, min_scored=10)[0].has_interval
    assert not rank_themes(items_frame(rows), themes, n_boot=50, min_scored=11)[0].has_interval


def test_strengths_are_themes_with_interval_above_zero() -> None:
    # outliers 50x10 + 50x0; theme 0: 40x10; theme 1: 12x0 + 3x10
    # all 155: (93 - 62) / 155 = 20.0; without theme 0, 115: (53 - 62) / 115 = -7.826
    # impact(0) = 20.0 + 7.826 = +27.826
    rows = nps_rows(-1, [10] * 50 + [0] * 50) + nps_rows(0, [10] * 40, "positive")
    rows += nps_rows(1, [0] * 12 + [10] * 3, "negative")
    themes = [ThemeInfo(theme_id=0, label="fast delivery"), ThemeInfo(theme_id=1, label="bugs")]
    ranked = rank_themes(items_frame(rows), themes, n_boot=300)
    pains, strong = split_pain_points_and_strengths(ranked)
    assert [s.theme_id for s in strong] == [0]
    assert strong[0].nps_impact == pytest.approx(27.8261, abs=1e-4)
    assert [s.theme_id for s in pains] == [1]
    assert ranked[-1].theme_id == 0  # a strength ranks last among scored pain points


def test_quotes_follow_theme_model_then_fill_negative_first() -> None:
    long_text = "word " * 100  # 500 chars
    rows = [(0, math.nan, None, s) for s in ("positive", "negative", "neutral", "negative")]
    rows.append((1, math.nan, None, "negative"))
    frame = items_frame(
        rows,
        text=["first", "second", long_text, "fourth", "other theme"],
        url=["https://example.com/r/1", None, None, np.nan, None],
        language=["en", "ko", "en", "und", "en"],
    )
    picks = ["i0002", "missing", "i0004", "i0000"]
    theme = ThemeInfo(theme_id=0, label="t", quote_item_keys=picks)
    quotes = _by_id(rank_themes(frame, [theme], n_boot=10))[0].quotes
    # The theme model's picks first (unknown key and other theme's item skipped), then the
    # theme's first negative item.
    assert [q.item_key for q in quotes] == ["i0002", "i0000", "i0001"]
    assert quotes[0].text.endswith("…")
    assert len(quotes[0].text) <= 301
    assert quotes[1].url == "https://example.com/r/1"
    assert quotes[2].url is None
    assert quotes[2].language == "ko"


def test_truncate_quote_word_boundary_and_cjk() -> None:
    assert truncate_quote("short text") == "short text"
    assert truncate_quote("aaaa bbbb cccc", max_chars=10) == "aaaa bbbb…"
    # No space near the limit (long Korean run): hard cut instead of losing the quote.
    assert truncate_quote("가" * 20, max_chars=10) == "가" * 10 + "…"
