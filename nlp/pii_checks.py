"""Check digits and cues that tell real identifiers from look-alike digit runs (nlp/redact.py)."""

from __future__ import annotations

import re

# Words before an unseparated digit run that make it an order, tracking or booking number
# (which can pass the Luhn check or look like a phone number), searched in the 40 characters
# before the run.
ORDER_CUE = re.compile(
    r"(?:order|tracking|invoice|booking|reservation|ticket|ref(?:erence)?|confirmation|receipt"
    r"|주문|송장|운송장|예약|접수|영수증|티켓|승인).{0,20}$",
    re.IGNORECASE,
)


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


def rrn_check_digit_valid(digits: str) -> bool:
    """Checks the last digit of a 13-digit Korean resident registration number.

    Numbers issued since October 2020 no longer carry a check digit, so this is only used
    where a 13-digit run has no dash and needs extra evidence to count as an RRN.

    Args:
        digits: 13 digits.

    Returns:
        True when the check digit matches the weighted sum of the first 12 digits.
    """
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(digits[:12], weights, strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def iban_valid(iban: str) -> bool:
    """Checks an IBAN's mod-97 checksum (ISO 13616), spaces allowed.

    Args:
        iban: Candidate IBAN.

    Returns:
        True for a well-formed IBAN of 15–34 characters.
    """
    compact = iban.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
