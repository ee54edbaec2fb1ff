"""One conformance suite every HTTP connector passes, against its local contract fake.

Each test runs per kit (tests/connectors/contract/kits.py): schema mapping, primary key,
bookmark round-trip through the real ingest and store, resume after a failure in the middle of
a stream with nothing lost or duplicated, edits, deletions, 429/5xx/timeout handling, and the
errors ``vocflow sources check`` shows. No internet: every server listens on 127.0.0.1, and
every record is synthetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Bookmark, Connector, ConnectorError
from connectors.http import HttpBatch
from connectors.registry import build_connector
from connectors.schema import Channel
from tests.connectors.contract.kits import KITS, N_RECORDS, PAGE_SIZE, Kit
from tests.connectors.contract.server import ContractServer, Fault
from vocflow.ingest import ingest_source
from vocflow.store import Store


class FakeClock:
    """Records the waits a connector asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(params=KITS, ids=lambda kit: kit.kind)
def kit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Kit:
    chosen: Kit = request.param
    monkeypatch.setenv(*chosen.env_var)
    return chosen


@pytest.fixture
def app(kit: Kit) -> Any:
    return kit.make_app()


@pytest.fixture
def server(app: Any) -> Iterator[ContractServer]:
    with ContractServer(app) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "v.duckdb") as opened:
        yield opened


def _connector(kit: Kit, server: ContractServer, clock: FakeClock, **extra: Any) -> Connector:
    options = {**kit.options(server.url), **extra}
    return kit.make(f"{kit.kind}-test", options, clock)


def _read_all(connector: Connector) -> list[HttpBatch]:
    batches = list(connector.read(None))
    assert all(isinstance(b, HttpBatch) for b in batches)
    return batches  # type: ignore[return-value]


def _api_requests(server: ContractServer) -> list[str]:
    """Requests to the vendor API, not to its OAuth token endpoint."""
    return [r for r in server.requests if not r.startswith(("/token", "/api/v1/access_token"))]


def _stored_ids(store: Store, source: str) -> list[str]:
    rows = store.con.execute(
        "SELECT external_id FROM items WHERE source = ? ORDER BY external_id", [source]
    ).fetchall()
    return [r[0] for r in rows]


def test_maps_every_record_to_the_feedback_schema(kit, app, server, clock):
    connector = _connector(kit, server, clock)
    items = [i for b in _read_all(connector) for i in b.items]
    assert {i.external_id for i in items} == kit.expected_ids(app)
    for item in items:
        assert item.source == connector.name
        assert item.channel == kit.channel
        assert item.created_at.tzinfo is not None
        assert "SYNTHETIC" in item.text
        # Agent replies and internal notes never reach the analysed text.
        assert "AGENT-REPLY" not in item.text and "INTERNAL-NOTE" not in item.text
        if kit.customer_ids:
            assert item.customer_key and len(item.customer_key) == 32
    if kit.thread:
        thread = [m for i in items for m in i.thread]
        assert any(m.author_role == "agent" and "AGENT-REPLY" in m.text for m in thread)
        assert all(not m.internal for m in thread if m.author_role == "customer")
        if kit.channel == Channel.TICKET:
            assert any(m.internal and "INTERNAL-NOTE" in m.text for m in thread)
    if kit.channel in (Channel.SURVEY, Channel.REVIEW):  # ratings and survey scores kept
        assert all(i.score is not None and 0 <= i.score.value <= 10 for i in items)


def test_primary_key_is_unique_and_stable(kit, server, clock):
    first = [i.item_key for b in _read_all(_connector(kit, server, clock)) for i in b.items]
    second = [i.item_key for b in _read_all(_connector(kit, server, clock)) for i in b.items]
    assert len(first) == len(set(first)) == N_RECORDS
    assert first == second


def test_reads_in_pages_each_with_a_bookmark(kit, server, clock):
    batches = _read_all(_connector(kit, server, clock))
    assert len(batches) >= N_RECORDS // PAGE_SIZE
    assert all(len(b.items) <= PAGE_SIZE for b in batches)
    if kit.bookmark_on_last_only:  # one export: its token is valid only after all of it
        assert [b.bookmark is not None for b in batches][-1] and batches[0].bookmark is None
    else:
        assert all(b.bookmark is not None for b in batches if b.items)


def test_bookmark_round_trip_reads_only_what_is_new(kit, app, server, clock, store):
    connector = _connector(kit, server, clock)
    first = ingest_source(connector, store, "run-1")
    assert first.new == N_RECORDS and first.duplicates == 0
    saved = store.get_bookmark(connector.name)
    assert saved is not None and saved[1] == first.bookmark
    again = ingest_source(connector, store, "run-2")
    assert again.new == 0 and again.updated == 0
    # Inclusive timestamp cursors may re-read the last second; never more than a page.
    assert again.rows_read <= PAGE_SIZE
    added = kit.add(app)
    third = ingest_source(connector, store, "run-3")
    assert third.new == 1
    assert added in _stored_ids(store, connector.name)


