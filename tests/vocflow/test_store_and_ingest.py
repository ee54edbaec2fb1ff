from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connectors.base import Batch, Bookmark
from connectors.files import FileConnector, FileSourceOptions
from connectors.schema import Channel, FeedbackItem, Score, ScoreType
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.ingest import ingest_source, prepare_items
from vocflow.store import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _item(external_id: str, text: str, updated: datetime | None = None) -> FeedbackItem:
    return FeedbackItem(
        source="s",
        external_id=external_id,
        channel=Channel.REVIEW,
        created_at=T0,
        updated_at=updated,
        text=text,
        score=Score(type=ScoreType.NPS, value=3),
    )


def _options(path: Path) -> FileSourceOptions:
    return FileSourceOptions.model_validate(
        {
            "path": path,
            "channel": "review",
            "columns": {"id": "id", "text": "text", "created_at": "day"},
            "batch_size": 3,
        }
    )


@pytest.fixture
def store(store_target: Path | str):  # noqa: F811 - the fixture imported above
    with Store(store_target) as s:
        yield s


def test_reingesting_the_same_items_changes_nothing(store: Store):
    rows = prepare_items([_item("1", "배송이 늦어요"), _item("2", "App crashes on login")])
    first = store.upsert_items(rows, "run-1")
    snapshot = store.con.execute("SELECT * FROM items ORDER BY item_key").fetchall()
    second = store.upsert_items(rows, "run-2")
    assert (first.new, first.updated, first.unchanged, first.duplicates) == (2, 0, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2)
    assert store.con.execute("SELECT * FROM items ORDER BY item_key").fetchall() == snapshot


def test_a_later_edit_replaces_the_item_and_a_stale_one_does_not(store: Store):
    store.upsert_items(prepare_items([_item("1", "old text", T0)]), "r1")
    later = datetime(2026, 1, 2, tzinfo=UTC)
    counts = store.upsert_items(prepare_items([_item("1", "new text", later)]), "r2")
    stale = store.upsert_items(prepare_items([_item("1", "stale text", T0)]), "r3")
    assert (counts.updated, stale.updated, stale.unchanged) == (1, 0, 1)
    assert store.con.execute("SELECT text, last_run_id FROM items").fetchall() == [
        ("new text", "r2")
    ]


def test_pii_is_redacted_before_storage_of_the_clean_text(store: Store):
    rows = prepare_items([_item("1", "연락주세요 010-1234-5678, mail me at kim@example.com")])
    store.upsert_items(rows, "r")
    clean = store.load_items()["text_clean"].iloc[0]
    assert "010-1234-5678" not in clean and "kim@example.com" not in clean
    assert "[PHONE]" in clean and "[EMAIL]" in clean


def test_embedding_cache_returns_vectors_in_request_order(store: Store):
    vectors = np.eye(3, dtype=np.float32)
    store.save_embeddings(["a", "b", "c"], "m", vectors)
    assert store.missing_embeddings(["c", "d", "a", "d"], "m") == ["d"]
    assert store.missing_embeddings(["a"], "other-model") == ["a"]
    got = store.load_embeddings(["c", "a", "c"], "m")
    np.testing.assert_array_equal(got, vectors[[2, 0, 2]])


def test_ingest_saves_bookmark_after_batches_and_second_run_ingests_nothing(
    store: Store, tmp_path: Path
):
    path = tmp_path / "f.csv"
    pd.DataFrame(
        [
            {"id": str(i), "text": f"리뷰 {i} 배송 문제", "day": f"2026-01-{i:02d}"}
            for i in range(1, 8)
        ]
        + [{"id": "bad", "text": "", "day": "2026-01-05"}]
    ).to_csv(path, index=False)
    options = _options(path)
    connector = FileConnector("files", options, "salt")
    first = ingest_source(connector, store, "r1")
    assert (first.new, first.quarantined, first.quarantined_new) == (7, 1, 1)
    assert store.get_bookmark("files") == ("day", "2026-01-07T00:00:00+00:00")
    second = ingest_source(connector, store, "r2")
    # Only the boundary day is re-read (inclusive cursor) and it is absorbed by the upsert.
    assert (second.rows_read, second.new, second.unchanged) == (1, 0, 1)
    assert store.count_items() == 7


def test_crash_mid_stream_leaves_bookmark_at_last_persisted_batch(store: Store, tmp_path: Path):
    path = tmp_path / "f.csv"
    pd.DataFrame(
        [{"id": str(i), "text": f"text {i}", "day": f"2026-01-{i:02d}"} for i in range(1, 10)]
    ).to_csv(path, index=False)
    options = _options(path)

    class Crashing(FileConnector):
        def read(self, bookmark):
            for n, batch in enumerate(super().read(bookmark)):
                if n == 2:
                    raise RuntimeError("network down")
                yield batch

    with pytest.raises(RuntimeError):
        ingest_source(Crashing("files", options, "salt"), store, "r1")
    assert store.get_bookmark("files") == ("day", "2026-01-06T00:00:00+00:00")
    assert store.count_items() == 6
    resumed = ingest_source(FileConnector("files", options, "salt"), store, "r2")
    assert store.count_items() == 9
    assert resumed.new == 3


def test_duplicate_keys_in_one_batch_are_stored_once_and_counted(store: Store):
    rows = prepare_items([_item("1", "first"), _item("1", "first"), _item("2", "other")])
    counts = store.upsert_items(rows, "r")
    assert (counts.new, counts.duplicates) == (2, 1)
    assert store.count_items() == 2


class _ScriptedSource:
    """A connector that replays scripted batches, one list per run."""

    name = "scripted"
    primary_key = "id"
    cursor_field = "updated_at"

    def __init__(self, runs: list[list[Batch]]) -> None:
        self.runs = runs

    def check(self) -> str:
        return "ok"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        yield from self.runs.pop(0)


def test_items_the_source_reports_deleted_are_removed_with_what_derives_from_them(
    store: Store,
) -> None:
    ko = _item("k1", "배송이 너무 늦어요 환불해주세요")
    en = _item("e1", "The app crashes every time I log in")
    mark = Bookmark("updated_at", "2026-01-02T00:00:00+00:00")
    source = _ScriptedSource(
        [
            [Batch(items=[ko.model_copy(update={"source": "scripted"}),
                          en.model_copy(update={"source": "scripted"})], bookmark=mark)],
            [Batch(deleted=["k1", "never-stored"], bookmark=mark)],
        ]
    )  # fmt: skip
    first = ingest_source(source, store, "r1")
    assert first.new == 2 and first.deleted == 0
    items = store.load_items()
    keys, hashes = items["item_key"].tolist(), items["text_hash"].tolist()
    store.save_enrichments(
        keys, hashes, "m:1", "sentiment", ["negative"] * 2, np.full((2, 3), 1 / 3)
    )
    second = ingest_source(source, store, "r2")
    assert second.deleted == 1  # the id that was never stored deletes nothing
    left = store.load_items()
    assert left["external_id"].tolist() == ["e1"]
    assert store.load_enrichments(keys, "m:1")["item_key"].tolist() == left["item_key"].tolist()
