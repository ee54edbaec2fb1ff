"""SQL connector on SQLite and on a real PostgreSQL server (tests/postgres.py)."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from pydantic import ValidationError

from connectors.base import Batch, Bookmark, ConnectorError
from connectors.registry import build_connector
from connectors.schema import Channel, ScoreType, hash_customer
from connectors.sql import SqlConnector, SqlSourceOptions
from tests.postgres import closed_port
from vocflow.ingest import ingest_source
from vocflow.store import Store

NOW = datetime(2026, 11, 23, tzinfo=UTC)
ENV = "VOCFLOW_TEST_DB_URL"
# Naive on purpose: a `timestamp` column holds local (here Seoul) time without a zone.
T0 = datetime(2026, 1, 1, 9, 0)  # noqa: DTZ001

META = sa.MetaData()
FEEDBACK = sa.Table(
    "feedback",
    META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text),
    sa.Column("nps", sa.Integer),
    sa.Column("who", sa.Text),
    sa.Column("lang", sa.Text),
    sa.Column("created", sa.DateTime),
    sa.Column("updated", sa.DateTime),
)

ROWS = [
    {"id": 1, "body": "배송이 너무 늦어요", "nps": 3, "who": "a@x.kr", "lang": "ko", "h": 0},
    {"id": 2, "body": "The app keeps crashing", "nps": 9, "who": "B", "lang": "en", "h": 25},
    {"id": 3, "body": "   ", "nps": 7, "who": "c", "lang": "en", "h": 26},
    {"id": 4, "body": "Too expensive", "nps": 11, "who": "e", "lang": "en", "h": 27},
    {"id": 5, "body": "결제 오류가 자주 나요", "nps": None, "who": "h", "lang": "ko", "h": 28},
    {"id": 6, "body": "Refund took weeks", "nps": 2, "who": "f", "lang": "en", "h": None},
]


def _row(spec: dict) -> dict:
    hours = spec["h"]
    stamp = None if hours is None else T0 + timedelta(hours=hours)
    fields = {k: v for k, v in spec.items() if k != "h"}
    return {**fields, "created": stamp or T0, "updated": stamp}


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with an empty feedback table; its URL is in $VOCFLOW_TEST_DB_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'feedback.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    META.create_all(engine)
    engine.dispose()
    monkeypatch.setenv(ENV, url)
    return url


def _insert(url: str, rows: list[dict]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(FEEDBACK.insert(), rows)
    engine.dispose()


def _execute(url: str, statement: str, **params: object) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)
    engine.dispose()


def _options(**extra: object) -> SqlSourceOptions:
    return SqlSourceOptions.model_validate(
        {
            "url_env": ENV,
            "table": "feedback",
            "channel": "survey",
            "timezone": "Asia/Seoul",
            "columns": {
                "id": "id", "text": "body", "created_at": "created", "updated_at": "updated",
                "score": "nps", "customer": "who", "language": "lang",
            },
            "score": {"type": "nps"},
            "batch_size": 2,
            **extra,
        }
    )  # fmt: skip


def _connector(**extra: object) -> SqlConnector:
    return SqlConnector("crm", _options(**extra), "salt", now=NOW)


def _read(connector: SqlConnector, bookmark: Bookmark | None = None) -> list[Batch]:
    return list(connector.read(bookmark))


def test_maps_columns_and_quarantines_bad_rows_with_reasons(db_url: str):
    _insert(db_url, [_row(r) for r in ROWS])
    connector = _connector()
    assert (connector.primary_key, connector.cursor_field) == ("id", "updated")
    assert "mapped columns present" in connector.check()

    batches = _read(connector)
    items = {i.external_id: i for b in batches for i in b.items}
    bad = {json.loads(q.raw)["id"]: q for b in batches for q in b.quarantined}
    assert sorted(items) == ["1", "2", "5"]
    assert {k: q.reason for k, q in bad.items()} == {
        3: "empty_text",
        4: "score_out_of_range",
        6: "missing_date",  # NULL watermark: quarantined, not silently skipped
    }
    assert sum(b.rows_read for b in batches) == len(ROWS)
    first = items["1"]
    # Naive database timestamps are Seoul time (options.timezone): 09:00 KST = 00:00 UTC.
    assert first.created_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert first.updated_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert first.text == "배송이 너무 늦어요"
    assert first.channel is Channel.SURVEY and first.language == "ko"
    assert first.score is not None and (first.score.type, first.score.value) == (ScoreType.NPS, 3)
    assert first.customer_key == hash_customer("a@x.kr", "salt")
    assert items["5"].score is None
    # The raw customer id is never kept, not even in a quarantined row.
    assert '"who": "e"' not in bad[4].raw and "customer_key:" in bad[4].raw
    assert bad[4].row_ref == "feedback:id=4"


def test_rows_sharing_a_watermark_across_pages_are_neither_lost_nor_repeated(db_url: str):
    # Nine rows on three watermark values, inserted in random order, read two per page: most
    # page boundaries fall inside a group of equal watermarks.
    groups = [0, 0, 0, 5, 5, 5, 5, 9, 9]
    rows = [
        {**_row({"id": i + 1, "body": f"리뷰 {i + 1}", "nps": 5, "who": "x", "lang": "ko",
                 "h": hours})}
        for i, hours in enumerate(groups)
    ]  # fmt: skip
    random.Random(7).shuffle(rows)
    _insert(db_url, rows)
    connector = _connector()

    batches = _read(connector)
    ids = [i.external_id for b in batches for i in b.items]
    assert ids == [str(n) for n in range(1, 10)]  # (watermark, id) order, each once
    assert [len(b.items) for b in batches] == [2, 2, 2, 2, 1]
    # Resuming from any page's bookmark reads exactly the rows after it.
    for n, batch in enumerate(batches):
        assert batch.bookmark is not None
        rest = [i.external_id for b in _read(connector, batch.bookmark) for i in b.items]
        assert rest == ids[2 * (n + 1) :]
    token = json.loads(batches[1].bookmark.value)
    assert token["utc"] == "2026-01-01T05:00:00+00:00"  # 14:00 in Seoul, readable, in UTC
    assert token["key"] == 4


def test_bookmark_round_trip_edits_and_ties_through_the_store(db_url: str, tmp_path: Path):
    _insert(db_url, [_row(r) for r in ROWS])
    with Store(tmp_path / "store.duckdb") as store:
        first = ingest_source(_connector(), store, "r1")
        assert (first.new, first.quarantined, first.rows_read) == (3, 3, 6)
        saved = store.get_bookmark("crm")
        assert saved is not None and saved[0] == "updated"
        assert json.loads(saved[1])["key"] == 5

        # Nothing changed: only the NULL-watermark row is looked at again (and not re-stored).
        again = ingest_source(_connector(), store, "r2")
        assert (again.new, again.updated, again.quarantined_new, again.rows_read) == (0, 0, 0, 1)

        # An edit moves the row past the bookmark; a new row ties with the bookmark's
        # watermark and sorts after its key. Both are read, nothing else is.
        last = T0 + timedelta(hours=28)
        _execute(db_url, "UPDATE feedback SET body = :b, updated = :u WHERE id = 2",
                 b="The app still crashes after the update", u=last + timedelta(hours=1))  # fmt: skip
        _insert(db_url, [_row({"id": 7, "body": "포장이 꼼꼼해요", "nps": 10, "who": "k",
                               "lang": "ko", "h": 28})])  # fmt: skip
        third = ingest_source(_connector(), store, "r3")
        assert (third.new, third.updated, third.rows_read) == (1, 1, 3)
        texts = dict(store.con.execute("SELECT external_id, text FROM items").fetchall())
        assert texts["2"] == "The app still crashes after the update"  # latest version wins
        assert sorted(texts) == ["1", "2", "5", "7"]
        assert store.count_items() == 4


def test_resume_after_a_batch_fails_to_persist_loses_and_repeats_nothing(
    db_url: str, tmp_path: Path
):
    rows = [
        _row({"id": n, "body": f"문의 {n}: 환불이 늦어요" if n % 2 else f"Ticket {n}: refund late",
              "nps": n % 11, "who": f"c{n}", "lang": "ko" if n % 2 else "en", "h": n // 3})
        for n in range(1, 12)
    ]  # fmt: skip
    _insert(db_url, rows)

    class FailingStore(Store):
        calls = 0

        def upsert_items(self, rows, run_id):  # type: ignore[no-untyped-def]
            FailingStore.calls += 1
            if FailingStore.calls == 3:
                raise OSError("disk full")
            return super().upsert_items(rows, run_id)

    path = tmp_path / "store.duckdb"
    with FailingStore(path) as store, pytest.raises(OSError, match="disk full"):
        ingest_source(_connector(), store, "r1")
    with Store(path) as store:
        # Two pages persisted, the third failed: the bookmark is the second page's.
        saved = store.get_bookmark("crm")
        assert saved is not None and json.loads(saved[1])["key"] == 4
        assert store.count_items() == 4
        resumed = ingest_source(_connector(), store, "r2")
        assert (resumed.new, resumed.unchanged, resumed.rows_read) == (7, 0, 7)
        keys = [k for (k,) in store.con.execute("SELECT external_id FROM items").fetchall()]
        assert sorted(keys, key=int) == [str(n) for n in range(1, 12)]
        assert resumed.duplicates == 0


def test_query_source_reads_what_the_query_selects(db_url: str):
    _insert(db_url, [_row(r) for r in ROWS])
    query = "SELECT id, body, nps, who, lang, created, updated FROM feedback WHERE lang = 'ko'"
    connector = _connector(table=None, query=query)
    assert "mapped columns present" in connector.check()
    items = [i for b in _read(connector) for i in b.items]
    assert sorted(i.external_id for i in items) == ["1", "5"]


def test_missing_columns_are_named(db_url: str):
    connector = _connector(columns={"id": "id", "text": "comment", "created_at": "created"})
    with pytest.raises(ConnectorError, match=r"columns \['comment'\] not in table 'feedback'"):
        connector.check()


def test_a_data_changing_query_is_refused_by_the_database(postgres_url: str, monkeypatch):
    monkeypatch.setenv(ENV, postgres_url)
    engine = sa.create_engine(postgres_url)
    META.create_all(engine)
    engine.dispose()
    _insert(postgres_url, [_row(r) for r in ROWS])
    _execute(postgres_url, "CREATE SEQUENCE hits")
    # A query that writes (nextval advances a sequence) fails: every transaction is read-only.
    sneaky = "SELECT f.*, nextval('hits') AS n FROM feedback f"
    with pytest.raises(ConnectorError, match="cannot execute nextval.. in a read-only transaction"):
        _read(_connector(table=None, query=sneaky))
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT last_value, is_called FROM hits")).one() == (
            1,
            False,
        )
    engine.dispose()
    with pytest.raises(ValidationError, match="one read-only SELECT or WITH"):
        _options(table=None, query="DELETE FROM feedback")
    with pytest.raises(ValidationError, match="one read-only SELECT or WITH"):
        _options(table=None, query="SELECT 1; DROP TABLE feedback")


def test_wrong_password_says_the_login_was_refused_without_the_password(
    postgres_server, postgres_url: str, monkeypatch
):
    monkeypatch.setenv(ENV, postgres_url.replace(":test-only-pw-7f3a@", ":Wr0ngPassw0rd@"))
    connector = _connector()
    for attempt in (connector.check, lambda: _read(connector)):
        with pytest.raises(ConnectorError) as caught:
            attempt()
        message = str(caught.value)
        assert "refused the login of user 'vocflow'" in message
        assert f"127.0.0.1:{postgres_server.port}" in message
        assert f"${ENV}" in message
        assert "Wr0ngPassw0rd" not in message


def test_unreachable_host_says_so(monkeypatch):
    port = closed_port()
    monkeypatch.setenv(ENV, f"postgresql+psycopg://u:secret@127.0.0.1:{port}/db")
    with pytest.raises(
        ConnectorError, match=rf"cannot reach the database server at 127\.0\.0\.1:{port}"
    ) as caught:
        _connector().check()
    assert "secret" not in str(caught.value)
    monkeypatch.setenv(ENV, "postgresql+psycopg://u:secret@db.example.invalid:5432/db")
    with pytest.raises(
        ConnectorError,
        match=r"cannot reach the database server at db\.example\.invalid:5432.*resolve",
    ):
        _connector().check()


def test_url_comes_from_the_environment_not_the_config(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(ConnectorError, match=rf"set \${ENV}.*SQLAlchemy URL"):
        _connector().check()
    options = _options().model_dump(exclude={"url_env"}) | {"url": "postgresql://u:pw@h/db"}
    with pytest.raises(ConnectorError, match="url holds a password.*url_env"):
        build_connector("crm", "sql", options, base_dir=tmp_path, customer_salt="s")
    with pytest.raises(ConnectorError, match="SQLite file not found"):
        _connector(url_env=None, url="sqlite:///nowhere.db").check()


def test_registry_builds_a_sqlite_source_relative_to_the_project(tmp_path: Path):
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'fb.db'}"
    engine = sa.create_engine(url)
    META.create_all(engine)
    engine.dispose()
    _insert(url, [_row(r) for r in ROWS[:2]])
    options = _options().model_dump(exclude={"url_env"}) | {"url": "sqlite:///data/fb.db"}
    connector = build_connector("crm", "sql", options, base_dir=tmp_path, customer_salt="s")
    assert "mapped columns present" in connector.check()
    assert sum(len(b.items) for b in connector.read(None)) == 2
    # Reads are read-only: the connection refuses writes.
    assert isinstance(connector, SqlConnector)
    engine = connector._engine()
    with engine.connect() as connection, pytest.raises(sa.exc.OperationalError, match="readonly"):
        connection.execute(sa.text("DELETE FROM feedback"))
    engine.dispose()


def test_timestamptz_watermark_and_uuid_keys_resume_exactly(postgres_url: str, monkeypatch):
    monkeypatch.setenv(ENV, postgres_url)
    _execute(postgres_url, "CREATE TABLE tickets (tid uuid PRIMARY KEY, body text, "
             "opened timestamptz, changed timestamptz)")  # fmt: skip
    # Five tickets on two instants; the keys are UUIDs, compared as UUIDs by the server.
    _execute(postgres_url, "INSERT INTO tickets SELECT gen_random_uuid(), '문의 ' || n, "
             "'2026-03-01 09:00+09', CASE WHEN n <= 3 THEN timestamptz '2026-03-02 00:00Z' "
             "ELSE timestamptz '2026-03-02 00:00:00.5Z' END FROM generate_series(1, 5) n")  # fmt: skip
    connector = _connector(table="tickets", columns={"id": "tid", "text": "body",
                           "created_at": "opened", "updated_at": "changed"}, score=None)  # fmt: skip
    batches = _read(connector)
    ids = [i.external_id for b in batches for i in b.items]
    assert len(ids) == len(set(ids)) == 5
    assert batches[0].items[0].created_at == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert batches[0].bookmark is not None
    token = json.loads(batches[0].bookmark.value)
    assert token["utc"] == "2026-03-02T00:00:00+00:00" and "uuid" in token["key"]
    rest = [i.external_id for b in _read(connector, batches[0].bookmark) for i in b.items]
    assert rest == ids[2:]


def test_commented_sql_and_objectstore_examples_in_the_config_are_valid(tmp_path: Path):
    """The commented sql/objectstore sources in configs/vocflow.yaml build once uncommented."""
    lines = (Path(__file__).parents[2] / "configs/vocflow.yaml").read_text("utf-8").splitlines()
    start = lines.index("  # - name: crm-survey")
    block = []
    for line in lines[start:]:
        if not line.startswith("  # ") or line[4:5].isupper():  # prose: the next section
            break
        block.append(line.replace("  # ", "  ", 1))
    sources = yaml.safe_load("\n".join(block))
    assert [s["kind"] for s in sources] == ["sql", "objectstore"]
    for source in sources:
        connector = build_connector(source["name"], source["kind"], source["options"],
                                    base_dir=tmp_path, customer_salt="s")  # fmt: skip
        assert connector.name == source["name"]


def test_lookback_catches_a_row_committed_late_with_an_older_watermark(
    postgres_url: str, monkeypatch, tmp_path: Path
):
    monkeypatch.setenv(ENV, postgres_url)
    engine = sa.create_engine(postgres_url)
    META.create_all(engine)
    engine.dispose()
    _insert(postgres_url, [_row({"id": n, "body": f"후기 {n}", "nps": 8, "who": "x",
                                 "lang": "ko", "h": n}) for n in range(1, 5)])  # fmt: skip
    with Store(tmp_path / "store.duckdb") as store:
        assert ingest_source(_connector(), store, "r1").new == 4
        # A transaction stamped this row at hour 2 but committed after hour 4 was read.
        _insert(postgres_url, [_row({"id": 9, "body": "Late but real", "nps": 6, "who": "y",
                                     "lang": "en", "h": 2})])  # fmt: skip
        assert ingest_source(_connector(), store, "r2").rows_read == 0  # exact keyset: missed
        late = ingest_source(_connector(lookback_s=2 * 3600), store, "r3")
        # Two hours back from the bookmark (hour 4): hours 2..4 are read again (absorbed as
        # unchanged), and the late row is new.
        assert (late.new, late.unchanged, late.rows_read) == (1, 3, 4)
        assert store.count_items() == 5


def test_lookback_needs_a_timestamp_watermark(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    monkeypatch.setenv(ENV, url)
    engine = sa.create_engine(url)
    META.create_all(engine)
    engine.dispose()
    _insert(url, [_row(r) for r in ROWS[:2]])
    bookmark = _read(_connector())[-1].bookmark
    with pytest.raises(ConnectorError, match="lookback_s needs a timestamp watermark"):
        _read(_connector(lookback_s=60), bookmark)
