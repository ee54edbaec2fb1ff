"""One nightly run pulls from three connector kinds: file, SQL (SQLite) and object store.

The file sources are the real demo samples of the ``small_project`` fixture (English Skytrax and
Korean NSMC reviews); the SQL table and the object-store files hold a few hand-written Korean
and English survey answers each.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from vocflow.store import Store

pytestmark = pytest.mark.slow

SQL_ROWS = [
    (1, "상담원이 친절했지만 환불 처리가 너무 느려요", 4, "ko", "2026-11-01 10:00:00"),
    (2, "The refund took three weeks to arrive", 2, "en", "2026-11-01 10:00:00"),
    (3, "앱 결제 화면에서 계속 오류가 나요", 1, "ko", "2026-11-02 09:30:00"),
    (4, "Checkout keeps failing on the mobile app", 3, "en", "2026-11-03 18:45:00"),
]
OBJECT_ROWS = [
    {"rid": "o1", "answer": "좌석이 넓고 편안했어요", "score": 9, "at": "2026-11-04T01:00:00Z"},
    {"rid": "o2", "answer": "Seats were cramped and the legroom was poor", "score": 3,
     "at": "2026-11-04T02:00:00Z"},
    {"rid": "o3", "answer": "기내식이 식어서 나왔어요", "score": 4, "at": "2026-11-05T03:00:00Z"},
    {"rid": "o4", "answer": "Great crew, friendly and helpful", "score": 10,
     "at": "2026-11-05T04:00:00Z"},
]  # fmt: skip


def _add_sources(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = root / "data"
    crm = data / "crm.db"
    engine = sa.create_engine(f"sqlite:///{crm}")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE survey (id INTEGER PRIMARY KEY, comment TEXT, nps INTEGER, "
            "lang TEXT, answered_at TEXT)"
        ))  # fmt: skip
        connection.execute(
            sa.text("INSERT INTO survey VALUES (:id, :c, :n, :l, :t)"),
            [dict(zip(["id", "c", "n", "l", "t"], row, strict=True)) for row in SQL_ROWS],
        )
    engine.dispose()
    # The database URL reaches the connector through the environment, as a password would.
    monkeypatch.setenv("VOCFLOW_TEST_CRM_URL", f"sqlite:///{crm}")
    inbox = data / "inbox"
    inbox.mkdir()
    lines = [json.dumps(r, ensure_ascii=False) for r in OBJECT_ROWS]
    (inbox / "part-1.jsonl").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    (inbox / "part-2.jsonl").write_text("\n".join(lines[2:]) + "\n", encoding="utf-8")

    config_file = root / "configs" / "vocflow.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["sources"] += [
        {
            "name": "crm-survey",
            "kind": "sql",
            "options": {
                "url_env": "VOCFLOW_TEST_CRM_URL",
                "table": "survey",
                "channel": "survey",
                "timezone": "Asia/Seoul",
                "batch_size": 3,
                "columns": {"id": "id", "text": "comment", "created_at": "answered_at",
                            "score": "nps", "language": "lang"},
                "score": {"type": "nps"},
            },
        },
        {
            "name": "inbox",
            "kind": "objectstore",
            "options": {
                "url": "data/inbox/*.jsonl",
                "channel": "survey",
                "columns": {"id": "rid", "text": "answer", "created_at": "at", "score": "score"},
                "score": {"type": "nps"},
            },
        },
    ]  # fmt: skip
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def test_one_run_ingests_file_sql_and_object_store_sources_once(
    prefect_harness, small_project, monkeypatch
):
    from flows.nightly import nightly
    from flows.params import RunParameters

    root = small_project["root"]
    _add_sources(root, monkeypatch)
    first = nightly(RunParameters(top_n=5))

    per_source = first["sources"]
    assert set(per_source) == {"demo-skytrax", "demo-nsmc", "crm-survey", "inbox"}
    assert (per_source["crm-survey"]["new"], per_source["crm-survey"]["batches"]) == (4, 2)
    assert (per_source["inbox"]["new"], per_source["inbox"]["batches"]) == (4, 2)
    assert per_source["demo-skytrax"]["new"] > 100 and per_source["demo-nsmc"]["new"] > 100

    with Store(root / ".vocflow" / "vocflow.duckdb", read_only=True) as store:
        rows = store.con.execute(
            "SELECT source, external_id, language, created_at, count(*) OVER "
            "(PARTITION BY item_key) FROM items WHERE source IN ('crm-survey', 'inbox')"
        ).fetchall()
        duplicates = store.con.execute(
            "SELECT count(*) - count(DISTINCT item_key) FROM items"
        ).fetchone()
        total = store.count_items()
    got = {(source, ext): (lang, created) for source, ext, lang, created, _ in rows}
    assert sorted(got) == [("crm-survey", str(n)) for n in range(1, 5)] + [
        ("inbox", f"o{n}") for n in range(1, 5)
    ]
    assert all(n == 1 for *_, n in rows)
    assert duplicates == (0,)
    assert {lang for lang, _ in got.values()} == {"ko", "en"}
    # SQLite's naive text timestamps are Seoul time: 10:00 KST is 01:00 UTC.
    created = got[("crm-survey", "1")][1]
    assert created.astimezone(UTC) == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    n_file_rows = len(small_project["sky"]) + len(small_project["ko"])
    assert first["items"]["read"] == n_file_rows + len(SQL_ROWS) + len(OBJECT_ROWS)

    second = nightly(RunParameters(top_n=5))
    assert second["items"]["ingested_new"] == 0
    assert second["items"]["ingested_updated"] == 0
    assert second["sources"]["crm-survey"]["rows_read"] == 0  # keyset: nothing re-read
    assert second["sources"]["inbox"]["rows_read"] == 0  # unchanged files are not opened
    with Store(root / ".vocflow" / "vocflow.duckdb", read_only=True) as store:
        assert store.count_items() == total


def test_ingest_tasks_carry_tags_a_concurrency_limit_can_cap_per_vendor() -> None:
    from flows.nightly import ingest_tags

    assert ingest_tags("zendesk", "zendesk-brand-a") == {
        "source-kind:zendesk", "source:zendesk-brand-a"
    }  # fmt: skip
    assert ingest_tags("sql", "crm") != ingest_tags("sql", "crm-eu")
