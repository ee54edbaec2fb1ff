"""Object-store connector on fsspec's memory:// filesystem and on local paths."""

import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from connectors.base import ConnectorError
from connectors.objectstore import ObjectStoreConnector, ObjectStoreOptions
from connectors.registry import build_connector
from connectors.schema import ScoreType
from vocflow.ingest import ingest_source
from vocflow.store import Store

NOW = datetime(2026, 11, 23, tzinfo=UTC)

CSV_ROWS = [
    {"id": "c1", "body": "배송이 너무 늦어요", "day": "2026-01-01 09:00", "nps": "3"},
    {"id": "c2", "body": "The app keeps crashing", "day": "2026-01-02 10:00", "nps": "9"},
    {"id": "c3", "body": "", "day": "2026-01-02 11:00", "nps": "7"},
]
JSONL_ROWS = [
    {"id": "j1", "body": "환불이 2주나 걸렸어요", "day": "2026-01-03 08:00", "nps": "2"},
    {"id": "j2", "body": "Support was quick and kind", "day": "2026-01-03 09:00", "nps": "10"},
    {"id": "j3", "body": "Too expensive", "day": "2026-01-03 10:00", "nps": "11"},
]
PARQUET_ROWS = [
    {"id": "p1", "body": "앱이 자주 멈춰요", "day": "2026-01-04 12:00", "nps": "1"},
    {"id": "p2", "body": "Checkout is confusing", "day": "not a date", "nps": "4"},
]


def _csv(rows: list[dict]) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buffer)
    return buffer.getvalue()


