"""No silent loss: a bad row never moves a bookmark past rows still to come.

The issue's case first, on every tabular connector through the real ingest and store: a source
with one row dated 2099-01-01 (quarantined ``future_date``) and, the next day, a good row dated
2026-12-01. Then a property test (Hypothesis) over random mixes of good and bad rows, page sizes,
edits, crashes between persisting a batch and saving its bookmark, and failures in the middle of
a read: after any sequence of runs, every row the source served is stored or quarantined, each
once, and the store holds the source's latest good version of every row.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import fsspec
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import (
    MAX_CURSOR_SKEW,
    Batch,
    Bookmark,
    Connector,
    bookmark_time,
    cursor_limit,
)
from connectors.files import FileConnector, FileSourceOptions
from connectors.objectstore import ObjectStoreConnector, ObjectStoreOptions
from connectors.schema import Channel, FeedbackItem
from connectors.sql import SqlConnector, SqlSourceOptions
from vocflow.ingest import ingest_source
from vocflow.store import Store

DAY1 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MAPPING = {"id": "id", "text": "body", "created_at": "day", "updated_at": "upd", "score": "nps"}


def _stamp(value: datetime) -> str:
    """Naive UTC text, as a CSV export or a SQLite text column holds it (sorts as it reads)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _mapping(batch_size: int) -> dict[str, Any]:
    return {"channel": "review", "columns": MAPPING, "score": {"type": "nps"},
            "batch_size": batch_size}  # fmt: skip


class TabularSource:
    """One table of feedback rows, served as a CSV file, an object-store folder or SQLite."""

    def __init__(self, kind: str, root: Path, batch_size: int) -> None:
        self.kind = kind
        self.rows: dict[str, dict[str, str]] = {}
        self.batch_size = batch_size
        self._root = root
        self._bucket = f"/bucket-{uuid.uuid4().hex[:10]}"
        self._db = root / "feedback.db"
        self._engine = sa.create_engine(f"sqlite:///{self._db}") if kind == "sql" else None
        if self._engine is not None:
            with self._engine.begin() as connection:
                connection.execute(sa.text(
                    "CREATE TABLE feedback (id TEXT PRIMARY KEY, body TEXT, day TEXT, upd TEXT, "
                    "nps TEXT)"
                ))  # fmt: skip
        elif kind == "file":  # an export with no rows yet: just the header
            (root / "feedback.csv").write_text("id,body,day,upd,nps\n")

    def put(self, row: dict[str, str]) -> None:
        """Adds a row, or replaces the row with its id (an edit)."""
        self.rows[row["id"]] = row
        if self._engine is not None:
            with self._engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT OR REPLACE INTO feedback VALUES (:id, :body, :day, :upd, :nps)"
                    ),
                    row,
                )
        elif self.kind == "objectstore":
            # New rows land in a new export file; an edit rewrites the file that holds the row.
            fs = fsspec.filesystem("memory")
            name = f"{self._bucket}/export-{row['file']}.csv"
            rows = [r for r in self.rows.values() if r["file"] == row["file"]]
            fs.pipe(name, pd.DataFrame(rows).drop(columns="file").to_csv(index=False).encode())
        else:
            frame = pd.DataFrame(list(self.rows.values())).drop(columns="file")
            frame.to_csv(self._root / "feedback.csv", index=False)

    def close(self) -> None:
        """Releases the SQLite engine."""
        if self._engine is not None:
            self._engine.dispose()

    def connector(self, now: datetime) -> Connector:
        """The source's connector, its future-date check on ``now``'s clock."""
        if self.kind == "sql":
            options = SqlSourceOptions.model_validate({
                **_mapping(self.batch_size), "url": f"sqlite:///{self._db}", "table": "feedback",
                "watermark_column": "upd", "primary_key": "id",
            })  # fmt: skip
            return SqlConnector("src", options, "salt", now=now)
        if self.kind == "objectstore":
            url = f"memory://{self._bucket}/*.csv"
            store_options = ObjectStoreOptions.model_validate({**_mapping(self.batch_size),
                                                               "url": url})  # fmt: skip
            return ObjectStoreConnector("src", store_options, "salt", now=now)
        file_options = FileSourceOptions.model_validate(
            {**_mapping(self.batch_size), "path": self._root / "feedback.csv"}
        )
        return FileConnector("src", file_options, "salt", now=now)


