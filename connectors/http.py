"""Shared HTTP client for API connectors: bounded retries, ``Retry-After``, actionable errors.

Every vendor connector goes through ``HttpClient`` so that rate limits and outages behave the
same everywhere:

- 429 waits what ``Retry-After`` asks (seconds or an HTTP date), capped by
  ``RetryPolicy.max_retry_after``; without the header it backs off like a 5xx.
- 5xx, timeouts and dropped connections are retried with exponential backoff, at most
  ``RetryPolicy.max_attempts`` attempts in all; then the read fails with ``ConnectorError``.
- 401/403 and an unreachable host fail at once with what to fix (token env var, host name):
  retrying a wrong token only burns the vendor's rate limit.

A failure propagates out of ``Connector.read``; the caller has saved the bookmark of the last
persisted batch only, so the next run resumes there.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from connectors.base import Batch, ConnectorError

__all__ = [
    "HttpBatch",
    "HttpClient",
    "NotFoundError",
    "RequestStats",
    "RetryPolicy",
    "next_link",
    "parse_time",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a read fails.

    Attributes:
        max_attempts: Attempts per request, the first included.
        backoff_base: First backoff in seconds (doubles per attempt) when the server gives no
            ``Retry-After``.
        backoff_max: Longest single backoff in seconds.
        max_retry_after: Longest ``Retry-After`` honoured; a longer ask fails the read rather
            than stalling a nightly run for hours.
        timeout: Seconds to connect and between bytes of a response.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 900.0
    timeout: float = 30.0


@dataclass
class RequestStats:
    """What the client did, for tests and run logs.

    Attributes:
        requests: HTTP requests sent, retries included.
        retries: Retries by reason ("429", "5xx", "timeout", "connect").
        waited: Seconds slept before retries.
    """

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    waited: float = 0.0


@dataclass
class HttpBatch(Batch):
    """A ``Batch`` that also counts the API pages it was read from.

    Attributes:
        pages: API pages this batch was read from.
    """

    pages: int = 0


OptionsT = TypeVar("OptionsT")


class ApiConnector(Generic[OptionsT]):
    """State every vendor API connector holds.

    Its options, the customer salt, the retry sleep and httpx transport that tests replace,
    and ``client``, the last client built.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing customer ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    def __init__(
        self,
        name: str,
        options: OptionsT,
        customer_salt: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self._salt = customer_salt
        self._sleep = sleep
        self._transport = transport
        self.client: HttpClient | None = None


class NotFoundError(ConnectorError):
    """HTTP 404: a wrong id in the options, or a record deleted while the sync ran."""


class _Retryable(Exception):
    """A response or transport error worth another attempt."""

    def __init__(self, reason: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.retry_after = retry_after


class HttpClient:
    """A JSON-over-HTTP client for one source.

    Args:
        source: Source instance name (for messages).
        base_url: Scheme and host (and path prefix) the connector's paths are relative to.
        auth: httpx auth (basic auth for token APIs), or None.
        headers: Extra headers (e.g. ``Authorization: Bearer ...``).
        credential_hint: What to fix on 401/403, e.g. "the token in $ZENDESK_API_TOKEN".
        policy: Retry and timeout settings.
        sleep: Sleep function (tests pass a fake clock).
        transport: httpx transport (tests may inject one; default: the network).
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        credential_hint: str = "the API credentials",
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.policy = policy or RetryPolicy()
        self.stats = RequestStats()
        self._hint = credential_hint
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={"Accept": "application/json", "User-Agent": "vocflow", **(headers or {})},
            timeout=self.policy.timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Closes the connection pool."""
        self._client.close()

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GETs a JSON resource with retries.

        Args:
            url: Path relative to the base URL, or an absolute URL (a vendor's next link).
            params: Query parameters.

        Returns:
            The successful response (call ``.json()``; ``.headers`` carries ``Link``).

        Raises:
            ConnectorError: Authentication failed, host unreachable, a 4xx other than 429,
                or retries exhausted.
        """
        return self._request("GET", url, params, None)

    def post_json(self, url: str, body: Any) -> httpx.Response:
        """POSTs a JSON query (search endpoints that read, never write) with retries.

        Args:
            url: Path relative to the base URL.
            body: JSON-serialisable request body.

        Returns:
            The successful response.

        Raises:
            ConnectorError: As ``get_json``.
        """
        return self._request("POST", url, None, body)

    def get_file(self, url: str) -> bytes:
        """GETs a file (an export download) with the same retries; returns its bytes."""
        return self._request("GET", url, None, None, expect_json=False).content

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        *,
        expect_json: bool = True,
    ) -> httpx.Response:
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._slept,
            before_sleep=self.record_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, params, body, expect_json)
        except _Retryable as error:
            raise ConnectorError(
                f"source {self.source!r}: {url} still failing after "
                f"{self.policy.max_attempts} attempts ({error}); state stays at the last "
                "persisted batch, the next run resumes there"
            ) from error

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        expect_json: bool,
    ) -> httpx.Response:
        self.stats.requests += 1
        host = self._client.base_url.host or url
        try:
            response = self._client.request(method, url, params=params, json=body)
        except httpx.TimeoutException as error:
            raise _Retryable("timeout", f"timed out: {error!r}") from error
        except httpx.ConnectError as error:
            # A refused connection or failed DNS on the first request is a wrong host, not a
            # blip: tell the user at once. Mid-stream it is retried like any outage.
            if self.stats.requests == 1:
                raise ConnectorError(
                    f"source {self.source!r}: cannot reach {host} ({error}); check the "
                    "base_url/subdomain option and the network or proxy"
                ) from error
            raise _Retryable("connect", f"connection failed: {error!r}") from error
        except httpx.TransportError as error:
            raise _Retryable("connect", f"connection dropped: {error!r}") from error
        status = response.status_code
        if status == 429:
            raise _Retryable("429", "rate limited (429)", _retry_after(response))
        if status >= 500:
            raise _Retryable("5xx", f"server error {status}", _retry_after(response))
        reason = _google_error_reason(response) if status in (400, 403) else None
        if reason in _GOOGLE_RATE_LIMITED:
            raise _Retryable("429", f"rate limited ({reason})", _retry_after(response))
        if reason in _GOOGLE_QUOTA_SPENT:
            raise ConnectorError(
                f"source {self.source!r}: the API quota is spent ({reason}); the next run "
                "resumes from the last persisted batch (or raise the quota)"
            )
        if status in (401, 403) or reason in _GOOGLE_BAD_KEY:
            raise ConnectorError(
                f"source {self.source!r}: {host} refused the credentials (HTTP {status}); "
                f"check {self._hint} and that it may read this resource"
            )
        if status == 404:
            raise NotFoundError(
                f"source {self.source!r}: HTTP 404 for {response.request.url.path}; check the "
                "ids in the source options"
            )
        if status >= 400:
            raise ConnectorError(
                f"source {self.source!r}: HTTP {status} for {response.request.url.path}: "
                f"{response.text[:300]!r}; check the source options"
            )
        if not expect_json:
            return response
        try:
            response.json()
        except ValueError as error:
            # A proxy's HTML error page with status 200: treat as an outage, not as data.
            raise _Retryable("5xx", "response is not JSON") from error
        return response

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            if error.retry_after > self.policy.max_retry_after:
                raise ConnectorError(
                    f"source {self.source!r}: the API asks to wait {error.retry_after:.0f} s "
                    f"(more than max_retry_after={self.policy.max_retry_after:.0f} s); "
                    "the next run resumes from the last persisted batch"
                )
            return error.retry_after
        backoff = wait_exponential(multiplier=self.policy.backoff_base, max=self.policy.backoff_max)
        return float(backoff(state))

    def _slept(self, seconds: float) -> None:
        self.stats.waited += seconds
        self._sleep(seconds)

    def record_retry(self, state: RetryCallState) -> None:
        """Counts a retry by reason (tenacity ``before_sleep`` hook)."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable):
            self.stats.retries[error.reason] += 1


# Google APIs answer 403 (not 429) for rate limits and spent quotas, and 400 for a bad API key;
# the reason is in the error body.
_GOOGLE_RATE_LIMITED = {"rateLimitExceeded", "userRateLimitExceeded"}
_GOOGLE_QUOTA_SPENT = {"quotaExceeded", "dailyLimitExceeded"}
_GOOGLE_BAD_KEY = {"keyInvalid", "API_KEY_INVALID"}


def _google_error_reason(response: httpx.Response) -> str | None:
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


def _retry_after(response: httpx.Response) -> float | None:
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
