"""Rate-limit windows: ``X-RateLimit-Reset`` and ``X-RateLimit-Remaining`` (Reddit, Mastodon).

Reddit sends the seconds left in its window (``X-Ratelimit-Reset: 240``), Mastodon the time the
window resets (an ISO 8601 timestamp); neither sends ``Retry-After`` with its 429. A client that
backs off 1 + 2 + 4 + 8 + 16 = 31 s cannot outwait a 5- or 10-minute window: it must wait the
reset, once, and go on. The clock is a fake that records the waits and moves the contract
fake's time on; nothing sleeps for real, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.base import ConnectorError
from connectors.http import HttpClient, RetryPolicy
from connectors.mastodon import MastodonConnector, MastodonOptions
from connectors.reddit import RedditConnector, RedditOptions
from tests.connectors.contract import mastodon, reddit
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer


class FakeClock:
    """Records the waits asked for and moves a contract fake's time on by them."""

    def __init__(self, app: Any = None) -> None:
        self.waits: list[float] = []
        self._app = app

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._app is not None:
            self._app.advance(seconds)


def _client(answers: list[httpx.Response], clock: FakeClock, **policy: Any) -> HttpClient:
    replies = iter(answers)
    return HttpClient("s", "http://vendor.test", policy=RetryPolicy(**policy), sleep=clock,
                      transport=httpx.MockTransport(lambda request: next(replies)))  # fmt: skip


def test_429_without_retry_after_waits_the_reset_in_seconds():
    clock = FakeClock()
    client = _client([httpx.Response(429, headers={"X-Ratelimit-Reset": "240"}),
                      httpx.Response(200, json={"ok": 1})], clock)  # fmt: skip
    assert client.get_json("/x").json() == {"ok": 1}
    assert clock.waits == [240.0]  # the window's reset, not 1 s of backoff
    assert client.stats.retries["429"] == 1


def test_429_without_retry_after_waits_until_an_iso_reset_timestamp():
    reset = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    clock = FakeClock()
    client = _client([httpx.Response(429, headers={"X-RateLimit-Reset": reset}),
                      httpx.Response(200, json=[])], clock)  # fmt: skip
    client.get_json("/x")
    assert clock.waits == [120.0]  # rounded up to the second: never retried early


def test_a_reset_in_unix_seconds_is_a_time_not_a_wait():
    reset = str(int((datetime.now(UTC) + timedelta(seconds=90)).timestamp()))  # Intercom, X
    clock = FakeClock()
    client = _client([httpx.Response(429, headers={"X-RateLimit-Reset": reset}),
                      httpx.Response(200, json=[])], clock)  # fmt: skip
    client.get_json("/x")
    assert len(clock.waits) == 1 and 89 <= clock.waits[0] <= 91


def test_retry_after_still_wins_over_the_window_reset():
    clock = FakeClock()
    headers = {"Retry-After": "7", "X-Ratelimit-Reset": "240"}
    client = _client([httpx.Response(429, headers=headers), httpx.Response(200, json=[])], clock)
    client.get_json("/x")
    assert clock.waits == [7.0]


def test_a_spent_window_makes_the_next_request_wait_the_reset_first():
    spent = {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "42"}
    clock = FakeClock()
    client = _client([httpx.Response(200, headers=spent, json=[1]),
                      httpx.Response(200, json=[2])], clock)  # fmt: skip
    assert client.get_json("/a").json() == [1]
    assert clock.waits == []  # nothing to wait for until another request is due
    assert client.get_json("/b").json() == [2]
    assert clock.waits == [42.0] and client.stats.paused == 1
    assert client.stats.requests == 2 and not client.stats.retries  # no 429 was provoked


def test_a_reset_beyond_max_retry_after_fails_instead_of_stalling():
    clock = FakeClock()
    spent = {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "3600"}
    client = _client([httpx.Response(200, headers=spent, json=[])], clock, max_retry_after=600)
    client.get_json("/a")
    with pytest.raises(ConnectorError, match="resets in 3600 s"):
        client.get_json("/b")
    assert clock.waits == []


def _reddit(url: str, clock: Callable[[float], None]) -> RedditConnector:
    opts = {"base_url": url, "token_url": f"{url}/api/v1/access_token", "queries": ["Acme"],
            "client_id": reddit.CLIENT_ID, "user_agent": "test:vocflow:0.1", "limit": 3}  # fmt: skip
    return RedditConnector("rd", RedditOptions.model_validate(opts), SALT, sleep=clock)


def test_reddit_waits_out_a_spent_window_instead_of_backing_off(monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit.SECRET)
    app = reddit.RedditApp()
    app.window = 2  # two requests per 600-s window: the listing's 4 pages need two windows
    clock = FakeClock(app)
    with ContractServer(app) as server:
        connector = _reddit(server.url, clock)
        items = [i for b in connector.read(None) for i in b.items]
    assert len(items) == 11
    assert clock.waits == [600.0]  # X-Ratelimit-Reset after the second page, waited once
    assert connector.client is not None and not connector.client.stats.retries


def test_reddit_429_waits_the_reset_the_answer_carries(monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit.SECRET)
    app = reddit.RedditApp()
    app.used = app.window  # another job of the same client id spent this window
    app.advance(200.0)  # 400 s of it are left
    clock = FakeClock(app)
    with ContractServer(app) as server:
        connector = _reddit(server.url, clock)
        items = [i for b in connector.read(None) for i in b.items]
    assert len(items) == 11
    assert clock.waits == [400.0]
    assert connector.client is not None and connector.client.stats.retries["429"] == 1


def test_mastodon_waits_until_the_reset_timestamp(monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", mastodon.TOKEN)
    app = mastodon.MastodonApp(n=7)
    app.window = 2  # pages of 3, 3 and 2 statuses need two 300-s windows
    clock = FakeClock(app)
    with ContractServer(app) as server:
        opts = {"instance": server.url, "hashtags": [mastodon.TAG], "limit": 3,
                "token": {"env": "MASTODON_TOKEN"}}  # fmt: skip
        connector = MastodonConnector("md", MastodonOptions.model_validate(opts), SALT,
                                      sleep=clock)  # fmt: skip
        items = [i for b in connector.read(None) for i in b.items]
    assert len(items) == 7
    assert clock.waits == [300.0]
    assert connector.client is not None and not connector.client.stats.retries