def _row(row_id: str, body: str, day: datetime | str, upd: datetime | str, nps: str = "5",
         file: str = "0") -> dict[str, str]:  # fmt: skip
    def text(value: datetime | str) -> str:
        return _stamp(value) if isinstance(value, datetime) else value

    return {"id": row_id, "body": body, "day": text(day), "upd": text(upd), "nps": nps,
            "file": file}  # fmt: skip


def _stored(store: Store) -> dict[str, str]:
    rows = store.con.execute("SELECT external_id, text FROM items WHERE source = 'src'").fetchall()
    return {str(ext): str(text) for ext, text in rows}


def _quarantined_refs(store: Store) -> list[str]:
    return [str(r[0]) for r in store.con.execute("SELECT row_ref FROM quarantine").fetchall()]


@pytest.mark.parametrize("kind", ["file", "sql", "objectstore"])
def test_a_row_dated_2099_does_not_hide_a_good_row_added_the_next_day(kind: str, tmp_path: Path):
    source = TabularSource(kind, tmp_path, batch_size=10)
    source.put(_row("1", "Seats were fine", DAY1 - timedelta(days=2), DAY1 - timedelta(days=2)))
    source.put(_row("2", "Login fails", "2099-01-01 00:00:00", "2099-01-01 00:00:00"))
    with Store(tmp_path / "store.duckdb") as store:
        first = ingest_source(source.connector(DAY1), store, "run-1", now=DAY1)
        assert (first.new, first.quarantined) == (1, 1)
        saved = store.get_bookmark("src")
        assert saved is not None
        when = bookmark_time(Bookmark(*saved))
        assert when is None or when <= cursor_limit(DAY1)  # never 2099

        day2 = DAY1 + timedelta(days=1)
        source.put(_row("3", "Refund still not here", "2026-12-01 09:00:00",
                        "2026-12-01 09:00:00", file="1"))  # fmt: skip
        second = ingest_source(source.connector(day2), store, "run-2", now=day2)
        assert second.new == 1
        assert set(_stored(store)) == {"1", "3"}
        # The 2099 row is read again while it stays ahead of the bookmark, and kept once.
        assert _quarantined_refs(store) == [_quarantined_refs(store)[0]]


def test_the_2099_row_is_quarantined_with_its_reason_not_stored(tmp_path: Path):
    source = TabularSource("file", tmp_path, batch_size=1)
    source.put(_row("2", "Login fails", "2099-01-01 00:00:00", "2099-01-01 00:00:00"))
    with Store(tmp_path / "store.duckdb") as store:
        counts = ingest_source(source.connector(DAY1), store, "run-1", now=DAY1)
        assert counts.new == 0 and counts.bookmark is None
        assert store.get_bookmark("src") is None
        assert store.quarantine_reasons() == {"future_date": 1}


def test_a_stored_row_dated_ahead_of_the_clock_stores_but_holds_the_bookmark(tmp_path: Path):
    """A good item whose cursor is days ahead (a source clock off) is kept, re-read next run."""
    source = TabularSource("file", tmp_path, batch_size=10)
    source.put(_row("1", "Fine flight", DAY1 - timedelta(hours=5), DAY1 - timedelta(hours=5)))
    source.put(_row("2", "Lost my bag", DAY1 - timedelta(hours=4), DAY1 + timedelta(days=3)))
    with Store(tmp_path / "store.duckdb") as store:
        ingest_source(source.connector(DAY1), store, "run-1", now=DAY1)
        assert set(_stored(store)) == {"1", "2"}
        saved = store.get_bookmark("src")
        assert saved is not None
        assert bookmark_time(Bookmark(*saved)) == DAY1 - timedelta(hours=5)


