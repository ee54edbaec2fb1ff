"""Zendesk as its API documents it: admin-only exports, comments from the ticket-event export.

Both incremental exports are "Allowed for: Admins"; the contract fake refuses anyone else with
403, and the connector must say that the credential needs the admin role. Comments come from
``/api/v2/incremental/ticket_events.json?include=comment_events`` read alongside the ticket
export, instead of one ``/tickets/{id}/comments.json`` call per ticket, wherever that is
provably complete (the ticket was created inside the events read, and the events reach past
its last update); every other ticket still reads its own comments. All data is synthetic;
nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from connectors.base import Bookmark, ConnectorError
from connectors.zendesk import ZendeskConnector, ZendeskOptions
from tests.connectors.contract import zendesk
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer
from vocflow.ingest import ingest_source
from vocflow.store import Store

EVENTS = "/api/v2/incremental/ticket_events.json"
_COMMENTS = re.compile(r"/api/v2/tickets/(\d+)/comments\.json")


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)


def _zendesk(url: str, **extra: object) -> ZendeskConnector:
    opts = {"base_url": url, "email": zendesk.EMAIL, "per_page": 4,
            "retry": {"max_attempts": 2, "backoff_base": 0.001}, **extra}  # fmt: skip
    return ZendeskConnector("zd", ZendeskOptions.model_validate(opts), SALT, sleep=lambda s: None)


def _comment_calls(server: ContractServer) -> list[int]:
    """Tickets whose comments were read one by one (first comment page of each)."""
    found = []
    for request in server.requests:
        parts = urlsplit(request)
        match = _COMMENTS.fullmatch(parts.path)
        if match and "page[after]" not in dict(parse_qsl(parts.query)):
            found.append(int(match.group(1)))
    return found


def _event_queries(server: ContractServer) -> list[dict[str, str]]:
    parts = [urlsplit(r) for r in server.requests]
    return [dict(parse_qsl(p.query)) for p in parts if p.path == EVENTS]


def _unix(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def test_a_non_admin_user_is_refused_and_told_the_role_it_needs():
    with ContractServer(zendesk.ZendeskApp(n=2)) as server:
        connector = _zendesk(server.url, email=zendesk.AGENT_EMAIL)
        with pytest.raises(ConnectorError) as checked:
            connector.check()
        with pytest.raises(ConnectorError) as read:
            list(connector.read(None))
    for error in (checked.value, read.value):
        message = str(error)
        assert "HTTP 403" in message and "$ZENDESK_API_TOKEN" in message
        assert "Zendesk admin (incremental exports are admin-only)" in message


def test_first_run_takes_comments_from_the_event_export_not_one_call_per_ticket():
    app = zendesk.ZendeskApp()
    app.events_page_max = 5  # 55 events: the connector pages them alongside the tickets
    with ContractServer(app) as server:
        items = {i.external_id: i for b in _zendesk(server.url).read(None) for i in b.items}
        calls, queries = _comment_calls(server), _event_queries(server)
    assert calls == []
    assert set(items) == {str(t) for t in app.tickets}
    for key, item in items.items():
        assert [m.text for m in item.thread] == [c["body"] for c in app.comments[int(key)]]
        assert [m.author_role for m in item.thread] == ["customer", "agent", "agent", "customer"]
        assert [m.internal for m in item.thread] == [False, False, True, False]
        assert item.text == (
            f"SYNTHETIC customer text of ticket {key}\n\nSYNTHETIC cc follow-up on {key}"
        )
    assert queries and all(q.get("include") == "comment_events" for q in queries)
    assert queries[0]["start_time"] == str(_unix("2000-01-01T00:00:00Z"))
    starts = [q["start_time"] for q in queries]
    assert len(starts) == len(set(starts))  # paged forward, never the same page twice


def test_later_runs_read_events_from_the_bookmark_and_call_only_for_older_tickets(tmp_path):
    app = zendesk.ZendeskApp()
    with ContractServer(app) as server, Store(tmp_path / "v.duckdb") as store:
        connector = _zendesk(server.url)
        ingest_source(connector, store, "run-1")
        last = max(_unix(t["updated_at"]) for t in app.tickets.values())
        app.edit(104, "SYNTHETIC edited follow-up")  # created before the next events read
        added = app.add()  # created inside it
        server.requests.clear()
        counts = ingest_source(connector, store, "run-2")
        calls, queries = _comment_calls(server), _event_queries(server)
        text = store.con.execute(
            "SELECT text_clean FROM items WHERE source = 'zd' AND external_id = '104'"
        ).fetchone()
        stored = {r[0] for r in store.con.execute("SELECT external_id FROM items").fetchall()}
    assert counts.new == 1 and counts.updated == 1 and str(added) in stored
    assert calls == [104]
    assert queries[0]["start_time"] == str(last)
    assert text is not None
    assert "SYNTHETIC customer text of ticket 104" in text[0]
    assert "SYNTHETIC edited follow-up" in text[0]


class _EditedMidRun(zendesk.ZendeskApp):
    """The customer writes on ticket 100 right after the first export page is served."""

    edited = False

    def _export(self, query: dict[str, str], base: str) -> Any:
        reply = super()._export(query, base)
        if not self.edited:
            self.edited = True
            self.edit(100, "SYNTHETIC follow-up written mid-run")
        return reply


def test_a_ticket_exported_twice_in_one_run_keeps_its_whole_thread():
    app = _EditedMidRun()
    with ContractServer(app) as server:
        batches = list(_zendesk(server.url).read(None))
        calls = _comment_calls(server)
    versions = [i for b in batches for i in b.items if i.external_id == "100"]
    assert len(versions) == 2
    latest = versions[-1]
    assert "SYNTHETIC customer text of ticket 100" in latest.text
    assert "SYNTHETIC follow-up written mid-run" in latest.text
    # Its events after the first export were partial: the second time, it reads its comments.
    assert calls == [100]


def test_tickets_updated_in_the_last_minute_read_their_own_comments(monkeypatch):
    app = zendesk.ZendeskApp()
    last = max(_unix(t["updated_at"]) for t in app.tickets.values())
    # Zendesk's exports may still be filling the last minute: events there are not trusted.
    monkeypatch.setattr(
        "connectors.zendesk._utc_now", lambda: datetime.fromtimestamp(last + 30, UTC)
    )
    with ContractServer(app) as server:
        items = [i for b in _zendesk(server.url).read(None) for i in b.items]
        calls = _comment_calls(server)
    assert len(items) == 11
    assert calls == [t for t, v in app.tickets.items() if _unix(v["updated_at"]) >= last - 30]


def test_a_bookmark_of_the_earlier_form_resumes_and_gains_an_events_position():
    app = zendesk.ZendeskApp()
    earlier = Bookmark("after_cursor", zendesk._cursor(_unix(app.tickets[105]["updated_at"]), 105))
    with ContractServer(app) as server:
        batches = list(_zendesk(server.url).read(earlier))
        calls, queries = _comment_calls(server), _event_queries(server)
    assert sorted(i.external_id for b in batches for i in b.items) == [
        "106", "107", "108", "109", "110"
    ]  # fmt: skip
    assert calls == [106, 107, 108, 109, 110] and queries == []  # no events position yet
    final = batches[-1].bookmark
    assert final is not None and final.cursor_field == "after_cursor"
    token = json.loads(final.value)
    assert set(token) == {"cursor", "utc"}
    assert token["utc"].startswith(app.tickets[110]["updated_at"][:19])


def test_event_pages_stuck_on_one_second_fall_back_to_comment_calls():
    app = zendesk.ZendeskApp(n=3)
    app.events_page_max = 1
    first = app.comments[100]
    first[1]["created_at"] = first[0]["created_at"]  # two updates in one second
    with ContractServer(app) as server:
        items = {i.external_id: i for b in _zendesk(server.url).read(None) for i in b.items}
        calls, queries = _comment_calls(server), _event_queries(server)
    assert len(queries) == 2  # the second page starts where it started: not read again
    assert calls == [100, 101, 102]
    assert all(len(item.thread) == 4 for item in items.values())


def test_comment_events_can_be_turned_off():
    app = zendesk.ZendeskApp(n=3)
    with ContractServer(app) as server:
        items = [i for b in _zendesk(server.url, comment_events=False).read(None) for i in b.items]
        calls, queries = _comment_calls(server), _event_queries(server)
    assert len(items) == 3 and calls == [100, 101, 102] and queries == []


def test_a_comment_made_private_later_stays_out_of_the_text():
    app = zendesk.ZendeskApp(n=3)
    app.make_private(100, 3)  # the CC's public follow-up, made private by an agent
    with ContractServer(app) as server:
        items = {i.external_id: i for b in _zendesk(server.url).read(None) for i in b.items}
        calls = _comment_calls(server)
    assert calls == []  # still from the events
    assert "SYNTHETIC cc follow-up on 100" not in items["100"].text
    assert [m.internal for m in items["100"].thread] == [False, False, True, True]
    assert "SYNTHETIC cc follow-up on 101" in items["101"].text
