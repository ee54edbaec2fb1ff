"""Sparse sentiment features: folding, negation scope, n-grams, TF-IDF parity with sklearn."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp.sentiment.features import SparseFeatures, fold, terms, words


def test_fold_caps_repeats_so_laughter_and_crying_of_any_length_match() -> None:
    assert fold("ㅋㅋㅋㅋㅋ 재밌다ㅠㅠㅠㅠ!!!!") == "ㅋㅋ 재밌다ㅠㅠ!!"
    assert fold("Soooo GOOD") == "soo good"
    assert fold("ㅋㅋ") == "ㅋㅋ"


def test_english_negation_scope_ends_at_punctuation_and_contrast() -> None:
    tokens = words(fold("It wasn't good, but the crew was not rude at all."))
    assert "NOT_good" in tokens and "good" not in tokens
    assert "crew" in tokens and "NOT_crew" not in tokens  # scope ended at ", but"
    assert "NOT_rude" in tokens
    assert words("never again") == ["never", "NOT_again"]


def test_terms_cover_chars_across_words_words_and_bigrams() -> None:
    t = terms("안 좋아요 👍")
    assert "c:안 좋" in t  # Korean negation spans the space
    assert "c:👍" in t  # emoji kept as a character
    assert "w:안 좋아요" in t and "w:좋아요" in t
    english = terms("not bad")
    assert "w:NOT_bad" in english and "w:not NOT_bad" in english


def test_tfidf_matches_sklearn_sublinear_tfidf() -> None:
    texts = ["좋아요 좋아요 정말", "별로 안 좋아요", "good good movie", "not good", "정말 별로"]
    features, counts = SparseFeatures.fit(texts, max_features=10_000, min_df=1)
    ours = features.transform(texts, counts).toarray()
    again = features.transform(texts).toarray()  # without precomputed counts
    ref = TfidfVectorizer(analyzer=terms, sublinear_tf=True, min_df=1)
    theirs = ref.fit_transform(texts)
    order = [ref.vocabulary_[t] for t in features.vocabulary]
    np.testing.assert_allclose(ours, theirs.toarray()[:, order], atol=1e-12)
    np.testing.assert_array_equal(ours, again)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0)


def test_vocabulary_cap_keeps_the_most_frequent_terms_deterministically() -> None:
    texts = ["a b", "a c", "a d", "b e"]
    features, _ = SparseFeatures.fit(texts, max_features=3, min_df=1)
    assert len(features.vocabulary) == 3
    # Terms of "a" occur in three texts, everything else in at most two; ties go by term.
    assert features.vocabulary == ["c: a", "c: a ", "c:a"]
    assert features.vocabulary == SparseFeatures.fit(texts, max_features=3, min_df=1)[0].vocabulary
    unknown = features.transform(["zzz"]).toarray()
    assert unknown.shape == (1, 3) and not unknown.any()
