"""Reddit contract fake: app-only OAuth token endpoint and post search.

Implements, as documented by Reddit: ``POST /api/v1/access_token`` with HTTP basic auth
(client id and secret) and ``grant_type=client_credentials``, answering ``access_token``,
``token_type: bearer``, ``expires_in``; ``GET /search`` (and ``/r/{subs}/search`` with
``restrict_sr``) with ``q``, ``sort=new``, ``limit`` (max 100) and ``after`` (a fullname),
answering a ``Listing`` (``data.children[].data`` posts with ``name``, ``id``, ``title``,
``selftext``, ``author``, ``author_fullname``, ``subreddit``, ``created_utc``, ``permalink``,
``edited``; ``data.after``); 401 without a valid bearer token. A post matches a query when
any of its words is in the title or body (case-insensitive). A listing ends (``after: null``)
after ``listing_cap`` posts (about 1,000 on Reddit). Every API answer carries
``X-Ratelimit-Used``/``X-Ratelimit-Remaining`` (a float, as Reddit sends it) and
``X-Ratelimit-Reset`` (whole seconds to the end of the window); a request beyond the window
answers 429 with those headers and no ``Retry-After``. The fake's time only moves by
``advance`` (tests pass it the seconds their fake clock sleeps).

SYNTHETIC DATA: shaped from Reddit's documented listing examples, written for these tests.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

CLIENT_ID = "synthetic-client"
SECRET = "synthetic-reddit-secret"  # noqa: S105 - a test fixture, not a secret
ACCESS_TOKEN = "synthetic-reddit-access"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class RedditApp:
    """The fake Reddit: ``n`` synthetic posts mentioning the brand, pairs sharing a second."""

    def __init__(self, n: int = 11) -> None:
        self.posts: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        self.listing_cap = 1000
        self.window = 600  # requests per rate-limit window (Reddit: per client id)
        self.window_seconds = 600.0
        self.elapsed = 0.0
        self._window_start = 0.0
        self.used = 0
        for i in range(n):
            self._put(f"t3_syn{i:03d}", T0 + timedelta(minutes=i // 2))

    def advance(self, seconds: float) -> None:
        """Moves the fake's time on (the rate-limit window)."""
        self.elapsed += seconds

    def _put(self, name: str, when: datetime, about: str = "Acme") -> None:
        self.posts[name] = {
            "kind": "t3", "name": name, "id": name[3:],
            "title": f"SYNTHETIC post about {about} {name}",
            "selftext": f"SYNTHETIC body {name}", "author": f"synthetic_user_{name}",
            "author_fullname": f"t2_{name[3:]}", "subreddit": "synthetic",
            "created_utc": when.timestamp(), "permalink": f"/r/synthetic/comments/{name[3:]}/x/",
            "edited": False, "score": 3, "num_comments": 0,
        }  # fmt: skip

    def add(self, about: str = "Acme", when: datetime | None = None) -> str:
        self.clock += timedelta(minutes=1)
        name = f"t3_syn{len(self.posts):03d}"
        self._put(name, when or self.clock, about)
        return name

    def _rate(self) -> tuple[bool, dict[str, str]]:
        """Counts a request against the window; False when the window is spent."""
        if self.elapsed >= self._window_start + self.window_seconds:
            self._window_start, self.used = self.elapsed, 0
        allowed = self.used < self.window
        self.used += int(allowed)
        reset = math.ceil(self._window_start + self.window_seconds - self.elapsed)
        return allowed, {"X-Ratelimit-Used": str(self.used),
                         "X-Ratelimit-Remaining": f"{float(self.window - self.used):.1f}",
                         "X-Ratelimit-Reset": str(reset)}  # fmt: skip

    def delete(self, name: str) -> None:
        self.posts[name].update({"selftext": "[deleted]", "author": "[deleted]"})

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if path == "/api/v1/access_token":
            basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
            if headers.get("authorization") != f"Basic {basic}":
                return 401, {}, {"message": "Unauthorized", "error": 401}
            if query.get("grant_type") != "client_credentials":
                return 400, {}, {"error": "unsupported_grant_type"}
            return 200, {}, {"access_token": ACCESS_TOKEN, "token_type": "bearer",
                             "expires_in": 86400, "scope": "*"}  # fmt: skip
        if headers.get("authorization") != f"bearer {ACCESS_TOKEN}":
            return 401, {}, {"message": "Unauthorized", "error": 401}
        allowed, rate = self._rate()
        if not allowed:
            return 429, rate, {"message": "Too Many Requests", "error": 429}
        if path not in ("/search", "/r/synthetic/search"):
            return 404, rate, {"message": "Not Found", "error": 404}
        size = min(int(query.get("limit", 25)), 100)
        words = query.get("q", "").replace('"', " ").lower().split()
        matching = [p for p in self.posts.values()
                    if any(w in f"{p['title']} {p['selftext']}".lower() for w in words)]  # fmt: skip
        ordered = sorted(matching, key=lambda p: (p["created_utc"], p["name"]), reverse=True)
        ordered = ordered[: self.listing_cap]  # older posts are out of the listing's reach
        start = 0
        if query.get("after"):
            names = [p["name"] for p in ordered]
            start = names.index(query["after"]) + 1 if query["after"] in names else len(names)
        page = ordered[start : start + size]
        after = page[-1]["name"] if page and start + size < len(ordered) else None
        return 200, rate, {"kind": "Listing", "data": {
            "after": after, "before": None, "dist": len(page),
            "children": [{"kind": "t3", "data": dict(p)} for p in page],
        }}  # fmt: skip
