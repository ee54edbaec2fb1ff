"""File connector: CSV, TSV, JSONL and Parquet files with a column mapping from config.

Incremental by a cursor column (a date or timestamp): rows at or after the bookmark are read in
cursor order. The bookmark is inclusive (>=) because many rows can share one timestamp; rows read
twice are deduplicated by the store's upsert on the item key.

Bad rows never fail the file: each is quarantined with a reason code (``QUARANTINE_REASONS``)
and every good row of the same file is read. Encodings are detected per file (UTF-8 or CP949,
see ``connectors.text_io``); rows with undecodable bytes, broken records, wrong value types,
over-long texts and conflicting duplicates are quarantined row by row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from pydantic import ValidationError

from connectors.base import Batch, Bookmark, ConnectorError
from connectors.file_options import (
    QUARANTINE_REASONS,
    SUFFIX_FORMATS,
    ColumnMap,
    FileFormat,
    FileSourceOptions,
    ScoreMapping,
)
from connectors.schema import (
    FeedbackItem,
    QuarantinedRow,
    Score,
    hash_customer,
    raw_json,
)
from connectors.text_io import (
    BadRecord,
    decode_bytes,
    has_undecodable,
    printable,
    read_delimited,
    read_jsonl,
)

# Timestamps more than this far in the future are clock or parsing errors, not feedback.
_FUTURE_TOLERANCE = timedelta(days=1)
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"

__all__ = ["QUARANTINE_REASONS", "ColumnMap", "FileConnector", "FileSourceOptions", "ScoreMapping"]


class FileConnector:
    """Reads one file source.

    Args:
        name: Source instance name.
        options: Validated file options.
        customer_salt: Secret salt for hashing customer identifiers.
        now: Clock for the future-date check (tests pin it).
    """

    def __init__(
        self,
        name: str,
        options: FileSourceOptions,
        customer_salt: str,
        now: datetime | None = None,
    ) -> None:
        self.name = name
        self.options = options
        id_cols = options.columns.id
        self.primary_key = id_cols if isinstance(id_cols, str) else "+".join(id_cols)
        self.cursor_field: str | None = (
            options.cursor_column or options.columns.updated_at or options.columns.created_at
        )
        self._salt = customer_salt
        self._now = now

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
        missing = sorted(self._mapped_columns() - set(frame.columns))
        if missing:
            raise ConnectorError(
                f"source {self.name!r}: columns {missing} not in {self.options.path.name} "
                f"(has {sorted(frame.columns)[:20]})"
            )
        return f"{self.options.path} readable, {len(frame)} rows, mapped columns present"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields batches of rows at or after the bookmark, in cursor order."""
        frame, unparsable = self._load()
        if unparsable:
            yield Batch(quarantined=unparsable, rows_read=len(unparsable))
        if frame.empty:
            return
        missing = self._mapped_columns() - set(frame.columns)
        if self.file_format == "jsonl":
            # JSON Lines records leave out null keys: an optional key that no record has is
            # an all-null column, not a misconfiguration.
            cols = self.options.columns
            required = {*([cols.id] if isinstance(cols.id, str) else cols.id), cols.text}
            for column in missing - required - {cols.created_at}:
                frame[column] = None
            missing &= required | {cols.created_at}
        if missing:
            raise ConnectorError(f"source {self.name!r}: columns {sorted(missing)} missing")
        cursor_col = self.cursor_field
        assert cursor_col is not None  # noqa: S101 - set in __init__ from a required column
        cursor = self._parse_times(frame[cursor_col])
        frame = frame.assign(_cursor=cursor)
        bad_cursor = frame[frame["_cursor"].isna()]
        if not bad_cursor.empty:
            yield Batch(
                quarantined=[
                    self._bad_cursor(row, cursor_col) for row in bad_cursor.to_dict("records")
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
        for start in range(0, len(frame), size):
            chunk = frame.iloc[start : start + size]
            batch = Batch(rows_read=len(chunk))
            for row in chunk.to_dict("records"):
                outcome = self._to_item(row)
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = chunk["_cursor"].iloc[-1]
            batch.bookmark = Bookmark(cursor_col, last.isoformat())
            yield batch

    def _mapped_columns(self) -> set[str]:
        cols = self.options.columns
        ids = [cols.id] if isinstance(cols.id, str) else cols.id
        optional = [cols.updated_at, cols.title, cols.score, cols.customer, cols.url]
        optional += [cols.product, cols.language, self.options.cursor_column]
        return {*ids, cols.text, cols.created_at, *cols.segment} | {c for c in optional if c}

    def _load(self) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
        path = self.options.path
        if not path.is_file():
            raise ConnectorError(f"source {self.name!r}: file not found: {path}")
        fmt = self.file_format
        try:
            if fmt == "parquet":
                return pd.read_parquet(path).astype(object), []
            text, _ = decode_bytes(path.read_bytes(), self.options.encoding)
        except (ValueError, LookupError, OSError) as error:
            message = f"source {self.name!r}: cannot parse {path.name}: {error}"
            raise ConnectorError(message) from error
        if fmt == "jsonl":
            records, bad = read_jsonl(text, path.name)
        else:
            records, bad = read_delimited(text, "\t" if fmt == "tsv" else ",", path.name)
        return _object_frame(records), [self._bad_line(b) for b in bad]

    def _bad_line(self, record: BadRecord) -> QuarantinedRow:
        return QuarantinedRow(
            source=self.name,
            row_ref=f"{self.options.path.name}:{record.line}",
            reason=record.reason,
            detail=printable(record.detail, 1000),
            raw=printable(record.raw),
        )

    def _bad_cursor(self, row: dict[str, Any], column: str) -> QuarantinedRow:
        if _time_text(row.get(column)) == "" and _text(row.get(column)).strip() == "":
            return self._quarantine(row, "missing_date", f"empty {column!r}")
        return self._quarantine(row, "invalid_date", f"cannot parse {column!r}")

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
            key = (self._external_id(row), row["_cursor"])
            content = raw_json({k: v for k, v in row.items() if not k.startswith("_")})
            first = seen.setdefault(key, content)
            if first != content and key[0]:
                conflicts.append(
                    self._quarantine(row, "duplicate_conflict", "same id and timestamp as an "
                                     "earlier row with different content; the first is kept")
                )  # fmt: skip
                keep.append(False)
            else:
                keep.append(True)
        return frame[keep], conflicts

    def _parse_times(self, values: pd.Series) -> pd.Series:
        """Parses timestamps to UTC; naive ones are read in the configured timezone."""
        text = values.map(_time_text).str.strip()
        aware = text.str.contains(_TZ_SUFFIX, regex=True)
        result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        if aware.any():
            result[aware] = pd.to_datetime(
                text[aware], errors="coerce", utc=True, format="mixed"
            ).astype("datetime64[ns, UTC]")
        if (~aware).any():
            naive = pd.to_datetime(text[~aware], errors="coerce", format="mixed")
            local = naive.dt.tz_localize(self.options.timezone, ambiguous="NaT", nonexistent="NaT")
            result[~aware] = local.dt.tz_convert(UTC).astype("datetime64[ns, UTC]")
        return result

    def _quarantine(self, row: dict[str, Any], reason: str, detail: str) -> QuarantinedRow:
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        customer_col = self.options.columns.customer
        if customer_col and _text(clean.get(customer_col)).strip():
            # The raw customer id is never stored, not even for a bad row; its hash lets
            # `vocflow forget` find the row.
            clean[customer_col] = "customer_key:" + hash_customer(
                _text(clean[customer_col]), self._salt
            )
        ref = str(row.get("_row_ref") or f"{self.options.path.name}:id={self._external_id(row)}")
        return QuarantinedRow(
            source=self.name,
            row_ref=printable(ref, 500),
            reason=reason,
            detail=printable(detail, 1000),
            raw=printable(raw_json(clean)),
        )

    def _external_id(self, row: dict[str, Any]) -> str:
        id_cols = self.options.columns.id
        if isinstance(id_cols, str):
            return _id_text(row.get(id_cols))
        joined = "\x1f".join(_text(row.get(col)) for col in id_cols)
        return "h" + hashlib.sha256(joined.encode()).hexdigest()[:24]

    def _to_item(self, row: dict[str, Any]) -> FeedbackItem | QuarantinedRow:
        cols, opts = self.options.columns, self.options
        undecodable = sorted(k for k, v in row.items() if has_undecodable(v))
        if undecodable:
            detail = f"undecodable bytes in {undecodable} (not {opts.encoding})"
            return self._quarantine(row, "invalid_encoding", detail)
        ids = [cols.id] if isinstance(cols.id, str) else cols.id
        for column in [*ids, cols.text]:
            value = row.get(column)
            if isinstance(value, bool | list | dict | tuple) or (
                column in ids and isinstance(value, float) and not float(value).is_integer()
            ):
                kind = type(value).__name__
                return self._quarantine(row, "invalid_type", f"{column!r} is a {kind}")
        external_id = self._external_id(row)
        if not external_id.strip():
            return self._quarantine(row, "missing_id", f"empty id column {cols.id!r}")
        raw_text = row.get(cols.text)
        if raw_text is not None and not isinstance(raw_text, str) and not _is_missing(raw_text):
            kind = type(raw_text).__name__
            return self._quarantine(row, "invalid_type", f"text {cols.text!r} is a {kind}")
        text = _text(raw_text)
        if not text.strip():
            return self._quarantine(row, "empty_text", f"empty text column {cols.text!r}")
        if len(text) > opts.max_text_chars:
            detail = f"{len(text):,} characters > max_text_chars {opts.max_text_chars:,}"
            return self._quarantine(row, "text_too_long", detail)
        created = self._one_time(row.get(cols.created_at))
        if created is None:
            return self._bad_cursor(row, cols.created_at)
        if opts.min_date and created.date() < opts.min_date:
            return self._quarantine(row, "date_out_of_range", f"before {opts.min_date}")
        now = self._now or datetime.now(UTC)
        if created > now + _FUTURE_TOLERANCE:
            return self._quarantine(row, "future_date", f"{created.isoformat()} is in the future")
        updated = self._one_time(row.get(cols.updated_at)) if cols.updated_at else None
        score: Score | None = None
        if cols.score and opts.score:
            cell = row.get(cols.score)
            raw_score = _text(cell).strip()
            if isinstance(cell, bool | list | dict):
                return self._quarantine(row, "invalid_score", f"a {type(cell).__name__}")
            if raw_score:
                try:
                    value = float(raw_score)
                except ValueError:
                    return self._quarantine(row, "invalid_score", "not a number")
                if not math.isfinite(value):
                    return self._quarantine(row, "invalid_score", f"{value} is not finite")
                try:
                    score = Score(
                        type=opts.score.type, value=value, derived_from=opts.score.derived_from
                    )
                except ValidationError as error:
                    detail = error.errors()[0]["msg"]
                    return self._quarantine(row, "score_out_of_range", detail)
        customer = _text(row.get(cols.customer)) if cols.customer else ""
        url = _text(row.get(cols.url)) if cols.url else ""
        if url and opts.url_base and not url.startswith(("http://", "https://")):
            url = opts.url_base.rstrip("/") + "/" + url.lstrip("/")
        try:
            return FeedbackItem(
                source=self.name,
                external_id=external_id,
                channel=opts.channel,
                created_at=created,
                updated_at=updated,
                text=text,
                title=(_text(row.get(cols.title)) or None) if cols.title else None,
                score=score,
                language=(
                    (_text(row.get(cols.language)) or None) if cols.language else opts.language
                ),
                product=(_text(row.get(cols.product)) or None) if cols.product else None,
                segment={c: _text(row.get(c)) for c in cols.segment if _text(row.get(c))},
                customer_key=hash_customer(customer, self._salt) if customer else None,
                url=url or None,
            )
        except ValidationError as error:
            return self._quarantine(row, "invalid_row", str(error.errors()[0]["msg"]))

    def _one_time(self, value: object) -> datetime | None:
        if _time_text(value).strip() == "":
            return None
        parsed = self._parse_times(pd.Series([value])).iloc[0]
        if pd.isna(parsed):
            return None
        return pd.Timestamp(parsed).to_pydatetime()


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: object) -> str:
    """Cell value as text; NaN/None/NaT become empty (pandas and JSON give all three)."""
    if _is_missing(value):
        return ""
    return str(value)


def _id_text(value: object) -> str:
    """Id cell as text: whole floats (Parquet ints with nulls) lose their ".0"."""
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        return str(int(value))
    return _text(value)


def _time_text(value: object) -> str:
    """Date cell as text to parse; numbers, booleans and containers are not dates."""
    if _is_missing(value) or isinstance(value, bool | int | float | list | dict):
        return ""
    return str(value)


def _object_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as an all-object frame: no column is coerced (ids stay "7", not 7.0)."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    return pd.DataFrame(
        {c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
        columns=columns,
    )
