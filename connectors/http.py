"""Shared HTTP client for API connectors: bounded retries, ``Retry-After``, actionable errors.

Every vendor connector goes through ``HttpClient`` so that rate limits and outages behave the
same everywhere:

- 429 waits what ``Retry-After`` asks (seconds or an HTTP date), capped by
  ``RetryPolicy.max_retry_after``; without it, until the rate-limit window resets
  (``X-RateLimit-Reset``: seconds as Reddit sends it, or a timestamp as Mastodon does); without
  either it backs off like a 5xx.
- A response that says the window is spent (``X-RateLimit-Remaining: 0`` with a reset) makes
  the next request wait for the reset first, rather than spend attempts on certain 429s.
- 5xx, timeouts and dropped connections are retried with exponential backoff, at most
  ``RetryPolicy.max_attempts`` attempts in all; then the read fails with ``ConnectorError``.
- 401/403 and an unreachable host fail at once with what to fix (token env var, host name):
  retrying a wrong token only burns the vendor's rate limit. The error (``RefusedError``,
  ``NotFoundError``) carries the status and the Google-style ``reason``, so that a connector can
  tell one unreadable resource (a video with comments disabled) from a wrong credential.

A failure propagates out of ``Connector.read``; the caller has saved the bookmark of the last
persisted batch only, so the next run resumes there.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
from connectors.http_signals import (
    GOOGLE_BAD_KEY,
    GOOGLE_QUOTA_SPENT,
    GOOGLE_RATE_LIMITED,
    NotFoundError,
    RefusedError,
    google_error_reason,
    next_link,
    parse_time,
    rate_limit_reset,
    retry_after,
    window_spent,
)

__all__ = [
    "HttpBatch",
    "HttpClient",
    "NotFoundError",
    "RefusedError",
    "RequestStats",
    "RetryPolicy",
    "credential_hint",
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
        waited: Seconds slept before retries and rate-limit pauses.
        paused: Requests held back until the rate-limit window reset (the previous response
            said none were left).
    """

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    waited: float = 0.0
    paused: int = 0


@dataclass
class HttpBatch(Batch):
    """A ``Batch`` that also counts the API pages it was read from.

    Attributes:
        pages: API pages this batch was read from.
    """

    pages: int = 0


OptionsT = TypeVar("OptionsT")


def credential_hint(credential: str, role: str) -> str:
    """What to fix on 401/403: where the credential came from, and the role it needs if any.

    Args:
        credential: Where the credential is, e.g. "the token in $ZENDESK_API_TOKEN".
        role: The connector's ``credential_role`` ("" when none is documented).
    """
    return f"{credential} (needs: {role})" if role else credential


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

    Attributes:
        credential_role: The role, scope or permission the vendor credential needs for what
            this connector reads ("" when any valid credential will do). ``vocflow sources
            check`` prints it, and 401/403 errors name it (``credential_hint``): a valid
            token without the role is refused just like a wrong one.
    """

    credential_role: str = ""

    def credential_hint(self, credential: str) -> str:
        """What to fix on 401/403: the credential, and the role it needs if there is one."""
        return credential_hint(credential, self.credential_role)

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
        # Seconds the next request waits: the last response said the window was spent.
        self._pause = 0.0
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
        self._wait_for_window()
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
            # Retry-After first (the ask for this request); else the window's reset, which
            # Reddit and Mastodon send instead: backing off by seconds cannot outwait a
            # 5- or 10-minute window within the attempts a read has.
            wait = retry_after(response)
            raise _Retryable(
                "429", "rate limited (429)", rate_limit_reset(response) if wait is None else wait
            )
        if status >= 500:
            raise _Retryable("5xx", f"server error {status}", retry_after(response))
        reason = google_error_reason(response) if status in (400, 403) else None
        if reason in GOOGLE_RATE_LIMITED:
            raise _Retryable("429", f"rate limited ({reason})", retry_after(response))
        if reason in GOOGLE_QUOTA_SPENT:
            raise ConnectorError(
                f"source {self.source!r}: the API quota is spent ({reason}); the next run "
                "resumes from the last persisted batch (or raise the quota)"
            )
        if status in (401, 403) or reason in GOOGLE_BAD_KEY:
            raise RefusedError(
                f"source {self.source!r}: {host} refused the credentials (HTTP {status}); "
                f"check {self._hint} and that it may read this resource",
                status,
                reason,
            )
        if status == 404:
            raise NotFoundError(
                f"source {self.source!r}: HTTP 404 for {response.request.url.path}; check the "
                "ids in the source options",
                reason=google_error_reason(response),
            )
        if status >= 400:
            raise ConnectorError(
                f"source {self.source!r}: HTTP {status} for {response.request.url.path}: "
                f"{response.text[:300]!r}; check the source options"
            )
        self._pause = window_spent(response) or 0.0
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

    def _wait_for_window(self) -> None:
        """Waits out a spent rate-limit window before the next request (see ``window_spent``)."""
        pause, self._pause = self._pause, 0.0
        if pause <= 0:
            return
        if pause > self.policy.max_retry_after:
            raise ConnectorError(
                f"source {self.source!r}: the API's rate-limit window resets in {pause:.0f} s "
                f"(more than max_retry_after={self.policy.max_retry_after:.0f} s); "
                "the next run resumes from the last persisted batch"
            )
        self.stats.paused += 1
        self._slept(pause)

    def record_retry(self, state: RetryCallState) -> None:
        """Counts a retry by reason (tenacity ``before_sleep`` hook)."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable):
            self.stats.retries[error.reason] += 1
