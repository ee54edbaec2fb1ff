"""PII redaction: what must be caught and what must survive, in Korean and English."""

import pytest

from nlp.redact import luhn_valid, redact_pii


@pytest.mark.parametrize(
    ("text", "expected", "counts"),
    [
        ("연락처는 010-1234-5678로 주세요", "연락처는 [PHONE]로 주세요", {"PHONE": 1}),
        ("01012345678 으로 전화 부탁", "[PHONE] 으로 전화 부탁", {"PHONE": 1}),
        ("고객센터 02-123-4567, 지점 031-987-6543", "고객센터 [PHONE], 지점 [PHONE]", {"PHONE": 2}),
        ("해외에서 +82 10-1234-5678 번으로", "해외에서 [PHONE] 번으로", {"PHONE": 1}),
        (
            "Call +1 415 555 0132 or (415) 555-0132 or 415-555-0132.",
            "Call [PHONE] or [PHONE] or [PHONE].",
            {"PHONE": 3},
        ),
        ("UK office +44 20 7946 0958", "UK office [PHONE]", {"PHONE": 1}),
        ("my card 4111 1111 1111 1111 was charged", "my card [CARD] was charged", {"CARD": 1}),
        ("카드번호 5500-0000-0000-0004 결제 오류", "카드번호 [CARD] 결제 오류", {"CARD": 1}),
        ("amex 3782 822463 10005", "amex [CARD]", {"CARD": 1}),
        ("주민번호 900101-1234567 입력했는데", "주민번호 [RRN] 입력했는데", {"RRN": 1}),
        ("주민번호 앞자리 851231-2****** 노출", "주민번호 앞자리 [RRN] 노출", {"RRN": 1}),
        ("mail john.doe+voc@example.co.uk now", "mail [EMAIL] now", {"EMAIL": 1}),
        ("hong@naver.com으로 보내주세요", "[EMAIL]으로 보내주세요", {"EMAIL": 1}),
        ("see https://shop.example.com/p?id=12. Thanks", "see [URL]. Thanks", {"URL": 1}),
        ("www.example.co.kr에서 주문함", "[URL]에서 주문함", {"URL": 1}),
        ("login from 192.168.0.1 failed", "login from [IP] failed", {"IP": 1}),
    ],
)
def test_redacts_pii(text: str, expected: str, counts: dict[str, int]) -> None:
    result = redact_pii(text)
    assert result.text == expected
    assert result.counts == counts
    assert result.total == sum(counts.values())


@pytest.mark.parametrize(
    "text",
    [
        "Flight KE017 on 2015-07-20 was delayed 3 hours",
        "A320-200 seat 34A, 3x3 layout, 31-32 inch pitch",
        "Paid $1,299.99 in 2014, refund of 129,000원 pending",
        "2015.07.20 OZ 202 인천-LAX 노선 12시간 비행",
        "가격 39,900원, 2+1 행사, 1588 고객센터 대기 30분",
        "Order #10002000300040000 still not shipped",  # Luhn-valid, but no issuer starts with 1
        "order 1000 2000 3000 4000 and booking ref 4111 1111 1111 1112",  # not Luhn-valid
        "I waited from 10:30 to 14:45, rated it 9/10",
        "version 2.1 of the app crashes on iOS 17.4",
        "1990-2005 was their best era; 555-0132 is too short to be a phone",
        "email me at the desk @ gate 12",
    ],
)
def test_leaves_non_pii_alone(text: str) -> None:
    result = redact_pii(text)
    assert result.text == text
    assert result.counts == {}


def test_mixed_text_counts_each_kind() -> None:
    text = "홍길동 010-1111-2222, kim@corp.kr, 카드 4111-1111-1111-1111, https://x.io/a"
    result = redact_pii(text)
    assert result.counts == {"URL": 1, "EMAIL": 1, "CARD": 1, "PHONE": 1}
    assert "010" not in result.text and "4111" not in result.text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
