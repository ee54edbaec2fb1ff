r"""Regex PII redaction for Korean and English feedback, run before embedding or storage.

Each kind of PII is replaced by a placeholder (``[EMAIL]``, ``[URL]``, ``[IP]``, ``[RRN]``,
``[CARD]``, ``[PHONE]``). Patterns run in that order because earlier kinds can contain later
ones (a URL or e-mail holds digits; an RRN or a card number looks like a phone number).

Precision matters as much as recall: a VoC text that loses "A320-200", "2015-07-20",
"₩129,000" or "flight KE017" loses its meaning. Hence:

* digit runs are bounded by ``(?<!\d)``/``(?!\d)``, never ``\b``: Korean particles glue to
  numbers ("010-1234-5678로"), and Hangul counts as a word character for ``\b``;
* Korean phone numbers must start with a real prefix (01x mobile, 02 Seoul, 0[3-6][1-5] area,
  070 internet phone) and have 9–11 digits, so dates and prices never qualify;
* international numbers need a leading "+country" or the North-American "(415) 555-0132" /
  "415-555-0132" shape;
* card numbers must pass the Luhn check (13–19 digits, an issuer-like first digit, card-like
  groups separated by spaces or dashes);
* RRNs need a valid YYMMDD date and a 1–8 gender/century digit after the dash.

Known gaps (documented, not handled): names and street addresses (need NER), phone numbers
written without any separator in foreign formats, IPv6 shorthand ("::1"); dotted
four-part version numbers ("1.2.3.4") are indistinguishable from IPv4 and get redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_URL_RE = re.compile(
    # Stops at whitespace, quotes, brackets and Hangul (a particle right after a URL:
    # "https://shop.example.com에서").
    r"(?:https?://|(?<![@\w.])www\.)[^\s<>\"'()\[\]{}\u3131-\u318e\uac00-\ud7a3]+",
    re.IGNORECASE,
)
# Trailing punctuation is sentence punctuation, not part of the URL.
_URL_TRAILING = ".,;:!?"

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IP_RE = re.compile(
    rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d)"
    r"|(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])"
)

# YYMMDD-GNNNNNN; the back half may be masked ("900101-1******"), which still identifies the
# birth date and sex, so it is redacted as well.
_RRN_RE = re.compile(
    r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?-\s?[1-8](?:\d{6}|\*{6})(?!\d)"
)

# 13–19 digits in groups separated by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")

_SEP = r"[-. ]?"
_KR_PHONE_BODY = rf"(?:01[016789]|02|0[3-6][1-5]|070){_SEP}\d{{3,4}}{_SEP}\d{{4}}"
_KR_PHONE_RE = re.compile(
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
_NANP_RE = re.compile(
    # "(415) 555-0132", "415-555-0132", "415.555.0132"; the exchange never starts with 0/1.
    r"(?<![0-9A-Za-z(+-])(?:\(\d{3}\)\s?|\d{3}[-.])[2-9]\d{2}[-.]\d{4}(?![\d-])"
)


@dataclass(frozen=True)
class Redaction:
    """Result of redacting one text.

    Attributes:
        text: The text with PII replaced by placeholders.
        counts: Number of replacements per kind ("EMAIL", "URL", "IP", "RRN", "CARD",
            "PHONE"); kinds that were not found are absent.
    """

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Total number of replacements."""
        return sum(self.counts.values())


def luhn_valid(digits: str) -> bool:
    """Checks a digit string with the Luhn (mod 10) algorithm used by payment cards.

    Args:
        digits: Digits only.

    Returns:
        True when the check digit is consistent.
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digit_count(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


# Major industry identifiers (first digit, ISO/IEC 7812) of payment cards: 2 and 5 Mastercard,
# 3 Amex/JCB/Diners, 4 Visa, 6 Discover/UnionPay, 9 Korean domestic cards. Order numbers and
# round figures ("1000 2000 3000 4000" passes Luhn) mostly start with 1 or 7/8.
_CARD_FIRST_DIGITS = frozenset("234569")


def _card_groups_ok(match: str) -> bool:
    groups = [len(g) for g in re.split(r"[ -]", match)]
    if len(groups) == 1:
        return True
    if groups[0] != 4:
        return False
    # 4-4-4-4(-1..4) for most cards, 4-6-5 Amex, 4-6-4 Diners.
    return groups[1:-1] == [4] * (len(groups) - 2) or groups in ([4, 6, 5], [4, 6, 4])


def _is_card(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    # One kind of separator in card-like groups; all-same digits ("0000 0000…") are dummies.
    return (
        13 <= len(digits) <= 19
        and digits[0] in _CARD_FIRST_DIGITS
        and not (" " in match and "-" in match)
        and _card_groups_ok(match)
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def _is_intl_phone(match: str) -> bool:
    return 8 <= _digit_count(match) <= 15


def _sub(
    pattern: re.Pattern[str],
    placeholder: str,
    text: str,
    accept: Callable[[str], bool] | None = None,
) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        if accept is not None and not accept(m.group(0)):
            return m.group(0)
        count += 1
        return placeholder

    return pattern.sub(repl, text), count


def _sub_urls(text: str) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        url = m.group(0)
        kept = url.rstrip(_URL_TRAILING)
        count += 1
        return "[URL]" + url[len(kept) :]

    return _URL_RE.sub(repl, text), count


def redact_pii(text: str) -> Redaction:
    """Replaces e-mails, URLs, IPs, Korean RRNs, card numbers and phone numbers.

    Args:
        text: Text to redact (normalised or raw).

    Returns:
        The redacted text and the number of replacements per kind.
    """
    counts: dict[str, int] = {}
    text, n = _sub_urls(text)
    if n:
        counts["URL"] = n
    steps: tuple[tuple[str, re.Pattern[str], Callable[[str], bool] | None], ...] = (
        ("EMAIL", _EMAIL_RE, None),
        ("IP", _IP_RE, None),
        ("RRN", _RRN_RE, None),
        ("CARD", _CARD_RE, _is_card),
        ("PHONE", _KR_PHONE_RE, None),
        ("PHONE", _INTL_PHONE_RE, _is_intl_phone),
        ("PHONE", _NANP_RE, None),
    )
    for kind, pattern, accept in steps:
        text, n = _sub(pattern, f"[{kind}]", text, accept)
        if n:
            counts[kind] = counts.get(kind, 0) + n
    return Redaction(text=text, counts=counts)
