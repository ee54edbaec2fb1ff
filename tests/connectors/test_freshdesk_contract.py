"""Freshdesk as its API documents it: descriptions only on request, deleted and spam tickets.

The ticket list sends ``description``/``description_text`` only with ``include=description``
(accounts created after 2018-11-30), and leaves deleted and spam tickets out unless asked with
``filter=deleted`` / ``filter=spam``. The contract fake (tests/connectors/contract/freshdesk.py)
behaves that way; these tests hold the connector to it, through the real ingest and store.
All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from connectors.base import Bookmark, ConnectorError
from connectors.freshdesk import FreshdeskConnector, FreshdeskOptions
from tests.connectors.contract import freshdesk
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer, Fault
from vocflow.ingest import ingest_source
from vocflow.store import Store

LIST = "/api/v2/tickets"


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRESHDESK_API_KEY", freshdesk.API_KEY)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "v.duckdb") as opened:
        yield opened


def _connector(url: str, **extra: object) -> FreshdeskConnector:
    opts = {"base_url": url, "retry": {"max_attempts": 2, "backoff_base": 0.001}, **extra}
    return FreshdeskConnector("fd", FreshdeskOptions.model_validate(opts), SALT,
                              sleep=lambda s: None)  # fmt: skip


def _list_queries(server: ContractServer) -> list[dict[str, str]]:
    """The query of every ticket-list request, in order."""
    parts = [urlsplit(r) for r in server.requests]
    return [dict(parse_qsl(p.query)) for p in parts if p.path == LIST]


def _stored(store: Store) -> set[str]:
    rows = store.con.execute("SELECT external_id FROM items WHERE source = 'fd'").fetchall()
    return {r[0] for r in rows}


def test_item_text_starts_with_the_opening_message():
    app = freshdesk.FreshdeskApp(n=4)
    with ContractServer(app) as server:
        items = [i for b in _connector(server.url).read(None) for i in b.items]
        queries = _list_queries(server)
    assert len(items) == 4
    for item in items:
        opening = f"SYNTHETIC opening message of ticket {item.external_id}"
        assert item.text.startswith(opening)
        assert item.thread[0].author_role == "customer" and item.thread[0].text == opening
    # The live list is asked for descriptions; the deleted and spam lists need none.
    assert [q.get("include") for q in queries if "filter" not in q] == ["description"]


def test_ticket_with_only_its_opening_message_is_stored_not_quarantined():
    app = freshdesk.FreshdeskApp(n=2)
    app.conversations[200] = []  # nothing but the description
    with ContractServer(app) as server:
        batches = list(_connector(server.url).read(None))
    assert sorted(i.external_id for b in batches for i in b.items) == ["200", "201"]
    assert [q.reason for b in batches for q in b.quarantined] == []


def test_deleted_and_spam_tickets_are_erased_from_the_store(store):
    app = freshdesk.FreshdeskApp(n=6)
    with ContractServer(app) as server:
        connector = _connector(server.url)
        first = ingest_source(connector, store, "run-1")
        assert first.new == 6
        app.delete(202)
        app.mark_spam(204)
        second = ingest_source(connector, store, "run-2")
    assert second.deleted == 2
    assert _stored(store) == {"200", "201", "203", "205"}


def test_deletion_older_than_the_live_lists_bookmark_is_still_reported(store):
    # Ticket 202 is deleted, then 203 edited: the live list's bookmark moves past the
    # deletion's time. A deletion list read from that one shared bookmark would skip 202.
    app = freshdesk.FreshdeskApp(n=4)
    with ContractServer(app) as server:
        connector = _connector(server.url)
        ingest_source(connector, store, "run-1")
        app.delete(202)
        app.edit(203, "SYNTHETIC later follow-up")
        second = ingest_source(connector, store, "run-2")
    assert second.deleted == 1 and second.updated == 1
    assert "202" not in _stored(store)


def test_a_failure_in_the_deletion_list_loses_no_deletion(store):
    app = freshdesk.FreshdeskApp(n=4)
    with ContractServer(app) as server:
        connector = _connector(server.url)
        ingest_source(connector, store, "run-1")
        app.delete(201)
        app.edit(203, "SYNTHETIC later follow-up")
        # Run 2: the live list (request 1) succeeds and is persisted; every later list fails.
        server.inject(Fault("500", path=LIST, nth=2, times=-1))
        with pytest.raises(ConnectorError, match="still failing"):
            ingest_source(connector, store, "run-2")
        assert "201" in _stored(store)
        server.clear_faults()
        third = ingest_source(connector, store, "run-3")
    assert third.deleted == 1
    assert "201" not in _stored(store)


def test_each_list_resumes_from_its_own_position(store):
    app = freshdesk.FreshdeskApp(n=4)
    with ContractServer(app) as server:
        connector = _connector(server.url)
        ingest_source(connector, store, "run-1")
        app.delete(200)
        app.edit(201, "SYNTHETIC later follow-up")
        app.mark_spam(202)
        ingest_source(connector, store, "run-2")
        deleted_at, spam_at = app.tickets[200]["updated_at"], app.tickets[202]["updated_at"]
        server.requests.clear()
        again = ingest_source(connector, store, "run-3")
        since = {q.get("filter", "live"): q["updated_since"] for q in _list_queries(server)}
    assert since == {"live": app.tickets[201]["updated_at"], "deleted": deleted_at,
                     "spam": spam_at}  # fmt: skip
    assert again.new == 0 and again.updated == 0


def test_bookmark_is_one_json_token_holding_every_position(store):
    app = freshdesk.FreshdeskApp(n=3)
    with ContractServer(app) as server:
        ingest_source(_connector(server.url), store, "run-1")
    saved = store.get_bookmark("fd")
    assert saved is not None and saved[0] == "updated_at"
    token = json.loads(saved[1])
    assert set(token) == {"tickets", "deleted", "spam", "utc"}
    assert token["tickets"].startswith(app.tickets[202]["updated_at"][:19])
    assert token["utc"] == token["tickets"]  # the latest position, for ingest's clock check


def test_bookmark_of_an_earlier_version_still_resumes_and_scans_deletions_once():
    # Before deletions were read, the bookmark was the live list's updated_at alone.
    app = freshdesk.FreshdeskApp(n=4)
    app.delete(200)
    old = Bookmark("updated_at", "2026-03-01T09:01:00+00:00")
    with ContractServer(app) as server:
        batches = list(_connector(server.url).read(old))
        queries = _list_queries(server)
    assert sorted(i.external_id for b in batches for i in b.items) == ["202", "203"]
    assert [d for b in batches for d in b.deleted] == ["200"]
    deleted_since = [q["updated_since"] for q in queries if q.get("filter") == "deleted"]
    assert deleted_since == ["2000-01-01T00:00:00Z"]  # from start_date: every deletion, once
