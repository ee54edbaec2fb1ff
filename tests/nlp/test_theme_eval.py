"""Theme metrics (NMI/ARI/outliers/diversity/NPMI) on tiny hand-checked data."""

import math

import numpy as np
import pytest

from nlp.theme_eval import (
    evaluate_themes,
    npmi_coherence,
    reference_tokens,
    topic_diversity,
    topic_words,
)


def test_perfect_partition_scores_one_and_outliers_count_as_a_cluster() -> None:
    gold = ["a", "a", "b", "b", "c", "c"]
    perfect = evaluate_themes(gold, np.array([5, 5, 7, 7, 9, 9]), [["x"], ["y"], ["z"]])
    assert perfect["nmi"] == pytest.approx(1.0)
    assert perfect["ari"] == pytest.approx(1.0)
    assert perfect["outlier_share"] == 0.0 and perfect["n_themes"] == 3
    assert math.isnan(perfect["npmi"])  # no reference corpus given
    # Declaring the hard part "outlier" is not free: -1 is one more (mixed) cluster.
    lazy = evaluate_themes(gold, np.array([0, 0, -1, -1, -1, -1]), [["x"]])
    assert lazy["outlier_share"] == pytest.approx(4 / 6)
    assert lazy["nmi"] < 0.75 < lazy["nmi_clustered"] == pytest.approx(1.0)


def test_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError, match="gold labels"):
        evaluate_themes(["a"], np.array([0, 1]), [])


def test_topic_words_split_phrases_and_diversity_counts_repeats() -> None:
    assert topic_words(["card arrived", "card", "Track"], top_k=3) == ["card", "arrived", "track"]
    # 4 words, 3 distinct.
    assert topic_diversity([["card arrived"], ["card", "pin"]], top_k=2) == pytest.approx(0.75)
    assert math.isnan(topic_diversity([[], []]))


def test_npmi_is_one_for_words_that_always_co_occur_and_minus_one_for_never() -> None:
    docs = [{"seat", "legroom"}, {"seat", "legroom"}, {"food", "meal"}, {"food", "cold"}]
    assert npmi_coherence([["seat", "legroom"]], docs) == pytest.approx(1.0)
    assert npmi_coherence([["seat", "meal"]], docs) == pytest.approx(-1.0)
    # food (2 docs) and meal (1 doc), together in 1 of 4: log(0.25/(0.5·0.25))/-log(0.25) = 0.5
    assert npmi_coherence([["food", "meal"]], docs) == pytest.approx(0.5)


def test_reference_tokens_hold_korean_morphemes_and_plain_words() -> None:
    tokens = reference_tokens(["배송이 너무 늦어요", "The seats were great"])
    assert {"배송", "늦다"} <= tokens[0]
    assert {"the", "seats", "great"} <= tokens[1]
