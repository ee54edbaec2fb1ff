"""File connector: CSV, TSV, JSONL and Parquet files with a column mapping from config.

Incremental by a cursor column (a date or timestamp): rows at or after the bookmark are read in
cursor order. The bookmark is inclusive (>=) because many rows can share one timestamp; rows read
twice are deduplicated by the store's upsert on the item key. A batch's bookmark is the cursor of
its last row that became an item, never of a quarantined row and never beyond the clock
(``connectors.base.cursor_limit``): one row dated 2099 must not make every later row invisible.

Bad rows never fail the file: each is quarantined with a reason code (``QUARANTINE_REASONS``)
and every good row of the same file is read. Encodings are detected per file (UTF-8 or CP949,
see ``connectors.text_io``); rows with undecodable bytes, broken records, wrong value types,
over-long texts and conflicting duplicates are quarantined row by row.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd

from connectors.base import Batch, Bookmark, ConnectorError, cursor_limit
from connectors.file_options import (
    QUARANTINE_REASONS,
    SUFFIX_FORMATS,
    ColumnMap,
    FileFormat,
    FileSourceOptions,
    ScoreMapping,
)
from connectors.row_mapping import RowMapper
from connectors.schema import FeedbackItem, QuarantinedRow, raw_json
from connectors.text_io import BadRecord, decode_bytes, printable, read_delimited, read_jsonl

__all__ = ["QUARANTINE_REASONS", "ColumnMap", "FileConnector", "FileSourceOptions", "ScoreMapping"]


class FileConnector:
    """Reads one file source.

    Args:
        name: Source instance name.
        options: Validated file options.
        customer_salt: Secret salt for hashing customer identifiers.
        now: Clock for the future-date check (tests pin it).
        label: Names the file in quarantine references (default: the file name); the object
            store connector passes the object's key.
    """

    def __init__(
        self,
        name: str,
        options: FileSourceOptions,
        customer_salt: str,
        now: datetime | None = None,
        *,
        label: str | None = None,
    ) -> None:
        self.name = name
        self.options = options
        id_cols = options.columns.id
        self.primary_key = id_cols if isinstance(id_cols, str) else "+".join(id_cols)
        self.cursor_field: str | None = (
            options.cursor_column or options.columns.updated_at or options.columns.created_at
        )
        self._label = label or options.path.name
        self._now = now
        self._rows = RowMapper(name, options, customer_salt, ref_prefix=self._label, now=now)

    @property
    def file_format(self) -> FileFormat:
        """The file's format, declared or from its extension."""
        if self.options.format:
            return self.options.format
        suffix = self.options.path.suffix.lower()
        if suffix not in SUFFIX_FORMATS:
            raise ConnectorError(
                f"source {self.name!r}: cannot tell the format of {self.options.path.name}; "
                f"set options.format to one of {sorted(set(SUFFIX_FORMATS.values()))}"
            )
        return SUFFIX_FORMATS[suffix]

    def check(self) -> str:
        """Checks that the file exists, parses, and has the mapped columns."""
        frame, _ = self._load()
        missing = self.missing_columns(frame)
        if missing:
            raise ConnectorError(
                f"source {self.name!r}: columns {missing} not in {self.options.path.name} "
                f"(has {sorted(frame.columns)[:20]})"
            )
        return f"{self.options.path} readable, {len(frame)} rows, mapped columns present"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields batches of rows at or after the bookmark, in cursor order."""
        yield from self._read_frame(*self._load(), bookmark)

    def read_content(self, data: bytes, bookmark: Bookmark | None = None) -> Iterator[Batch]:
        """Like ``read``, over file content fetched elsewhere (an object store).

        Args:
            data: The file's bytes; the format comes from the options or the path's suffix.
            bookmark: Cursor to read from (everything when None).
        """
        yield from self._read_frame(*self.parse(data), bookmark)

    def parse(self, data: bytes) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
        """Parses file content into an all-object frame and the records that did not split.

        Raises:
            ConnectorError: When the file cannot be parsed at all (e.g. not Parquet).
        """
        fmt = self.file_format
        try:
            if fmt == "parquet":
                return pd.read_parquet(io.BytesIO(data)).astype(object), []
            text, _ = decode_bytes(data, self.options.encoding)
        except (ValueError, LookupError, OSError) as error:
            message = f"source {self.name!r}: cannot parse {self._label}: {error}"
            raise ConnectorError(message) from error
        if fmt == "jsonl":
            records, bad = read_jsonl(text, self._label)
        else:
            records, bad = read_delimited(text, "\t" if fmt == "tsv" else ",", self._label)
        return _object_frame(records), [self._bad_line(b) for b in bad]

    def _read_frame(
        self, frame: pd.DataFrame, unparsable: list[QuarantinedRow], bookmark: Bookmark | None
    ) -> Iterator[Batch]:
        if unparsable:
            yield Batch(quarantined=unparsable, rows_read=len(unparsable))
        if frame.empty:
            return
        missing = self._mapped_columns() - set(frame.columns)
        if self.file_format == "jsonl":
            # JSON Lines records leave out null keys: an optional key that no record has is
            # an all-null column, not a misconfiguration.
            cols = self.options.columns
            required = {*self._rows.id_columns(), cols.text}
            for column in missing - required - {cols.created_at}:
                frame[column] = None
            missing &= required | {cols.created_at}
        if missing:
            raise ConnectorError(f"source {self.name!r}: columns {sorted(missing)} missing")
        cursor_col = self.cursor_field
        assert cursor_col is not None  # noqa: S101 - set in __init__ from a required column
        cursor = self._rows.parse_times(frame[cursor_col])
        frame = frame.assign(_cursor=cursor)
        bad_cursor = frame[frame["_cursor"].isna()]
        if not bad_cursor.empty:
            yield Batch(
                quarantined=[
                    self._rows.bad_cursor(row, cursor_col) for row in bad_cursor.to_dict("records")
                ],
                rows_read=len(bad_cursor),
            )
        frame = frame[frame["_cursor"].notna()]
        if bookmark is not None:
            since = pd.Timestamp(bookmark.value)
            frame = frame[frame["_cursor"] >= since]
        frame, conflicts = self._split_conflicts(frame)
        if conflicts:
            yield Batch(quarantined=conflicts, rows_read=len(conflicts))
        frame = frame.sort_values("_cursor", kind="stable")
        size = self.options.batch_size
        limit = cursor_limit(self._now)
        for start in range(0, len(frame), size):
            chunk = frame.iloc[start : start + size]
            batch = Batch(rows_read=len(chunk))
            stored: pd.Timestamp | None = None
            outcomes = self._rows.to_items(chunk.to_dict("records"))
            for cursor, outcome in zip(chunk["_cursor"], outcomes, strict=True):
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                    # Rows are in cursor order: the last item within the limit is the furthest
                    # a bookmark may go. A quarantined row (dated 2099, say) never moves it.
                    if cursor <= limit:
                        stored = cursor
                else:
                    batch.quarantined.append(outcome)
            if stored is not None:
                batch.bookmark = Bookmark(cursor_col, stored.isoformat())
            yield batch

    def missing_columns(self, frame: pd.DataFrame) -> list[str]:
        """Mapped columns that a parsed file lacks."""
        return sorted(self._mapped_columns() - set(frame.columns))

    def _mapped_columns(self) -> set[str]:
        extra = self.options.cursor_column
        return self._rows.mapped_columns() | ({extra} if extra else set())

    def _load(self) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
        path = self.options.path
        if not path.is_file():
            raise ConnectorError(f"source {self.name!r}: file not found: {path}")
        try:
            data = path.read_bytes()
        except OSError as error:
            message = f"source {self.name!r}: cannot parse {path.name}: {error}"
            raise ConnectorError(message) from error
        return self.parse(data)

    def _bad_line(self, record: BadRecord) -> QuarantinedRow:
        return QuarantinedRow(
            source=self.name,
            row_ref=f"{self._label}:{record.line}",
            reason=record.reason,
            detail=printable(record.detail, 1000),
            raw=printable(record.raw),
        )

    def _split_conflicts(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
        """Separates rows repeating an earlier row's id and timestamp with other content.

        The same id at another timestamp is an edit (the store keeps the latest); the same
        id, timestamp and content is a harmless repeat. The same id and timestamp with other
        content cannot be ordered: the first row in the file is kept, the others quarantined.
        """
        if frame.empty:
            return frame, []
        seen: dict[tuple[str, object], str] = {}
        conflicts: list[QuarantinedRow] = []
        keep: list[bool] = []
        for row in frame.to_dict("records"):
            key = (self._rows.external_id(row), row["_cursor"])
            content = raw_json({k: v for k, v in row.items() if not k.startswith("_")})
            first = seen.setdefault(key, content)
            if first != content and key[0]:
                conflicts.append(
                    self._rows.quarantine(row, "duplicate_conflict", "same id and timestamp as "
                                          "an earlier row with different content; the first "
                                          "is kept")
                )  # fmt: skip
                keep.append(False)
            else:
                keep.append(True)
        return frame[keep], conflicts


def _object_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as an all-object frame: no column is coerced (ids stay "7", not 7.0)."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    return pd.DataFrame(
        {c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
        columns=columns,
    )
