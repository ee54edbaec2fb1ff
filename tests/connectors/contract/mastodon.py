"""Mastodon contract fake: ``GET /api/v1/timelines/tag/{hashtag}``.

Implements, as documented by Mastodon: ``limit`` (default 20, max 40), ``max_id`` (older than),
``since_id`` (newer than, newest first) and ``min_id`` (the statuses immediately newer than it,
newest first within the page); a JSON array of statuses (``id`` as a string, ``created_at``,
``edited_at``, HTML ``content``, ``spoiler_text``, ``language``, ``url``, ``account``,
``reblog``) and a ``Link`` header with ``next``/``prev``. Bearer token required here (some
instances require one for tag timelines); 401 ``{"error": "The access token is invalid"}``.

SYNTHETIC DATA: shaped from Mastodon's documented examples, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

TAG = "acmeair"
TOKEN = "synthetic-mastodon-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class MastodonApp:
    """The fake instance: ``n`` synthetic statuses under one tag, and one reblog."""

    def __init__(self, n: int = 11) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.next_id = 109_000_000_000_000_000
        self.clock = T0
        for _ in range(n):
            self.add()
        self.reblog = self._status("SYNTHETIC reblogged")
        self.reblog["reblog"] = {"id": "1"}
        self.statuses[self.reblog["id"]] = self.reblog

    def _status(self, text: str) -> dict[str, Any]:
        self.next_id += 1000
        self.clock += timedelta(minutes=1)
        sid = str(self.next_id)
        return {
            "id": sid, "created_at": self.clock.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "edited_at": None, "content": f"<p>{text} #<span>{TAG}</span> &amp; co</p>",
            "spoiler_text": "", "language": "en", "visibility": "public",
            "url": f"https://synthetic.example/@u/{sid}", "reblog": None,
            "account": {"id": f"a{sid}", "acct": f"user{sid}@synthetic.example", "bot": False},
        }  # fmt: skip

    def add(self) -> str:
        status = self._status("SYNTHETIC post")
        status["content"] = status["content"].replace("post", f"post {status['id']}")
        self.statuses[status["id"]] = status
        return status["id"]

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": "The access token is invalid"}
        if path != f"/api/v1/timelines/tag/{TAG}":
            return 404, {}, {"error": "Record not found"}
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
        headers_out = {}
        if page:
            url = f"{base}{path}"
            headers_out["Link"] = (f'<{url}?max_id={page[-1]["id"]}>; rel="next", '
                                   f'<{url}?min_id={page[0]["id"]}>; rel="prev"')  # fmt: skip
        return 200, headers_out, [dict(s) for s in page]
