"""Theme tokenizer: Korean content morphemes, English words, phrase breaks, sklearn use."""

import pickle

import pytest
from sklearn.feature_extraction.text import CountVectorizer

from nlp.tokenize import DOC_BREAK, KOREAN_SINGLE_SYLLABLE_ALLOW, PHRASE_BREAK, ThemeTokenizer

PARTICLES_AND_ENDINGS = {
    "은", "는", "이", "가", "을", "를", "의", "에", "도", "로", "으로", "에서", "어요", "아요",
    "고", "다", "었", "았", "요", "습니다", "네요",
}  # fmt: skip


@pytest.fixture(scope="module")
def tok() -> ThemeTokenizer:
    return ThemeTokenizer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("배송이 너무 늦어요", ["배송", "늦다"]),
        ("좌석이 좁고 불편했어요", ["좌석", "좁다", "불편"]),
        ("돈 아깝다 맛도 없고 짐이 많아요", ["돈", "아깝다", "맛", "짐", "많다"]),
        (
            "이 영화는 진짜 최고의 작품이다 배우들의 연기가 훌륭했다",
            ["영화", "최고", "작품", "배우", "연기", "훌륭하다"],
        ),
        ("추워요 그리고 시끄러워요", ["춥다", "시끄럽다"]),
    ],
)
def test_korean_keeps_content_morphemes(
    tok: ThemeTokenizer, text: str, expected: list[str]
) -> None:
    assert tok(text) == expected


def test_korean_output_has_no_particles_or_endings(tok: ThemeTokenizer) -> None:
    sentences = [
        "배송이 늦어서 고객센터에 전화를 했는데 연결이 안 됐습니다",
        "앱으로 결제를 하면 자꾸 오류가 나요",
        "직원의 태도는 친절했지만 대기 시간이 길었어요",
        "ㅋㅋㅋ 이 가격에 이 정도면 괜찮네요 ^^",
    ]
    for s in sentences:
        tokens = tok(s)
        assert tokens, s
        assert not PARTICLES_AND_ENDINGS.intersection(tokens), (s, tokens)
        # One-syllable tokens only from the allow-list.
        assert all(len(t) >= 2 or t in KOREAN_SINGLE_SYLLABLE_ALLOW for t in tokens), (s, tokens)
    assert {"배송", "고객", "센터", "전화", "연결"} <= set(tok(sentences[0]))
    assert {"앱", "결제", "오류"} <= set(tok(sentences[1]))
    assert "되다" not in tok(sentences[0])  # light verb dropped


def test_single_syllable_nouns_need_the_allow_list(tok: ThemeTokenizer) -> None:
    tokens = tok("돈 낭비, 맛 없음, 때 되면 뒤 돌아봄")
    assert "돈" in tokens and "맛" in tokens
    assert "때" not in tokens and "뒤" not in tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The seats on the A320 were really cramped and the flight didn't leave on time!",
            ["seats", "a320", "cramped", "flight", "leave", "time"],
        ),
        ("I'm still waiting for my card, it's been 2 weeks", ["waiting", "card", "weeks"]),
        ("Would also get one refund? Got it.", ["refund"]),
        ("WiFi on 4G was ok", ["wifi", "4g"]),
    ],
)
def test_english_tokens(tok: ThemeTokenizer, text: str, expected: list[str]) -> None:
    assert tok(text) == expected


def test_mixed_script_text(tok: ThemeTokenizer) -> None:
    assert tok("아이폰 battery 너무 빨리 닳아요") == ["아이폰", "battery", "닳다"]
    # Latin pieces that Kiwi splits ("iPhone" + "15") are glued back; English stop words drop.
    assert tok("iPhone15 배터리가 the worst") == ["iphone15", "배터리", "worst"]


def test_cjk_without_segmenter_becomes_bigrams(tok: ThemeTokenizer) -> None:
    assert tok("座席狭い") == ["座席", "席狭", "狭い"]


def test_phrase_breaks_stop_bigrams_across_gaps() -> None:
    tok = ThemeTokenizer(phrase_breaks=True)
    assert tok("I entered the wrong pin too many times") == [
        "entered",
        "wrong",
        "pin",
        PHRASE_BREAK,
        "times",
    ]
    assert tok("Please delete my account, not happy.") == [
        "delete",
        "account",
        PHRASE_BREAK,
        "happy",
    ]
    assert tok("배송이 늦어요. 포장" + DOC_BREAK + "영화 최고") == [
        "배송", "늦다", PHRASE_BREAK, "포장", PHRASE_BREAK, "영화", "최고",
    ]  # fmt: skip
    # Without phrase breaks the markers never appear.
    assert PHRASE_BREAK not in ThemeTokenizer()("delete my account, not happy" + DOC_BREAK + "x")


def test_extra_stop_words(tok: ThemeTokenizer) -> None:
    custom = ThemeTokenizer(extra_stop_words=["영화", "Airline"])
    assert custom("영화 연기 최고") == ["연기", "최고"]
    assert custom("the airline lost my bag") == ["lost", "bag"]
    assert tok("영화 연기 최고") == ["영화", "연기", "최고"]


def test_pickle_round_trip_and_count_vectorizer() -> None:
    tok = pickle.loads(pickle.dumps(ThemeTokenizer(extra_stop_words=["x1"], phrase_breaks=True)))
    assert tok.extra_stop_words == frozenset({"x1"}) and tok.phrase_breaks
    vec = CountVectorizer(
        tokenizer=ThemeTokenizer(), lowercase=False, token_pattern=None, ngram_range=(1, 2)
    )
    vec.fit(["배송이 너무 늦어요", "배송 늦음 문의", "The delivery was late"])
    vocab = set(vec.vocabulary_)
    assert {"배송", "늦다", "배송 늦다", "delivery", "late", "delivery late"} <= vocab
    assert not {"이", "어요", "the", "was"} & vocab
    clone = pickle.loads(pickle.dumps(vec))
    assert clone.transform(["배송이 늦어요"]).sum() == vec.transform(["배송이 늦어요"]).sum()
