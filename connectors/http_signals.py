"""What a vendor's response says beyond its status: how long to wait, and why it refused.

``HttpClient`` (connectors/http.py) asks these: ``Retry-After`` on a 429 or 503, the
rate-limit window headers Reddit and Mastodon send (``X-RateLimit-Remaining`` and
``X-RateLimit-Reset``), and the ``reason`` in a Google API error body. The errors a 4xx
raises live here too: they carry the status and that reason, so that a connector can skip one
unreadable resource (a video with comments disabled) and still fail on a wrong credential.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.base import ConnectorError

__all__ = [
    "HttpStatusError",
    "NotFoundError",
    "RefusedError",
    "GOOGLE_BAD_KEY",
    "GOOGLE_QUOTA_SPENT",
    "GOOGLE_RATE_LIMITED",
    "google_error_reason",
    "next_link",
    "parse_time",
    "rate_limit_reset",
    "retry_after",
    "window_spent",
]


class HttpStatusError(ConnectorError):
    """A 4xx answer that retrying cannot change.

    Args:
        message: What happened and what to fix.
        status: The HTTP status.
        reason: The Google-style ``reason`` of the error body (e.g. ``commentsDisabled``), if any.
    """

    def __init__(self, message: str, status: int, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFoundError(HttpStatusError):
    """HTTP 404: a wrong id in the options, or a record deleted while the sync ran."""

    def __init__(self, message: str, status: int = 404, reason: str | None = None) -> None:
        super().__init__(message, status, reason)


class RefusedError(HttpStatusError):
    """HTTP 401/403 (or a Google bad-key 400): the credentials, or this resource, refused."""


# An X-RateLimit-Reset at least this large is Unix seconds (2001 on), not seconds to wait.
_EPOCH_SECONDS = 1e9

# Google APIs answer 403 (not 429) for rate limits and spent quotas, and 400 for a bad API key;
# the reason is in the error body.
GOOGLE_RATE_LIMITED = {"rateLimitExceeded", "userRateLimitExceeded"}
GOOGLE_QUOTA_SPENT = {"quotaExceeded", "dailyLimitExceeded"}
GOOGLE_BAD_KEY = {"keyInvalid", "API_KEY_INVALID"}


def google_error_reason(response: httpx.Response) -> str | None:
    """The ``reason`` of a Google API error body (``error.errors[].reason`` or details)."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    for entry in [*(error.get("errors") or []), *(error.get("details") or [])]:
        if isinstance(entry, dict) and entry.get("reason"):
            return str(entry["reason"])
    return None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def rate_limit_reset(response: httpx.Response) -> float | None:
    """Seconds until the rate-limit window resets, from ``X-RateLimit-Reset``, if sent.

    Reddit sends the seconds left in the window ("Approximate number of seconds to end of
    period"); Mastodon an ISO 8601 timestamp ("Timestamp when your rate limit will reset");
    some vendors Unix seconds. A time is rounded up to the whole second, so that the retry
    never comes early.
    """
    value = (response.headers.get("X-RateLimit-Reset") or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None and number < _EPOCH_SECONDS:
        return max(0.0, number)
    try:
        # Others (Intercom, X) send Unix seconds: a number that large is a time, not a wait.
        when = parse_time(number if number is not None else value)
    except ValueError:
        return None
    if when is None:
        return None
    return float(max(0, math.ceil((when - datetime.now(UTC)).total_seconds())))


def window_spent(response: httpx.Response) -> float | None:
    """Seconds to wait before the next request when the response says none are left.

    ``X-RateLimit-Remaining`` is a count (Reddit sends it as a float, "0.0"); None when
    requests remain or the headers are absent.
    """
    try:
        remaining = float(response.headers.get("X-RateLimit-Remaining", ""))
    except ValueError:
        return None
    return rate_limit_reset(response) if remaining < 1 else None


def next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header (Freshdesk, Mastodon), if any."""
    link = response.links.get("next")
    return link.get("url") if link else None


def parse_time(value: Any) -> datetime | None:
    """Parses an API timestamp (ISO 8601 with zone, or Unix seconds) to aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value!r}")
    return parsed.astimezone(UTC)
