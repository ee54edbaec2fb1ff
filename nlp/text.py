"""Text cleaning shared by every NLP step: normalisation, content hashing, display truncation."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

# Tag-like markup only: "<" must be followed by a letter, "/" or "!" so that "<3", "a < b" and
# "2 <= 3" in customer text survive.
_TAG_RE = re.compile(r"<!--.*?-->|<[/!]?[A-Za-z][^<>]{0,500}>", re.DOTALL)

# Unicode categories removed outright: Cc = control characters (whitespace controls are turned
# into spaces first), Cf = format characters (zero-width space/joiner, BOM, soft hyphen,
# bidi marks) which are invisible but break tokenisation, hashing and de-duplication.
_DROP_CATEGORIES = frozenset({"Cc", "Cf"})
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\x85")

_ELLIPSIS = "…"
# Trailing characters that look odd right before an ellipsis.
_TRAILING_PUNCT = " \t,;:-–—([{"


def normalize_text(text: str) -> str:
    """Cleans one raw feedback text for analysis.

    Steps: unescape HTML entities (twice at most, since exported data is sometimes escaped
    twice, e.g. ``&amp;#039;``), strip HTML tags, Unicode NFC, drop control and zero-width
    characters, collapse all whitespace runs to one space, strip.

    NFC rather than NFKC: NFKC folds compatibility characters (full-width forms, circled
    numbers, half-width Hangul jamo), which changes what customers wrote; NFC only composes
    decomposed sequences, so conjoining-jamo Hangul becomes normal syllables.

    Args:
        text: Raw text as received from a connector.

    Returns:
        The cleaned text (possibly empty).
    """
    for _ in range(2):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    # Tags become a space so that "<br>" or "</p><p>" do not glue two words together.
    text = _TAG_RE.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    # isprintable() is False for every Cc and Cf character (and other spaces): most texts
    # have none, and skip the per-character pass (the slowest part of ingest).
    if text.isprintable():
        return " ".join(text.split())
    text = "".join(
        " " if ch in _WHITESPACE_CONTROLS else ch
        for ch in text
        if ch in _WHITESPACE_CONTROLS or unicodedata.category(ch) not in _DROP_CATEGORIES
    )
    # str.split() without arguments splits on every Unicode space (NBSP, U+3000, U+2028…).
    return " ".join(text.split())


def content_hash(text: str) -> str:
    """Returns a stable key for a text's content (used as the embedding cache key).

    The text is normalised first, so texts that differ only in markup, entities or
    whitespace share a key.

    Args:
        text: Raw or cleaned text.

    Returns:
        The SHA-256 hex digest (64 characters) of the UTF-8 normalised text.
    """
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def truncate_for_display(text: str, max_chars: int) -> str:
    """Shortens a text for reports, cutting on a word boundary and appending "…".

    When the text has no space in the second half of the allowed length (e.g. long URLs or
    unspaced CJK text), it is cut mid-word instead of losing most of the budget.

    Args:
        text: Text to shorten.
        max_chars: Maximum length of the result, ellipsis included (>= 1).

    Returns:
        ``text`` unchanged when it fits, else a prefix ending in "…" of at most
        ``max_chars`` characters.

    Raises:
        ValueError: If ``max_chars`` < 1.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    if len(text) <= max_chars:
        return text
    budget = max_chars - len(_ELLIPSIS)
    head = text[:budget]
    # If the cut fell exactly before a space, the last word is complete.
    if text[budget : budget + 1].isspace():
        cut = head
    else:
        space = head.rfind(" ")
        cut = head[:space] if space >= budget // 2 else head
    return cut.rstrip(_TRAILING_PUNCT) + _ELLIPSIS
