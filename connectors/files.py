"""File connector: CSV, TSV, JSONL and Parquet files with a column mapping from config.

Incremental by a cursor column (a date or timestamp): rows at or after the bookmark are read in
cursor order. The bookmark is inclusive (>=) because many rows can share one timestamp; rows read
twice are deduplicated by the store's upsert on the item key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.base import Batch, Bookmark, ConnectorError
from connectors.schema import (
    Channel,
    FeedbackItem,
    QuarantinedRow,
    Score,
    ScoreType,
    hash_customer,
    raw_json,
)

FileFormat = Literal["csv", "tsv", "jsonl", "parquet"]
_SUFFIX_FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
# Timestamps more than this far in the future are clock or parsing errors, not feedback.
_FUTURE_TOLERANCE = timedelta(days=1)
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"


class ColumnMap(BaseModel):
    """Which file column feeds which ``FeedbackItem`` field.

    Attributes:
        id: Column holding the item id, or several columns whose values together identify a
            row (hashed into one id) when the file has no id column.
        text: Customer text column.
        created_at: Creation date/time column.
        updated_at: Last-change column, if the file tracks edits.
        title: Title/subject column.
        score: Numeric score column (its scale is declared in ``FileSourceOptions.score``).
        customer: Raw customer identifier column (hashed before storage).
        url: Link column (absolute, or relative to ``url_base``).
        product: Product/brand column.
        language: Language code column, if the file has one.
        segment: Columns copied into ``segment`` for per-segment analysis.
    """

    model_config = ConfigDict(extra="forbid")

    id: str | list[str]
    text: str
    created_at: str
    updated_at: str | None = None
    title: str | None = None
    score: str | None = None
    customer: str | None = None
    url: str | None = None
    product: str | None = None
    language: str | None = None
    segment: list[str] = Field(default_factory=list)


class ScoreMapping(BaseModel):
    """Declares the scale of the score column.

    Attributes:
        type: The scale (nps 0-10, csat 1-5, ces 1-7, stars 1-5).
        derived_from: Say so when the value is not a genuine answer on that scale (e.g.
            "1-10 overall rating"); reports print it.
    """

    model_config = ConfigDict(extra="forbid")

    type: ScoreType
    derived_from: str | None = None


class FileSourceOptions(BaseModel):
    """Options of one file source (the ``options`` block of a source in configs/).

    Attributes:
        path: File path (relative paths are resolved against the project root).
        format: File format; taken from the extension when omitted.
        channel: Channel of every row.
        columns: Column mapping.
        score: Scale of the score column.
        cursor_column: Incremental cursor column; defaults to the updated/created column.
        timezone: Timezone of naive timestamps in the file (IANA name).
        min_date: Rows dated before this are quarantined as ``date_out_of_range``.
        language: Language of every row when known and the file has no language column.
        url_base: Prefix for relative links.
        batch_size: Rows per batch (one persisted step, one bookmark).
        encoding: Text encoding of CSV/TSV/JSONL files.
    """

    model_config = ConfigDict(extra="forbid")

    path: Path
    format: FileFormat | None = None
    channel: Channel
    columns: ColumnMap
    score: ScoreMapping | None = None
    cursor_column: str | None = None
    timezone: str = "UTC"
    min_date: date | None = None
    language: str | None = None
    url_base: str | None = None
    batch_size: int = Field(default=500, ge=1)
    encoding: str = "utf-8"


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
        if suffix not in _SUFFIX_FORMATS:
            raise ConnectorError(
                f"source {self.name!r}: cannot tell the format of {self.options.path.name}; "
                f"set options.format to one of {sorted(set(_SUFFIX_FORMATS.values()))}"
            )
        return _SUFFIX_FORMATS[suffix]

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
        missing = sorted(self._mapped_columns() - set(frame.columns))
        if missing:
            raise ConnectorError(f"source {self.name!r}: columns {missing} missing")
        if unparsable:
            yield Batch(quarantined=unparsable, rows_read=len(unparsable))
        if frame.empty:
            return
        cursor_col = self.cursor_field
        assert cursor_col is not None  # noqa: S101 - set in __init__ from a required column
        cursor = self._parse_times(frame[cursor_col])
        frame = frame.assign(_cursor=cursor)
        bad_cursor = frame[frame["_cursor"].isna()]
        if not bad_cursor.empty:
            yield Batch(
                quarantined=[
                    self._quarantine(row, "invalid_date", f"cannot parse {cursor_col!r}")
                    for row in bad_cursor.to_dict("records")
                ],
                rows_read=len(bad_cursor),
            )
        frame = frame[frame["_cursor"].notna()]
        if bookmark is not None:
            since = pd.Timestamp(bookmark.value)
            frame = frame[frame["_cursor"] >= since]
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
            if fmt == "jsonl":
                return self._load_jsonl(path)
            return (
                pd.read_csv(
                    path,
                    sep="\t" if fmt == "tsv" else ",",
                    dtype=str,
                    keep_default_na=False,
                    encoding=self.options.encoding,
                ),
                [],
            )
        except (ValueError, UnicodeDecodeError, OSError) as error:
            message = f"source {self.name!r}: cannot parse {path.name}: {error}"
            raise ConnectorError(message) from error

    def _load_jsonl(self, path: Path) -> tuple[pd.DataFrame, list[QuarantinedRow]]:
        records: list[dict[str, Any]] = []
        bad: list[QuarantinedRow] = []
        with path.open(encoding=self.options.encoding, errors="strict") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    bad.append(self._bad_line(path, line_no, line, "invalid_json", str(error)))
                    continue
                if not isinstance(record, dict):
                    bad.append(self._bad_line(path, line_no, line, "invalid_row", "not an object"))
                    continue
                record["_row_ref"] = f"{path.name}:{line_no}"
                records.append(record)
        return pd.DataFrame.from_records(records), bad

    def _bad_line(
        self, path: Path, line_no: int, line: str, reason: str, detail: str
    ) -> QuarantinedRow:
        return QuarantinedRow(
            source=self.name,
            row_ref=f"{path.name}:{line_no}",
            reason=reason,
            detail=detail,
            raw=line[:10_000],
        )

    def _parse_times(self, values: pd.Series) -> pd.Series:
        """Parses timestamps to UTC; naive ones are read in the configured timezone."""
        text = values.astype(str).str.strip()
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
        ref = str(row.get("_row_ref") or f"{self.options.path.name}:id={self._external_id(row)}")
        return QuarantinedRow(
            source=self.name, row_ref=ref, reason=reason, detail=detail, raw=raw_json(clean)
        )

    def _external_id(self, row: dict[str, Any]) -> str:
        id_cols = self.options.columns.id
        if isinstance(id_cols, str):
            return _text(row.get(id_cols))
        joined = "\x1f".join(_text(row.get(col)) for col in id_cols)
        return "h" + hashlib.sha256(joined.encode()).hexdigest()[:24]

    def _to_item(self, row: dict[str, Any]) -> FeedbackItem | QuarantinedRow:
        cols, opts = self.options.columns, self.options
        external_id = self._external_id(row)
        if not external_id:
            return self._quarantine(row, "missing_id", f"empty id column {cols.id!r}")
        text = _text(row.get(cols.text))
        if not text.strip():
            return self._quarantine(row, "empty_text", f"empty text column {cols.text!r}")
        created = self._one_time(row.get(cols.created_at))
        if created is None:
            return self._quarantine(row, "invalid_date", f"cannot parse {cols.created_at!r}")
        if opts.min_date and created.date() < opts.min_date:
            return self._quarantine(row, "date_out_of_range", f"before {opts.min_date}")
        now = self._now or datetime.now(UTC)
        if created > now + _FUTURE_TOLERANCE:
            return self._quarantine(row, "future_date", f"{created.isoformat()} is in the future")
        updated = self._one_time(row.get(cols.updated_at)) if cols.updated_at else None
        score: Score | None = None
        if cols.score and opts.score:
            raw_score = _text(row.get(cols.score)).strip()
            if raw_score:
                try:
                    value = float(raw_score)
                except ValueError:
                    return self._quarantine(row, "invalid_score", f"{raw_score!r} is not a number")
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
        if value is None or _text(value).strip() == "":
            return None
        parsed = self._parse_times(pd.Series([value])).iloc[0]
        if pd.isna(parsed):
            return None
        return pd.Timestamp(parsed).to_pydatetime()


def _text(value: object) -> str:
    """Cell value as text; NaN/None become empty (pandas and JSON give both)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
