"""Mastodon contract fake: ``GET /api/v1/timelines/tag/{hashtag}``.

Implements, as documented by Mastodon: ``limit`` (default 20, max 40), ``max_id`` (older than),
``since_id`` (newer than, newest first) and ``min_id`` (the statuses immediately newer than it,
newest first within the page); a JSON array of statuses (``id`` as a string, ``created_at``,
``edited_at``, HTML ``content``, ``spoiler_text``, ``language``, ``url``, ``account``,
``reblog``) and a ``Link`` header with ``next``/``prev``. Bearer token required here (some
instances require one for tag timelines); 401 ``{"error": "The access token is invalid"}``.

Ids are snowflakes as Mastodon (since 2.0) makes them: the creation time in milliseconds
shifted left 16 bits, plus a sequence in the low 16 bits. Every answer carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an ISO 8601
timestamp, "when your rate limit will reset"); 300 requests per 5 minutes by default, and a
request beyond that answers 429 ``{"error": "Too many requests"}`` with no ``Retry-After``. The
fake's time moves only by ``advance`` (tests pass it the seconds their fake clock sleeps).

SYNTHETIC DATA: shaped from Mastodon's documented examples, written for these tests. The
statuses are dated two days before the test runs, so that a default start date keeps them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

TAG = "acmeair"
TOKEN = "synthetic-mastodon-token"  # noqa: S105 - a test fixture, not a secret
T0 = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)


def snowflake(when: datetime, sequence: int = 0) -> int:
    """A Mastodon-style id for a status created at ``when``."""
    return (int(when.timestamp() * 1000) << 16) + sequence


class MastodonApp:
    """The fake instance: ``n`` synthetic statuses under one tag, and one reblog."""

    def __init__(self, n: int = 11) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.clock = T0
        self.window = 300
        self.window_seconds = 300.0
        self.elapsed = 0.0
        self._window_start = 0.0
        self.used = 0
        for _ in range(n):
            self.add()
        self.reblog = self._status("SYNTHETIC reblogged", self._tick())
        self.reblog["reblog"] = {"id": "1"}
        self.statuses[self.reblog["id"]] = self.reblog

    def advance(self, seconds: float) -> None:
        """Moves the fake's time on (the rate-limit window)."""
        self.elapsed += seconds

    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def _status(self, text: str, when: datetime) -> dict[str, Any]:
        sid = str(snowflake(when, sequence=len(self.statuses) % 65536))
        return {
            "id": sid, "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "edited_at": None, "content": f"<p>{text} #<span>{TAG}</span> &amp; co</p>",
            "spoiler_text": "", "language": "en", "visibility": "public",
            "url": f"https://synthetic.example/@u/{sid}", "reblog": None,
            "account": {"id": f"a{sid}", "acct": f"user{sid}@synthetic.example", "bot": False},
        }  # fmt: skip

    def add(self, when: datetime | None = None) -> str:
        """Adds a status (a minute after the last one, or created at ``when``); returns its id."""
        status = self._status("SYNTHETIC post", when or self._tick())
        status["content"] = status["content"].replace("post", f"post {status['id']}")
        self.statuses[status["id"]] = status
        return str(status["id"])

    def _rate(self) -> tuple[bool, dict[str, str]]:
        """Counts a request against the window; False when the window is spent."""
        if self.elapsed >= self._window_start + self.window_seconds:
            self._window_start, self.used = self.elapsed, 0
        allowed = self.used < self.window
        self.used += int(allowed)
        left = self._window_start + self.window_seconds - self.elapsed
        reset = datetime.now(UTC) + timedelta(seconds=left)
        return allowed, {"X-RateLimit-Limit": str(self.window),
                         "X-RateLimit-Remaining": str(self.window - self.used),
                         "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": "The access token is invalid"}
        allowed, rate = self._rate()
        if not allowed:
            return 429, rate, {"error": "Too many requests"}
        if path != f"/api/v1/timelines/tag/{TAG}":
            return 404, rate, {"error": "Record not found"}
        size = min(int(query.get("limit", 20)), 40)
        rows = sorted(self.statuses.values(), key=lambda s: int(s["id"]))
        if "max_id" in query:
            rows = [s for s in rows if int(s["id"]) < int(query["max_id"])]
        if "min_id" in query:  # the oldest statuses newer than min_id
            page = [s for s in rows if int(s["id"]) > int(query["min_id"])][:size]
        else:
            if "since_id" in query:
                rows = [s for s in rows if int(s["id"]) > int(query["since_id"])]
            page = rows[-size:]
        page = list(reversed(page))  # newest first, as Mastodon answers
        if page:
            url = f"{base}{path}"
            rate["Link"] = (f'<{url}?max_id={page[-1]["id"]}>; rel="next", '
                            f'<{url}?min_id={page[0]["id"]}>; rel="prev"')  # fmt: skip
        return 200, rate, [dict(s) for s in page]
