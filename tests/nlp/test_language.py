"""Script-based language detection."""

import pytest

from nlp.language import detect_language, detect_languages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("배송이 너무 늦어요", "ko"),
        ("ㅋㅋㅋㅋ ㅠㅠ", "ko"),
        ("굿", "ko"),
        ("The seat was narrow and the crew was rude.", "en"),
        ("ok", "en"),
        # Mixed: Korean grammar around English product names and codes.
        ("아이폰 battery 너무 빨리 닳아요", "ko"),
        ("갤럭시 S23 Ultra 카메라 화질 최고", "ko"),
        ("Samsung Galaxy Ultra 배송 늦음", "ko"),
        # English with a single Korean word stays English.
        ("I really loved the kimchi 김치 they served on board", "en"),
        # Hanja inside Korean text is Korean.
        ("大韓航空 좌석이 넓어요", "ko"),
        ("新幹線の座席が狭い", "ja"),
        ("我的卡还没到", "zh"),
        ("😀👍🔥", "und"),
        ("12345 - 2015.07.20", "und"),
        ("!!! ???", "und"),
        ("", "und"),
        ("a", "und"),
        ("Привет мир", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_detect_languages_keeps_order() -> None:
    assert detect_languages(["좋아요", "great", "👍"]) == ["ko", "en", "und"]
