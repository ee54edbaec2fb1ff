r"""Phone-number finders of ``nlp.redact``: Korean and North-American patterns, plus libphonenumber.

Two layers, run in this order on the same text (later finds never overlap earlier ones):

1. The project's own patterns (Korean prefixes, "+country" numbers, the North-American
   "(415) 555-0132" shape), tuned on the Korean/English PII set: they run for every source.
2. ``phonenumbers.PhoneNumberMatcher`` (Google's libphonenumber metadata) with the source's
   region (ISO 3166 alpha-2, see ``vocflow.privacy.source_phone_region``), for the national
   formats of other countries: "030 12345678" (DE), "01 23 45 67 89" (FR), "020 7946 0958"
   (UK). Without a region it still finds "+country" numbers.

The matcher runs at ``Leniency.VALID``: a candidate must be a valid number of the region (right
length and prefix per libphonenumber's metadata), which keeps order numbers, dates, prices and
versions out ("order 123456789", "2026-12-01", "$1,299.00", "v2.13.0"), and it rejects
candidates glued to Latin letters or currency signs. ``STRICT_GROUPING`` would also reject
valid numbers that customers group their own way ("0301 2345678"). On top of it:

* business numbers (toll-free, shared-cost, premium, universal access such as Korean
  "1588-1234") identify a company, not a person, and are kept;
* an unseparated digit run after "order", "tracking", "주문"… is that number, as in the
  patterns' layer; any run after "serial", "S/N", "IMEI", "SKU", "model"… is an identifier
  (German numbers have no fixed length: "Serial 0631-7713-1915" is a valid Mannheim number);
* a date written with dots, dashes or slashes ("01.12.2026" is a valid Italian number) is a
  date: libphonenumber itself only skips slash-separated dates.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from nlp.pii_checks import ORDER_CUE

Span = tuple[int, int]

_SEP = r"[-. ]?"
_KR_PHONE_BODY = rf"(?:01[016789]|02|0[3-6][1-5]|070){_SEP}\d{{3,4}}{_SEP}\d{{4}}"
KR_PHONE_RE = re.compile(
    # "+82 10-1234-5678", "+82 (0)10…", "+82-2-123-4567": the trunk 0 is dropped or bracketed.
    rf"(?<![\d+])(?:\+82{_SEP}(?:\(0\))?{_SEP}0?(?:1[016789]|2|[3-6][1-5]|70){_SEP}"
    rf"\d{{3,4}}{_SEP}\d{{4}}|{_KR_PHONE_BODY}|\(0(?:2|[3-6][1-5])\)\s?\d{{3,4}}{_SEP}\d{{4}})"
    r"(?!\d)"
)
_INTL_PHONE_RE = re.compile(
    # "+1 415 555 0132", "+44 20 7946 0958", "+33 (0)1 23 45 67 89": 8–15 digits in total,
    # checked in code (a regex cannot count digits across separators).
    r"(?<![0-9A-Za-z+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){2,6}(?!\d)"
)
NANP_RE = re.compile(
    # "(415) 555-0132", "415-555-0132", "415.555.0132"; the exchange never starts with 0/1.
    r"(?<![0-9A-Za-z(+-])(?:\(\d{3}\)\s?|\d{3}[-.])[2-9]\d{2}[-.]\d{4}(?![\d-])"
)

# Numbers of companies and services, not of a person (see the module docstring).
_BUSINESS_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
    }
)
_ID_CUE = re.compile(
    r"\b(?:serial|s/n|sn|imei|sku|model|part|barcode|ean|isbn|asin|gtin|upc|lot|batch|"
    r"시리얼|일련번호|모델)\W{0,3}(?:no\.?|number|#|번호)?\W{0,3}$",
    re.IGNORECASE,
)
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE_RE = re.compile(
    rf"(?:{_DAY}(?P<s1>[./-]){_MONTH}(?P=s1)|{_MONTH}(?P<s2>[./-]){_DAY}(?P=s2))(?:\d{{2}}|\d{{4}})"
    rf"|\d{{4}}(?P<s3>[./-]){_MONTH}(?P=s3){_DAY}"
)
# The shortest national number any region uses is 5 digits; fewer digits, nothing to match.
_MIN_DIGITS = 5
_MASK = "\x00"


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def check_region(region: str | None) -> str | None:
    """Validates a phone region.

    Args:
        region: ISO 3166 alpha-2 code, case-insensitive ("de", "GB"), or None.

    Returns:
        The upper-case code, or None.

    Raises:
        ValueError: For a code libphonenumber has no metadata for ("UK" is "GB").
    """
    if region is None:
        return None
    upper = region.upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}: use an ISO 3166 alpha-2 code")
    return upper


def looks_like_phone(number: str) -> bool:
    """True when a digit run has the Korean or North-American phone shape."""
    return bool(KR_PHONE_RE.fullmatch(number) or NANP_RE.fullmatch(number))


def _after_order_cue(text: str, start: int, match: str) -> bool:
    # An unseparated digit run after "주문번호"/"order" is that number, not a phone.
    return match.isdigit() and bool(ORDER_CUE.search(text[max(0, start - 40) : start]))


def _mask(text: str, spans: list[Span]) -> str:
    for start, end in spans:
        text = text[:start] + _MASK * (end - start) + text[end:]
    return text


def _find_pattern_phones(text: str) -> list[Span]:
    spans: list[Span] = []
    for pattern, accept in (
        (KR_PHONE_RE, None),
        (_INTL_PHONE_RE, lambda s: 8 <= len(_digits(s)) <= 15),
        (NANP_RE, None),
    ):
        for m in pattern.finditer(text):
            if accept is not None and not accept(m.group(0)):
                continue
            if _after_order_cue(text, m.start(), m.group(0)):
                continue
            spans.append(m.span())
        # Later phone patterns must not re-match what an earlier one found.
        text = _mask(text, spans)
    return spans


def _find_region_phones(text: str, region: str | None) -> list[Span]:
    if sum(ch.isdigit() for ch in text) < _MIN_DIGITS:
        return []
    spans: list[Span] = []
    # "ZZ" (unknown region) makes the matcher accept "+country" numbers only.
    for m in PhoneNumberMatcher(text, region or "ZZ", leniency=Leniency.VALID):
        if phonenumbers.number_type(m.number) in _BUSINESS_TYPES:
            continue
        if _after_order_cue(text, m.start, m.raw_string):
            continue
        if _ID_CUE.search(text[max(0, m.start - 30) : m.start]):
            continue
        if _DATE_RE.fullmatch(m.raw_string):
            continue
        spans.append((m.start, m.end))
    return spans


def find_phones(text: str, region: str | None = None) -> list[Span]:
    """Finds phone numbers.

    Args:
        text: Text to search, possibly with earlier finds masked by NUL characters.
        region: ISO 3166 alpha-2 region for national formats (see ``check_region``); None
            finds Korean, North-American and "+country" numbers only.

    Returns:
        Non-overlapping spans on ``text``.
    """
    spans = _find_pattern_phones(text)
    masked = _mask(text, spans)
    spans += [(s, e) for s, e in _find_region_phones(masked, region) if _MASK not in masked[s:e]]
    return spans
