r"""PII redaction for Korean and English feedback (and phones of any country), before storage.

Each kind of PII is replaced by a placeholder (``[URL]``, ``[EMAIL]``, ``[IP]``, ``[RRN]``,
``[CARD]``, ``[ACCOUNT]``, ``[PHONE]``, ``[NAME]``). Finders run in that order on a copy of the
text in which earlier finds are masked, because earlier kinds can contain later ones (a URL or
an e-mail holds digits; an RRN or a card number looks like a phone number). ``find_pii`` returns
the spans on the original text (the labelled evaluation in tests/hardening measures them);
``redact_pii`` replaces them. Which kinds run is configurable (``privacy.redact`` in configs/).

Precision matters as much as recall: a VoC text that loses "A320-200", "2015-07-20",
"₩129,000" or "flight KE017" loses its meaning. Hence:

* digit runs are bounded by ``(?<!\d)``/``(?!\d)``, never ``\b``: Korean particles glue to
  numbers ("010-1234-5678로"), and Hangul counts as a word character for ``\b``;
* Korean phone numbers must start with a real prefix (01x mobile, 02 Seoul, 0[3-6][1-5] area,
  070 internet phone) and have 9–11 digits, so dates and prices never qualify;
* international numbers need a leading "+country" or the North-American "(415) 555-0132" /
  "415-555-0132" shape; national formats of other countries ("030 12345678") are found by
  libphonenumber for the source's region (``region``, see ``nlp/pii_phones.py``), and must be
  valid numbers there;
* card numbers must pass the Luhn check (13–19 digits, an issuer-like first digit, card-like
  groups separated by spaces or dashes), and an unseparated run right after "order",
  "tracking", "주문", "송장"… is an order number, not a card;
* RRNs need a valid YYMMDD date and a 1–8 gender/century digit; written without the dash they
  must also pass the RRN check digit;
* account numbers need a cue before them (계좌, 통장, a bank's name, "account", or a refund or
  transfer verb when the number is not shaped like a phone number); IBANs need a valid
  mod-97 checksum;
* a dotted quad after "version", "v", "build", "버전"… is a version number, not an IP.

Known gaps (documented, not handled): street addresses, names without a cue (see
``nlp/pii_names.py``), national phone formats of a country other than the source's region
(and other than Korean and North-American) when written without "+country", account numbers
with no cue word.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from nlp.pii_checks import ORDER_CUE, iban_valid, luhn_valid, rrn_check_digit_valid
from nlp.pii_names import find_names
from nlp.pii_phones import check_region, find_phones, looks_like_phone

__all__ = [
    "PII_KINDS", "PiiSpan", "Redaction", "check_kinds", "find_pii", "iban_valid", "luhn_valid",
    "redact_pii", "rrn_check_digit_valid",
]  # fmt: skip

PII_KINDS: tuple[str, ...] = ("URL", "EMAIL", "IP", "RRN", "CARD", "ACCOUNT", "PHONE", "NAME")

_URL_RE = re.compile(
    # Stops at whitespace, quotes, brackets and Hangul (a particle right after a URL:
    # "https://shop.example.com에서").
    r"(?:https?://|(?<![@\w.])www\.)[^\s<>\"'()\[\]{}\x00\u3131-\u318e\uac00-\ud7a3]+",
    re.IGNORECASE,
)
# Trailing punctuation is sentence punctuation, not part of the URL.
_URL_TRAILING = ".,;:!?"

# A local part never starts with a dot: "부탁..kim@x.com" keeps its ellipsis.
_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_RE = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d)")
_IPV6_RE = re.compile(
    r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:])"
)
_VERSION_CUE = re.compile(r"(?:version|ver\.?|v|build|firmware|버전|빌드)\s*$", re.IGNORECASE)

# YYMMDD-GNNNNNN; the back half may be masked ("900101-1******"), which still identifies the
# birth date and sex, so it is redacted as well.
_RRN_RE = re.compile(
    r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?-\s?[1-8](?:\d{6}|\*{6})(?!\d)"
)
_RRN_BARE_RE = re.compile(
    r"(?<![\d-])\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[1-8]\d{6}(?!\d)"
)

# 13–19 digits in groups separated by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_ACCOUNT_STRONG = (
    r"계좌|통장|입금\s?계좌|예금주|(?:KB\s?)?국민(?:은행)?|신한(?:은행)?|(?:우리|하나|기업|부산|대구"
    r"|경남|광주|전북|제주|씨티|SC제일|산업)은행|농협|NH|IBK|카카오뱅크|카뱅|토스뱅크|케이뱅크"
    r"|새마을금고|우체국|신협|수협|account(?:\s?(?:no\.?|number|#))?|acct\.?|a/c|bank"
)
_ACCOUNT_WEAK = r"환불|입금|송금|이체|refund|transfer|deposit|wire"
_ACCOUNT_RE = re.compile(
    rf"(?:(?P<strong>{_ACCOUNT_STRONG})|(?P<weak>{_ACCOUNT_WEAK}))[^\d\n\x00]{{0,14}}?"
    r"(?P<num>(?<!\d)\d(?:[ -]?\d){7,17})(?![\d-])",
    re.IGNORECASE,
)
_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)

Span = tuple[int, int]
_MASK = "\x00"


@dataclass(frozen=True, order=True)
class PiiSpan:
    """One piece of PII found in a text.

    Attributes:
        start: Offset of its first character.
        end: Offset after its last character.
        kind: One of ``PII_KINDS``.
    """

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Redaction:
    """Result of redacting one text.

    Attributes:
        text: The text with PII replaced by placeholders.
        counts: Number of replacements per kind (see ``PII_KINDS``); kinds that were not
            found are absent.
    """

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Total number of replacements."""
        return sum(self.counts.values())


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


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
    digits = _digits(match)
    # One kind of separator in card-like groups; all-same digits ("0000 0000…") are dummies.
    return (
        13 <= len(digits) <= 19
        and digits[0] in _CARD_FIRST_DIGITS
        and not (" " in match and "-" in match)
        and _card_groups_ok(match)
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def _find_urls(text: str) -> list[Span]:
    spans = []
    for m in _URL_RE.finditer(text):
        kept = m.group(0).rstrip(_URL_TRAILING)
        spans.append((m.start(), m.start() + len(kept)))
    return spans


def _find_ips(text: str) -> list[Span]:
    spans = [
        m.span()
        for m in _IPV4_RE.finditer(text)
        # "0.0.0.0", "1.1.1.1": placeholders and public resolvers, not anyone's address.
        if len(set(m.group(0).split("."))) > 1 and not _VERSION_CUE.search(text[: m.start()])
    ]
    for m in _IPV6_RE.finditer(text):
        # "::" alone and emoticon-like colon runs parse as addresses but carry no host part.
        if sum(1 for group in m.group(0).split(":") if group) < 2:
            continue
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        spans.append(m.span())
    return spans


def _find_rrns(text: str) -> list[Span]:
    spans = [m.span() for m in _RRN_RE.finditer(text)]
    spans += [m.span() for m in _RRN_BARE_RE.finditer(text) if rrn_check_digit_valid(m.group(0))]
    return spans


def _find_cards(text: str) -> list[Span]:
    spans = []
    for m in _CARD_RE.finditer(text):
        if not _is_card(m.group(0)):
            continue
        unseparated = m.group(0).isdigit()
        if unseparated and ORDER_CUE.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        spans.append(m.span())
    return spans


def _find_accounts(text: str) -> list[Span]:
    spans = []
    for m in _ACCOUNT_RE.finditer(text):
        number = m.group("num")
        if not 8 <= len(_digits(number)) <= 16:
            continue
        # After a refund/transfer verb, a phone-shaped number is a phone number.
        if m.group("weak") and looks_like_phone(number):
            continue
        spans.append(m.span("num"))
    spans += [m.span() for m in _IBAN_RE.finditer(text) if iban_valid(m.group(0))]
    return spans


def _find_emails(text: str) -> list[Span]:
    return [m.span() for m in _EMAIL_RE.finditer(text)]


# The phone finder also takes the region (see ``find_pii``).
_FINDERS: tuple[tuple[str, Callable[..., list[Span]]], ...] = (
    ("URL", _find_urls),
    ("EMAIL", _find_emails),
    ("IP", _find_ips),
    ("RRN", _find_rrns),
    ("CARD", _find_cards),
    ("ACCOUNT", _find_accounts),
    ("PHONE", find_phones),
    ("NAME", find_names),
)


def _mask(text: str, spans: list[Span]) -> str:
    # Same length, so offsets stay valid; NUL is neither a digit, a letter nor a separator, so
    # masked text cannot glue onto a later match.
    for start, end in spans:
        text = text[:start] + _MASK * (end - start) + text[end:]
    return text


def check_kinds(kinds: Collection[str]) -> frozenset[str]:
    """Validates a configured set of PII kinds.

    Args:
        kinds: Kind names, case-insensitive.

    Returns:
        The upper-case kinds.

    Raises:
        ValueError: For a kind not in ``PII_KINDS``.
    """
    upper = frozenset(k.upper() for k in kinds)
    unknown = sorted(upper - set(PII_KINDS))
    if unknown:
        raise ValueError(f"unknown PII kinds {unknown}; known: {list(PII_KINDS)}")
    return upper


def find_pii(
    text: str, kinds: Collection[str] | None = None, region: str | None = None
) -> list[PiiSpan]:
    """Finds PII spans in a text.

    Args:
        text: Text to search (normalised or raw).
        kinds: Kinds to look for (default: all of ``PII_KINDS``).
        region: ISO 3166 alpha-2 region whose national phone formats are found too ("DE":
            "030 12345678"); None: Korean, North-American and "+country" numbers only.

    Returns:
        Non-overlapping spans on ``text``, in order.

    Raises:
        ValueError: For an unknown kind or region.
    """
    enabled = frozenset(PII_KINDS) if kinds is None else check_kinds(kinds)
    region = check_region(region)
    masked = text
    found: list[PiiSpan] = []
    for kind, finder in _FINDERS:
        if kind not in enabled:
            continue
        found_here = finder(masked, region) if kind == "PHONE" else finder(masked)
        spans = [(s, e) for s, e in found_here if e > s and _MASK not in masked[s:e]]
        found += [PiiSpan(s, e, kind) for s, e in spans]
        masked = _mask(masked, spans)
    return sorted(found)


def redact_pii(
    text: str, kinds: Collection[str] | None = None, region: str | None = None
) -> Redaction:
    """Replaces PII with ``[KIND]`` placeholders.

    Args:
        text: Text to redact (normalised or raw).
        kinds: Kinds to redact (default: all of ``PII_KINDS``).
        region: Phone region of the text's source (see ``find_pii``).

    Returns:
        The redacted text and the number of replacements per kind.
    """
    spans = find_pii(text, kinds, region)
    counts: dict[str, int] = {}
    parts: list[str] = []
    position = 0
    for span in spans:
        parts += [text[position : span.start], f"[{span.kind}]"]
        position = span.end
        counts[span.kind] = counts.get(span.kind, 0) + 1
    parts.append(text[position:])
    return Redaction(text="".join(parts), counts=counts)
