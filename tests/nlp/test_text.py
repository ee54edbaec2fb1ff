"""Text normalisation, content hashing and display truncation."""

import unicodedata

import pytest

from nlp.text import content_hash, normalize_text, truncate_for_display


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("It&#039;s &quot;fine&quot; &amp; cheap", 'It\'s "fine" & cheap'),
        ("double &amp;#039;escaped&amp;#039;", "double 'escaped'"),
        ("line one<br>line two</p><p>three", "line one line two three"),
        ("<div class='x'>배송이 <b>늦어요</b></div>", "배송이 늦어요"),
        ("I <3 it, and 2 < 3 > 1", "I <3 it, and 2 < 3 > 1"),
        ("zero\u200bwidth\ufeff and\u00adsoft", "zerowidth andsoft"),
        (
            "  tabs\tand\nnewlines\r\n  and\u00a0nbsp\u3000ideographic  ",
            "tabs and newlines and nbsp ideographic",
        ),
        ("bell\x07 char", "bell char"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_composes_hangul_but_keeps_compatibility_forms() -> None:
    decomposed = unicodedata.normalize("NFD", "배송 ｆｕｌｌ ①")
    out = normalize_text(decomposed)
    assert out == "배송 ｆｕｌｌ ①"  # NFC composes jamo; NFKC would have folded ｆｕｌｌ and ①
    assert len(out.split()[0]) == 2


def test_content_hash_is_stable_over_cosmetic_differences() -> None:
    a = content_hash("It&#039;s   late <b>again</b>")
    b = content_hash("It's late again")
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0
    assert content_hash("It's late again!") != a


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("the seat was very narrow and cramped", 20, "the seat was very…"),
        ("the seat was very narrow", 18, "the seat was very…"),
        ("배송이 너무 늦어서 화가 났어요", 12, "배송이 너무 늦어서…"),
        ("https://example.com/a/very/long/path", 12, "https://exa…"),
        ("word, another", 7, "word…"),
        ("abc", 1, "…"),
    ],
)
def test_truncate_for_display(text: str, limit: int, expected: str) -> None:
    out = truncate_for_display(text, limit)
    assert out == expected
    assert len(out) <= limit


def test_truncate_rejects_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        truncate_for_display("abc", 0)
