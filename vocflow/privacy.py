"""What ingestion keeps of customer text: redaction kinds, raw text, links, retention.

Every piece of customer text that reaches the store for analysis (text, title, ticket
messages, segment values, quarantined rows) goes through ``PrivacyPolicy`` first. Raw text is
kept, in the store only, when ``privacy.keep_raw_text`` is set; otherwise the ``items.text``
column holds the same cleaned, redacted text as ``text_clean``, and quarantined rows are
redacted too. Reports, artifacts and logs only ever see redacted text.

Phone numbers in national formats depend on the country ("030 12345678" is a Berlin number,
"01 23 45 67 89" a Paris one), so each source has a phone region: its ``phone_region`` option
(ISO 3166 alpha-2), else the country of its declared ``language`` (ko → KR, en → US, ...; see
``source_phone_region``). "+country" numbers, Korean and North-American numbers are redacted
whatever the region.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nlp.pii_phones import check_region
from nlp.redact import PII_KINDS, Redaction, check_kinds, redact_pii
from nlp.text import normalize_text
from vocflow.settings import PrivacySettings

# Query parameters that carry credentials or identities in links back to a source system.
_SENSITIVE_PARAMS = frozenset(
    """
    token access_token id_token refresh_token auth authorization key api_key apikey secret
    password passwd pwd pass session sessionid sid sig signature code otp email mail phone
    user userid user_id uid login username account ticket_token jwt hash
    """.split()
)


@dataclass(frozen=True)
class PrivacyPolicy:
    """How customer text is treated before it is stored.

    Attributes:
        keep_raw_text: Store the source's raw text in ``items.text`` (store only); when False
            the column holds the cleaned, redacted text.
        kinds: PII kinds to redact (see ``nlp.redact.PII_KINDS``).
        retention_cutoff: Items created before this are not ingested (None: keep all).
        phone_region: Region whose national phone formats are redacted too (ISO 3166
            alpha-2; None: Korean, North-American and "+country" numbers only).
    """

    keep_raw_text: bool = False
    kinds: frozenset[str] = field(default_factory=lambda: frozenset(PII_KINDS))
    retention_cutoff: datetime | None = None
    phone_region: str | None = None

    @classmethod
    def from_config(
        cls,
        keep_raw_text: bool = False,
        redact: Collection[str] | None = None,
        retention_days: int | None = None,
        now: datetime | None = None,
    ) -> PrivacyPolicy:
        """Builds a policy from the ``privacy`` settings block.

        Args:
            keep_raw_text: See the attribute.
            redact: PII kinds to redact (None: all).
            retention_days: Keep items created in the last N days (None: all).
            now: Clock for the retention cutoff (tests pin it).

        Returns:
            The policy.
        """
        cutoff = None
        if retention_days is not None:
            cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        return cls(
            keep_raw_text=keep_raw_text,
            kinds=frozenset(PII_KINDS) if redact is None else check_kinds(redact),
            retention_cutoff=cutoff,
        )

    @classmethod
    def from_settings(cls, privacy: PrivacySettings, now: datetime | None = None) -> PrivacyPolicy:
        """Builds the policy of the ``privacy`` settings block."""
        return cls.from_config(
            keep_raw_text=privacy.keep_raw_text,
            redact=privacy.redact,
            retention_days=privacy.retention_days,
            now=now,
        )

    def for_source(self, options: Mapping[str, Any]) -> PrivacyPolicy:
        """The policy for one source: its phone region (see ``source_phone_region``)."""
        return replace(self, phone_region=source_phone_region(options))

    def clean(self, text: str) -> Redaction:
        """Normalises a text, then redacts the configured PII kinds."""
        return redact_pii(normalize_text(text), self.kinds, self.phone_region)

    def stored_text(self, raw: str, clean: str) -> str:
        """What goes into a column that may hold raw text: raw if configured, else clean."""
        return raw if self.keep_raw_text else clean

    def stored_optional(self, raw: str | None) -> str | None:
        """Same as ``stored_text`` for optional fields (titles), cleaning them on demand."""
        if raw is None or self.keep_raw_text:
            return raw
        return self.clean(raw).text

    def redact_json(self, raw: str) -> str:
        """Redacts a raw row kept for diagnosis (quarantine), unless raw text is kept."""
        if self.keep_raw_text:
            return raw
        return redact_pii(raw, self.kinds, self.phone_region).text

    def segment(self, segment: dict[str, str]) -> dict[str, str]:
        """Redacts free-text segment values (a "notes" column can hold anything)."""
        if self.keep_raw_text:
            return segment
        return {key: self.clean(value).text for key, value in segment.items()}

    def thread(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Redacts the text of ticket messages (JSON-ready dicts)."""
        if self.keep_raw_text:
            return messages
        return [{**m, "text": self.clean(str(m.get("text", ""))).text} for m in messages]

    def is_expired(self, created_at: datetime) -> bool:
        """True when the retention setting says an item of this date is not kept."""
        return self.retention_cutoff is not None and created_at < self.retention_cutoff


# Country whose phone formats a source of one language most likely carries; a source of
# another country sets ``phone_region`` (an English source in the UK: "GB").
LANGUAGE_PHONE_REGIONS: dict[str, str] = {
    "ko": "KR", "en": "US", "ja": "JP", "zh": "CN", "fr": "FR", "de": "DE", "es": "ES",
    "it": "IT", "nl": "NL",
}  # fmt: skip


def source_phone_region(options: Mapping[str, Any]) -> str | None:
    """The phone region of a source: its ``phone_region`` option, else its language's country.

    Args:
        options: The source's ``options`` block (``phone_region``, ``language``, which may
            carry a region subtag: "en-GB").

    Returns:
        An upper-case ISO 3166 alpha-2 code, or None when neither option says.

    Raises:
        ValueError: For a ``phone_region`` libphonenumber does not know.
    """
    region = options.get("phone_region")
    if region:
        return check_region(str(region))
    # "en-GB", "pt_BR": a language tag's region subtag names the country.
    language, _, subtag = str(options.get("language") or "").replace("_", "-").partition("-")
    if len(subtag) == 2 and subtag.isalpha():
        return check_region(subtag)
    return LANGUAGE_PHONE_REGIONS.get(language.lower())


def sanitize_url(url: str | None) -> str | None:
    """Drops credentials from a link back to the source: user info and sensitive parameters.

    Args:
        url: A link, possibly with ``user:password@`` or ``?token=…``.

    Returns:
        The link without them (the path, which locates the item, is kept), or None.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _SENSITIVE_PARAMS
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def has_text_content(text: str) -> bool:
    """True when a cleaned text has at least one letter or digit (Hangul jamo count).

    Emoji-only, punctuation-only or markup-only texts have nothing to analyse; "ㅋㅋㅋ" and
    "ㅠㅠ" are Korean laughter and crying, carry sentiment, and count as text.
    """
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def quarantine_detail(item_ref: str, text: str) -> str:
    """Raw-row JSON for an item quarantined after cleaning (no text content left)."""
    return json.dumps({"ref": item_ref, "text": text}, ensure_ascii=False)