def test_resume_after_mid_stream_failure_loses_and_duplicates_nothing(
    kit, app, server, clock, store
):
    connector = _connector(kit, server, clock)
    # The second page of the stream fails for good: retries run out, the read fails.
    server.inject(Fault("500", path=kit.stream_path, nth=2, times=-1))
    with pytest.raises(ConnectorError, match="still failing"):
        ingest_source(connector, store, "run-1")
    persisted = _stored_ids(store, connector.name)
    saved = store.get_bookmark(connector.name)
    if kit.buffered:  # nothing is yielded before the listing completes
        assert persisted == [] and saved is None
    else:
        assert 0 < len(persisted) <= PAGE_SIZE  # only the first page made it
        assert saved is not None  # state is the first page's, not the failed one's
    server.clear_faults()
    resumed = ingest_source(connector, store, "run-2")
    stored = _stored_ids(store, connector.name)
    assert sorted(stored) == sorted(kit.expected_ids(app))
    assert len(stored) == len(set(stored))
    assert resumed.new == N_RECORDS - len(persisted)


def test_429_waits_what_retry_after_asks(kit, server, clock):
    server.inject(Fault("429", path=kit.stream_path, nth=2, retry_after="7"))
    connector = _connector(kit, server, clock)
    items = [i for b in _read_all(connector) for i in b.items]
    assert len(items) == N_RECORDS
    assert 7.0 in clock.waits
    assert connector.client is not None and connector.client.stats.retries["429"] == 1


def test_5xx_is_retried_with_bounded_backoff(kit, server, clock):
    server.inject(Fault("503", path=kit.stream_path, times=2))
    connector = _connector(kit, server, clock)
    assert len([i for b in _read_all(connector) for i in b.items]) == N_RECORDS
    assert connector.client is not None and connector.client.stats.retries["5xx"] == 2
    assert all(0 < w <= 0.01 for w in clock.waits)


def test_persistent_5xx_fails_after_max_attempts(kit, server, clock):
    server.inject(Fault("502", path=kit.stream_path, times=-1))
    connector = _connector(kit, server, clock)
    with pytest.raises(ConnectorError, match="after 4 attempts"):
        _read_all(connector)
    assert len(_api_requests(server)) == 4 + kit.preamble_requests


def test_timeouts_and_dropped_connections_are_retried(kit, server, clock):
    server.inject(Fault("slow", path=kit.stream_path, nth=1, delay=0.6))
    server.inject(Fault("drop", path=kit.stream_path, nth=3))
    connector = _connector(kit, server, clock, retry={"max_attempts": 4, "backoff_base": 0.001,
                                                      "timeout": 0.25})  # fmt: skip
    assert len([i for b in _read_all(connector) for i in b.items]) == N_RECORDS
    assert connector.client is not None
    assert connector.client.stats.retries["timeout"] == 1
    assert connector.client.stats.retries["connect"] == 1


def test_edits_replace_the_stored_item(kit, app, server, clock, store):
    if kit.edit is None:
        pytest.skip(f"{kit.kind}: {kit.why_no_edit}")
    connector = _connector(kit, server, clock)
    ingest_source(connector, store, "run-1")
    edited = kit.edit(app, "SYNTHETIC edited follow-up")
    counts = ingest_source(connector, store, "run-2")
    assert counts.updated == 1 and counts.new == 0
    text = store.con.execute(
        "SELECT text_clean FROM items WHERE source = ? AND external_id = ?",
        [connector.name, edited],
    ).fetchone()
    assert text is not None and "SYNTHETIC edited follow-up" in text[0]


def test_deletions_are_reported_in_the_batch(kit, app, server, clock, store):
    if kit.delete is None:
        pytest.skip(f"{kit.kind}: {kit.why_no_delete}")
    connector = _connector(kit, server, clock)
    ingest_source(connector, store, "run-1")
    deleted = kit.delete(app)
    saved = store.get_bookmark(connector.name)
    assert saved is not None
    batches = list(connector.read(Bookmark(*saved)))
    assert [d for b in batches for d in getattr(b, "deleted", [])] == [deleted]
    assert deleted not in {i.external_id for b in batches for i in b.items}


def test_check_reads_one_page(kit, server, clock):
    assert "authenticated" in _connector(kit, server, clock).check()
    assert len(_api_requests(server)) == 1


def test_wrong_token_is_an_actionable_error(kit, server, clock, monkeypatch):
    wrong, expected = kit.wrong_secret
    monkeypatch.setenv(kit.env_var[0], wrong)
    with pytest.raises(ConnectorError) as raised:
        _connector(kit, server, clock).check()
    message = str(raised.value)
    assert expected in message and f"${kit.env_var[0]}" in message
    assert wrong not in message
    assert len(server.requests) == 1  # a wrong token is not retried


def test_missing_token_names_the_env_var(kit, server, clock, monkeypatch):
    monkeypatch.delenv(kit.env_var[0])
    with pytest.raises(ConnectorError, match=f"set \\${kit.env_var[0]}"):
        _connector(kit, server, clock).check()


def test_unreachable_host_is_an_actionable_error(kit, server, clock):
    closed = ContractServer(server.app)  # bound, never serving, then closed: a dead port
    url = closed.url
    closed._httpd.server_close()
    connector = kit.make("dead", kit.options(url), clock)
    with pytest.raises(ConnectorError, match="cannot reach .*127.0.0.1"):
        connector.check()


def test_registry_builds_the_kind(kit, server, tmp_path):
    connector = build_connector(
        "from-config", kit.kind, kit.options(server.url), base_dir=tmp_path, customer_salt="s"
    )
    assert connector.name == "from-config"
    with pytest.raises(ConnectorError, match="invalid options"):
        build_connector("bad", kit.kind, {"nonsense": 1}, base_dir=tmp_path, customer_salt="s")
