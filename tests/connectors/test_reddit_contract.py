"""Reddit search as the API documents it: per-query cursors and the ~1,000-post listing cap.

Each query keeps its own cursor in the bookmark, so a query added later is read from its own
start, and each query's posts are stored before the next query is listed. A listing ends at
about 1,000 posts: a query whose listing ended there without reaching its cursor says so in
``Batch.gaps``. All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Bookmark, ConnectorError
from connectors.reddit import RedditConnector, RedditOptions
from tests.connectors.contract import reddit
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer, Fault
from vocflow.ingest import ingest_source
from vocflow.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "v.duckdb") as opened:
        yield opened


def _stored(store: Store, source: str) -> set[str]:
    rows = store.con.execute("SELECT external_id FROM items WHERE source = ?", [source])
    return {r[0] for r in rows.fetchall()}


@pytest.fixture
def rd(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[reddit.RedditApp, ContractServer]]:
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit.SECRET)
    app = reddit.RedditApp(n=4)
    with ContractServer(app) as server:
        yield app, server


def _reddit(url: str, queries: list[str], **extra: Any) -> RedditConnector:
    opts = {"base_url": url, "token_url": f"{url}/api/v1/access_token", "queries": queries,
            "client_id": reddit.CLIENT_ID, "user_agent": "test:vocflow:0.1", "limit": 3,
            "batch_size": 3, "retry": {"max_attempts": 2, "backoff_base": 0.001}, **extra}  # fmt: skip
    return RedditConnector("rd", RedditOptions.model_validate(opts), SALT, sleep=lambda s: None)


def test_reddit_query_added_later_is_read_from_its_own_start(rd, store):
    app, server = rd
    assert ingest_source(_reddit(server.url, ["Acme"]), store, "run-1").new == 4
    older = [app.add("Widget", when=reddit.T0 - timedelta(days=2 + i)) for i in range(2)]
    second = ingest_source(_reddit(server.url, ["Acme", "Widget"]), store, "run-2")
    assert second.new == 2 and set(older) <= _stored(store, "rd")
    saved = store.get_bookmark("rd")
    assert saved is not None and set(json.loads(saved[1])) == {"Acme", "Widget"}


def test_reddit_persists_each_query_before_listing_the_next(rd, store):
    app, server = rd
    app.add("Widget")
    # "Acme" lists its 4 posts in 2 pages (the Widget post does not match); "Widget" then fails.
    server.inject(Fault("500", path="/search", nth=3, times=-1))
    with pytest.raises(ConnectorError, match="still failing"):
        ingest_source(_reddit(server.url, ["Acme", "Widget"]), store, "run-1")
    assert len(_stored(store, "rd")) == 4
    saved = store.get_bookmark("rd")
    assert saved is not None and set(json.loads(saved[1])) == {"Acme"}


def test_reddit_an_old_plain_timestamp_bookmark_holds_for_every_query(rd):
    app, server = rd
    at = reddit.T0 + timedelta(minutes=1)  # posts 2 and 3 are at minute 1
    app.add("Widget", when=reddit.T0)  # before the old bookmark
    later = app.add("Widget", when=reddit.T0 + timedelta(minutes=5))
    batches = list(_reddit(server.url, ["Acme", "Widget"]).read(
        Bookmark("created_utc", at.isoformat())))  # fmt: skip
    assert {i.external_id for b in batches for i in b.items} == {
        "t3_syn002",
        "t3_syn003",
        later,
    }


def test_reddit_a_post_matching_two_queries_is_yielded_once(rd):
    app, server = rd
    batches = list(_reddit(server.url, ["Acme", "acme app"]).read(None))
    ids = [i.external_id for b in batches for i in b.items]
    assert sorted(ids) == sorted(app.posts)


def test_reddit_listing_cap_without_the_bookmark_is_a_gap(rd, store):
    app, server = rd
    for _ in range(7):
        app.add()
    app.listing_cap = 5  # Reddit: about 1,000; 11 posts match, the oldest 6 are out of reach
    connector = _reddit(server.url, ["Acme"], listing_cap=5)
    first = ingest_source(connector, store, "run-1")
    assert first.new == 5
    assert len(first.gaps) == 1 and "'Acme'" in first.gaps[0] and "5 posts" in first.gaps[0]
    app.add()
    app.add()  # 2 new posts: the listing reaches the bookmark again, nothing is lost
    second = ingest_source(connector, store, "run-2")
    assert second.new == 2 and second.gaps == []
    for _ in range(6):  # a busy day: 6 new posts, more than the listing holds
        app.add()
    third = ingest_source(connector, store, "run-3")
    assert third.new == 5 and len(third.gaps) == 1 and "older" in third.gaps[0]


def test_reddit_first_run_of_a_busy_query_says_the_listing_cap_cut_it(rd):
    app, server = rd
    for _ in range(1000):  # 1,004 posts match; Reddit's listing ends after 1,000
        app.add()
    connector = _reddit(server.url, ["Acme"], limit=100, batch_size=500)
    batches = list(connector.read(None))
    assert sum(len(b.items) for b in batches) == 1000
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and "about 1000 posts" in gaps[0] and "its first post" in gaps[0]


def test_reddit_a_post_dated_in_the_future_does_not_move_the_cursor_past_now(rd, store):
    app, server = rd
    app.add(when=datetime(2099, 1, 1, tzinfo=UTC))  # a clock gone wrong
    connector = _reddit(server.url, ["Acme"])
    assert ingest_source(connector, store, "run-1").new == 5
    saved = store.get_bookmark("rd")
    assert saved is not None and json.loads(saved[1])["Acme"] < "2099"
    later = app.add()
    assert ingest_source(connector, store, "run-2").new == 1
    assert later in _stored(store, "rd")