class _AheadOfTheClock:
    """A connector whose batch bookmarks run past the clock (an API's future timestamp)."""

    name = "src"
    primary_key = "id"
    cursor_field: str | None = "updated_at"

    def check(self) -> str:
        return "ok"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        item = FeedbackItem(source="src", external_id="1", channel=Channel.TICKET,
                            created_at=DAY1 - timedelta(hours=1), text="Where is my refund?")  # fmt: skip
        yield Batch(items=[item], rows_read=1,
                    bookmark=Bookmark("updated_at", (DAY1 - timedelta(hours=1)).isoformat()))  # fmt: skip
        yield Batch(rows_read=0, bookmark=Bookmark("updated_at", "2099-01-01T00:00:00+00:00"),
                    gaps=["listing capped at 1,000 items"])  # fmt: skip


def test_ingest_never_saves_a_bookmark_beyond_the_clock_and_keeps_the_gaps(tmp_path: Path):
    with Store(tmp_path / "store.duckdb") as store:
        counts = ingest_source(_AheadOfTheClock(), store, "run-1", now=DAY1)
        saved = store.get_bookmark("src")
    assert saved == ("updated_at", (DAY1 - timedelta(hours=1)).isoformat())
    assert counts.bookmarks_held == 1
    assert counts.gaps == ["listing capped at 1,000 items"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T09:00:00+00:00", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("2026-12-01T18:00:00+09:00", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("2026-12-01T09:00:00Z", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        (
            json.dumps({"utc": "2026-12-01T09:00:00+00:00", "key": 7}),
            datetime(2026, 12, 1, 9, tzinfo=UTC),
        ),  # fmt: skip
        (json.dumps({"files": {"a.csv": "etag=1"}}), None),
        ("eyJvcGFxdWUiOiJ0b2tlbiJ9", None),
        ("2026-12-01T09:00:00", None),  # no zone: not a time we can compare
    ],
)
def test_bookmark_time_reads_times_and_leaves_opaque_tokens(value: str, expected: datetime | None):
    assert bookmark_time(Bookmark("c", value)) == expected


# -- the property ---------------------------------------------------------------------------------

KINDS = ("good", "good", "good", "future", "bad_score", "empty", "bad_date", "ahead", "skewed")


class Crash(Exception):
    """Stands for a process killed between two steps of ingest."""


@dataclass
class Step:
    """One day: new rows (by kind), edits of earlier rows, and how the run is cut short."""

    new: list[str]
    edits: list[tuple[int, str]]
    crash_at: tuple[str, int] | None
    fail_read_after: int | None


@dataclass
class Ledger:
    """What the source served, as the connector yielded it."""

    items: dict[str, str] = field(default_factory=dict)
    quarantined: set[str] = field(default_factory=set)


def _make(kind: str, row_id: str, now: datetime, n: int, file: str) -> dict[str, str]:
    when = now - timedelta(hours=1 + n % 20)
    body = f"review {row_id} version {n}: seat {n % 7} too narrow"
    if kind == "future":
        return _row(row_id, body, "2099-01-01 00:00:00", "2099-01-01 00:00:00", file=file)
    if kind == "bad_score":
        return _row(row_id, body, when, when, nps="11", file=file)
    if kind == "empty":
        return _row(row_id, "   ", when, when, file=file)
    if kind == "bad_date":
        return _row(row_id, body, "not a date", "not a date", file=file)
    if kind == "ahead":  # a good item whose edit stamp runs days ahead of the clock
        return _row(row_id, body, when, now + timedelta(days=3), file=file)
    if kind == "skewed":  # a source clock a little ahead: within MAX_CURSOR_SKEW
        return _row(row_id, body, when, now + MAX_CURSOR_SKEW / 2, file=file)
    return _row(row_id, body, when, when, file=file)


def _is_good(row: dict[str, str]) -> bool:
    return (
        row["nps"] != "11"
        and row["body"].strip() != ""
        and "2099" not in row["day"]
        and (row["day"] != "not a date")
    )