@pytest.fixture
def bucket() -> Iterator[str]:
    """A fresh folder on fsspec's in-memory filesystem, with one file of each format."""
    fs = fsspec.filesystem("memory")
    root = f"/inbox-{uuid.uuid4().hex[:8]}"
    fs.pipe(f"{root}/2026/01/a.csv", _csv(CSV_ROWS))
    fs.pipe(f"{root}/2026/01/b.jsonl", _jsonl(JSONL_ROWS))
    fs.pipe(f"{root}/2026/02/c.parquet", _parquet(PARQUET_ROWS))
    yield root
    fs.rm(root, recursive=True)


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of every file the connector downloads, in order."""
    calls: list[str] = []
    original = MemoryFileSystem.cat_file

    def spy(self, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(path)
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(MemoryFileSystem, "cat_file", spy)
    return calls


def _options(url: str, **extra: object) -> ObjectStoreOptions:
    return ObjectStoreOptions.model_validate(
        {
            "url": url,
            "channel": "survey",
            "timezone": "Asia/Seoul",
            "columns": {"id": "id", "text": "body", "created_at": "day", "score": "nps"},
            "score": {"type": "nps"},
            "batch_size": 2,
            **extra,
        }
    )


def _connector(url: str, **extra: object) -> ObjectStoreConnector:
    return ObjectStoreConnector("bucket", _options(url, **extra), "salt", now=NOW)


def test_reads_every_format_with_the_file_mapping_and_quarantine(bucket: str):
    connector = _connector(f"memory://{bucket}/**")
    assert connector.check().endswith("3 files, memory://" + bucket + "/2026/01/a.csv parses")
    batches = list(connector.read(None))
    items = {i.external_id: i for b in batches for i in b.items}
    bad = {q.row_ref: q.reason for b in batches for q in b.quarantined}
    assert sorted(items) == ["c1", "c2", "j1", "j2", "p1"]
    assert bad == {
        f"memory://{bucket}/2026/01/a.csv:4": "empty_text",
        f"memory://{bucket}/2026/01/b.jsonl:3": "score_out_of_range",
        f"memory://{bucket}/2026/02/c.parquet:id=p2": "invalid_date",
    }
    assert sum(b.rows_read for b in batches) == 8
    assert items["c1"].created_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # Seoul -> UTC
    assert items["p1"].text == "앱이 자주 멈춰요"
    assert items["j1"].score is not None and items["j1"].score.type is ScoreType.NPS
    # Only each file's last batch carries a bookmark, and it names the files done so far.
    marks = [json.loads(b.bookmark.value)["files"] for b in batches if b.bookmark]
    assert [len(m) for m in marks] == [1, 2, 3]


def test_unchanged_files_are_never_read_again_new_and_changed_ones_are(
    bucket: str, fetched: list[str], tmp_path: Path
):
    fs = fsspec.filesystem("memory")
    url = f"memory://{bucket}/**"
    with Store(tmp_path / "store.duckdb") as store:
        first = ingest_source(_connector(url), store, "r1")
        assert (first.new, first.quarantined, first.rows_read) == (5, 3, 8)
        assert len(fetched) == 3

        fetched.clear()
        second = ingest_source(_connector(url), store, "r2")
        assert (second.rows_read, second.batches, second.new) == (0, 0, 0)
        assert fetched == []  # unchanged files are not even downloaded

        # One file edited (a row changed, a row added), one file added.
        edited = [{**CSV_ROWS[1], "body": "The app still crashes", "day": "2026-01-05 10:00"},
                  CSV_ROWS[0], {"id": "c4", "body": "좋아요", "day": "2026-01-06 10:00",
                                "nps": "9"}]  # fmt: skip
        fs.pipe(f"{bucket}/2026/01/a.csv", _csv(edited))
        fs.pipe(f"{bucket}/2026/03/d.jsonl", _jsonl([{"id": "d1", "body": "Great seats",
                                                      "day": "2026-03-01 10:00", "nps": "9"}]))  # fmt: skip
        third = ingest_source(_connector(url), store, "r3")
        assert sorted(fetched) == [f"{bucket}/2026/01/a.csv", f"{bucket}/2026/03/d.jsonl"]
        assert (third.new, third.updated, third.unchanged, third.rows_read) == (2, 1, 1, 4)
        texts = dict(store.con.execute("SELECT external_id, text FROM items").fetchall())
        assert texts["c2"] == "The app still crashes"
        assert store.count_items() == 7


def test_crash_inside_a_file_rereads_that_file_and_loses_nothing(bucket: str, tmp_path: Path):
    url = f"memory://{bucket}/**"

    class FailingStore(Store):
        calls = 0

        def upsert_items(self, rows, run_id):  # type: ignore[no-untyped-def]
            FailingStore.calls += 1
            if FailingStore.calls == 4:  # b.jsonl's second batch (a.csv has two)
                raise OSError("disk full")
            return super().upsert_items(rows, run_id)

    path = tmp_path / "store.duckdb"
    with FailingStore(path) as store, pytest.raises(OSError):
        ingest_source(_connector(url), store, "r1")
    with Store(path) as store:
        saved = store.get_bookmark("bucket")
        assert saved is not None
        assert list(json.loads(saved[1])["files"]) == [f"{bucket}/2026/01/a.csv"]
        resumed = ingest_source(_connector(url), store, "r2")
        # b.jsonl is read again whole (j1 and j2 were stored before the crash: unchanged),
        # c.parquet for the first time; a.csv is not touched.
        assert (resumed.new, resumed.unchanged, resumed.rows_read) == (1, 2, 5)
        ids = sorted(k for (k,) in store.con.execute("SELECT external_id FROM items").fetchall())
        assert ids == ["c1", "c2", "j1", "j2", "p1"]


def test_an_unreadable_file_is_quarantined_once_and_blocks_nothing(
    bucket: str, fetched: list[str], tmp_path: Path
):
    fs = fsspec.filesystem("memory")
    fs.pipe(f"{bucket}/2026/01/broken.parquet", b"not parquet at all")
    fs.pipe(f"{bucket}/2026/01/other.csv", _csv([{"x": "1"}]))
    url = f"memory://{bucket}/**"
    with Store(tmp_path / "store.duckdb") as store:
        first = ingest_source(_connector(url), store, "r1")
        assert first.new == 5
        reasons = dict(store.con.execute("SELECT row_ref, reason FROM quarantine").fetchall())
        assert reasons[f"memory://{bucket}/2026/01/broken.parquet"] == "unreadable_file"
        assert reasons[f"memory://{bucket}/2026/01/other.csv"] == "unreadable_file"
        fetched.clear()
        second = ingest_source(_connector(url), store, "r2")
        assert (second.rows_read, fetched) == (0, [])


def test_local_paths_through_the_registry(tmp_path: Path):
    inbox = tmp_path / "inbox" / "2026"
    inbox.mkdir(parents=True)
    (inbox / "a.csv").write_bytes(_csv(CSV_ROWS))
    (inbox / "b.jsonl").write_bytes(_jsonl(JSONL_ROWS))
    options = _options("inbox/**/*.csv").model_dump()
    connector = build_connector("local", "objectstore", options, base_dir=tmp_path,
                                customer_salt="s")  # fmt: skip
    batches = list(connector.read(None))
    assert sorted(i.external_id for b in batches for i in b.items) == ["c1", "c2"]
    bookmark = batches[-1].bookmark
    assert bookmark is not None
    assert list(json.loads(bookmark.value)["files"]) == [str(inbox / "a.csv")]
    assert list(connector.read(bookmark)) == []
    (inbox / "c.csv").write_bytes(_csv([{"id": "c9", "body": "new", "day": "2026-02-01",
                                         "nps": "5"}]))  # fmt: skip
    later = [i.external_id for b in connector.read(bookmark) for i in b.items]
    assert later == ["c9"]


def test_clear_errors_for_missing_backends_secrets_and_empty_globs(bucket: str):
    for url, package in (("s3://bucket/fb/*.csv", "s3fs"), ("gs://bucket/fb/*.csv", "gcsfs")):
        with pytest.raises(ConnectorError, match=rf"needs {package}; install it"):
            list(_connector(url).read(None))
    with pytest.raises(ConnectorError, match="look like credentials"):
        build_connector("b", "objectstore", {**_options("s3://b/*.csv").model_dump(),
                        "storage_options": {"secret": "x"}}, base_dir=Path("."),
                        customer_salt="s")  # fmt: skip
    with pytest.raises(ConnectorError, match="no file matches"):
        _connector(f"memory://{bucket}/nothing/*.csv").check()
    wrong = _connector(f"memory://{bucket}/**/*.csv", columns={"id": "id", "text": "comment",
                                                               "created_at": "day"})  # fmt: skip
    with pytest.raises(ConnectorError, match=r"columns \['comment'\] not in memory://"):
        wrong.check()
