"""Phone numbers of many countries, found for the source's region; decoys that must stay.

Labelled cases: each sentence is a feedback text in the country's language with one phone
number in a national format, the region its source would be configured with, and the number
as written. All numbers are fictional but valid per libphonenumber (the matcher only accepts
valid numbers of the region).
"""

import pytest

from nlp.redact import find_pii, redact_pii

# (region, text, the phone number as written in the text)
LABELLED = [
    ("DE", "Bitte rufen Sie mich unter 030 12345678 zurück, der Akku ist kaputt.", "030 12345678"),
    (
        "DE",
        "Meine Handynummer ist 0151 23456789, bisher hat sich niemand gemeldet.",
        "0151 23456789",
    ),
    ("FR", "Rappelez-moi au 01 23 45 67 89, le colis n'est jamais arrivé.", "01 23 45 67 89"),
    ("FR", "Mon portable : 06 12 34 56 78. Toujours pas de remboursement.", "06 12 34 56 78"),
    ("GB", "Please call me on 020 7946 0958, the app keeps logging me out.", "020 7946 0958"),
    ("GB", "My mobile is 07911 123456 if the courier can't find the flat.", "07911 123456"),
    ("US", "Reach me at 212 555 0199, the charger died after a week.", "212 555 0199"),
    ("KR", "배송이 안 와서요 02-312-4567로 연락 부탁드립니다", "02-312-4567"),
    ("JP", "配達が遅れています。090-1234-5678までご連絡ください。", "090-1234-5678"),
    ("JP", "Call the store at 03-1234-5678, they never answered my email.", "03-1234-5678"),
    ("IN", "Refund not received, call me on 98765 43210 please.", "98765 43210"),
    ("IN", "Delivery boy did not come, my number is 098765 43210.", "098765 43210"),
    ("BR", "O pedido atrasou, me liga no (11) 91234-5678 por favor.", "(11) 91234-5678"),
    ("BR", "Telefone da loja (21) 3456-7890 nunca atende.", "(21) 3456-7890"),
    ("ES", "Llámenme al 612 34 56 78, el pedido llegó roto.", "612 34 56 78"),
    ("ES", "Mi teléfono fijo es 91 123 45 67 y nadie me ha llamado.", "91 123 45 67"),
    ("IT", "Chiamatemi al 333 123 4567, il rimborso non è arrivato.", "333 123 4567"),
    ("IT", "Il numero dell'ufficio è 06 1234 5678, rispondono solo al mattino.", "06 1234 5678"),
    ("AU", "Ring me on 0412 345 678, the parcel was left in the rain.", "0412 345 678"),
    ("AU", "Our office line (02) 9876 5432 was charged twice.", "(02) 9876 5432"),
    ("CN", "快递一直没到，请打138 0013 8000联系我。", "138 0013 8000"),
    ("CN", "客服电话010-1234 5678一直占线。", "010-1234 5678"),
    ("NL", "Bel me terug op 06 12345678, de bestelling is kwijt.", "06 12345678"),
    ("MX", "Márquenme al 55 1234 5678, nunca llegó mi pedido.", "55 1234 5678"),
    ("CH", "Rufen Sie 044 668 18 00 an, die Rechnung ist falsch.", "044 668 18 00"),
]

# Digit runs every region must leave alone.
DECOYS = [
    "My order 123456789 never shipped.",
    "Order #1234567890 is still pending since 2026-12-01.",
    "Delivered on 2026-12-01, paid $1,299.00 for it.",
    "Charged 1.299,00 € and then 89,90 € again on 01.12.2026.",
    "Since v2.13.0 the app crashes on iOS 17.2.1 and Android 14.",
    "Ticket 2125551234 was closed without an answer.",
    "Tracking number 00340434161234567890 shows no update.",
    "Serial 0631-7713-1915 stopped working after 17 days.",
    "Flight LH 2024 on 12/01/2026 left at 14:30, gate 23.",
    "Rated it 9/10, waited 45 minutes, seat 34A.",
]


@pytest.mark.parametrize(("region", "text", "number"), LABELLED)
def test_national_formats_are_redacted_for_the_source_region(
    region: str, text: str, number: str
) -> None:
    redacted = redact_pii(text, region=region)
    assert number not in redacted.text
    assert redacted.counts == {"PHONE": 1}
    spans = find_pii(text, region=region)
    assert [(s.kind, text[s.start : s.end]) for s in spans] == [("PHONE", number)]


def test_the_labelled_set_covers_at_least_ten_countries() -> None:
    assert len({region for region, _, _ in LABELLED}) >= 10


@pytest.mark.parametrize("region", [None, *sorted({r for r, _, _ in LABELLED})])
@pytest.mark.parametrize("text", DECOYS)
def test_decoys_stay_in_every_region(region: str | None, text: str) -> None:
    assert redact_pii(text, region=region).text == text


@pytest.mark.parametrize("region", [None, "KR", "US", "DE", "JP"])
@pytest.mark.parametrize(
    "number", ["+49 30 12345678", "+33 1 23 45 67 89", "+44 20 7946 0958", "+81 90-1234-5678"]
)
def test_international_numbers_are_redacted_whatever_the_region(
    region: str | None, number: str
) -> None:
    text = f"Call me back on {number} please."
    assert redact_pii(text, region=region).text == "Call me back on [PHONE] please."


def test_business_numbers_are_not_personal_data() -> None:
    # Korean 1588 numbers and UK 0800 numbers are a company's, valid as they are.
    for region, text in [
        ("KR", "고객센터 1588-1234 연결이 안 돼요"),
        ("GB", "Freephone 0800 123 4567 hung up"),
    ]:
        assert redact_pii(text, region=region).text == text


def test_without_a_region_national_formats_of_other_countries_stay() -> None:
    # The documented gap: a German number in a source with no region (or another region).
    text = "Bitte rufen Sie mich unter 030 12345678 zurück."
    assert redact_pii(text).text == text
    assert redact_pii(text, region="FR").text == text


def test_korean_and_north_american_numbers_need_no_region() -> None:
    text = "연락처 010-1234-5678, US office (415) 555-0132"
    assert redact_pii(text).text == redact_pii(text, region="DE").text
    assert redact_pii(text).counts == {"PHONE": 2}


@pytest.mark.parametrize("region", ["XX", "UK", "deu"])
def test_an_unknown_region_is_an_error(region: str) -> None:
    with pytest.raises(ValueError, match="phone region"):
        redact_pii("call 030 12345678", region=region)


def test_region_is_case_insensitive() -> None:
    assert redact_pii("Tel 030 12345678", region="de").text == "Tel [PHONE]"