@contextmanager
def _crashing(target: tuple[str, int] | None) -> Iterator[None]:
    passes: dict[str, int] = {}

    def checkpoint(name: str) -> None:
        passes[name] = passes.get(name, 0) + 1
        if target is not None and target == (name, passes[name]):
            raise Crash(name)

    with mock.patch("vocflow.ingest.checkpoint", checkpoint):
        yield


class _Recording:
    """Wraps a connector: records what it yields, and fails after ``fail_after`` batches."""

    def __init__(self, inner: Connector, ledger: Ledger, fail_after: int | None) -> None:
        self.inner, self.ledger, self.fail_after = inner, ledger, fail_after
        self.name, self.primary_key = inner.name, inner.primary_key
        self.cursor_field = inner.cursor_field

    def check(self) -> str:
        return self.inner.check()

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        for n, batch in enumerate(self.inner.read(bookmark)):
            if self.fail_after is not None and n >= self.fail_after:
                raise Crash("source failed mid-read")
            for item in batch.items:
                self.ledger.items[item.external_id] = item.text
            self.ledger.quarantined |= {q.row_hash for q in batch.quarantined}
            yield batch


def _quarantined(store: Store) -> list[str]:
    return [str(r[0]) for r in store.con.execute("SELECT row_hash FROM quarantine").fetchall()]


steps = st.lists(
    st.builds(
        Step,
        new=st.lists(st.sampled_from(KINDS), max_size=4),
        edits=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(KINDS)), max_size=2),
        crash_at=st.none()
        | st.tuples(
            st.sampled_from(["ingest:batch-persisted", "ingest:bookmark-saved"]), st.integers(1, 3)
        ),  # fmt: skip
        fail_read_after=st.none() | st.integers(0, 2),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.parametrize("kind", ["file", "sql", "objectstore"])
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps, batch_size=st.integers(1, 4))
def test_every_served_row_is_stored_or_quarantined_once(
    kind: str, plan: list[Step], batch_size: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = TabularSource(kind, root, batch_size)
        ledger = Ledger()
        n = 0
        with Store(root / "store.duckdb") as store:
            for day, step in enumerate([*plan, Step([], [], None, None)]):
                now = DAY1 + timedelta(days=day)
                for row_kind in step.new:
                    n += 1
                    source.put(_make(row_kind, f"r{n}", now, n, file=str(day)))
                for pick, row_kind in step.edits:
                    if source.rows:
                        ids = sorted(source.rows)
                        old = source.rows[ids[pick % len(ids)]]
                        n += 1
                        source.put(_make(row_kind, old["id"], now, n, file=old["file"]))
                connector = _Recording(source.connector(now), ledger, step.fail_read_after)
                try:
                    with _crashing(step.crash_at):
                        ingest_source(connector, store, f"run-{day}", now=now)
                except Crash:
                    pass
                saved = store.get_bookmark("src")
                if saved is not None:
                    when = bookmark_time(Bookmark(*saved))
                    assert when is None or when <= cursor_limit(now)

            stored = _stored(store)
            quarantined = _quarantined(store)
        # What the source holds now, read from scratch into an empty store.
        with Store(root / "fresh.duckdb") as fresh:
            ingest_source(source.connector(now), fresh, "fresh", now=now)
            fresh_quarantined = set(_quarantined(fresh))
        source.close()
    # The last run (no crash, no failure) saw the source as it is now: its latest version of
    # every good row is stored, and every row bad now is quarantined.
    latest_good = {i: r["body"] for i, r in source.rows.items() if _is_good(r)}
    assert {i: stored.get(i) for i in latest_good} == latest_good
    assert fresh_quarantined <= set(quarantined)
    # Each once: nothing stored that the source never served, no quarantined row twice, and
    # every row the source served as bad is in the quarantine.
    assert set(stored) == set(ledger.items)
    assert len(quarantined) == len(set(quarantined))
    assert set(quarantined) == ledger.quarantined
