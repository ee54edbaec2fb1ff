"""Options of a file source: format, column mapping, score scale, parsing limits."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.schema import Channel, ScoreType

FileFormat = Literal["csv", "tsv", "jsonl", "parquet"]
SUFFIX_FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


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


class MappingOptions(BaseModel):
    """How rows become feedback items, shared by every tabular source (files, SQL, objects).

    Attributes:
        channel: Channel of every row.
        columns: Column mapping.
        score: Scale of the score column.
        timezone: Timezone of naive timestamps in the source (IANA name).
        min_date: Rows dated before this are quarantined as ``date_out_of_range``.
        language: Language of every row when known and the source has no language column.
        phone_region: Country whose national phone formats are redacted (ISO 3166 alpha-2,
            "DE"); default: the country of ``language`` (vocflow/privacy.py).
        url_base: Prefix for relative links.
        batch_size: Rows per batch (one persisted step, one bookmark).
        max_text_chars: Longer texts are quarantined as ``text_too_long``.
    """

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    columns: ColumnMap
    score: ScoreMapping | None = None
    timezone: str = "UTC"
    min_date: date | None = None
    language: str | None = None
    phone_region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    url_base: str | None = None
    batch_size: int = Field(default=500, ge=1)
    max_text_chars: int = Field(default=100_000, ge=1)


class FileSourceOptions(MappingOptions):
    """Options of one file source (the ``options`` block of a source in configs/).

    Besides the ``MappingOptions`` fields:

    Attributes:
        path: File path (relative paths are resolved against the project root).
        format: File format; taken from the extension when omitted.
        cursor_column: Incremental cursor column; defaults to the updated/created column.
        encoding: Text encoding of CSV/TSV/JSONL files, or "auto" (UTF-8, or CP949 when the
            file is not UTF-8; a byte-order mark always wins).
    """

    path: Path
    format: FileFormat | None = None
    cursor_column: str | None = None
    encoding: str = "auto"


# Reason codes of quarantined rows (the file connector's, and ``no_text_content`` from ingest).
QUARANTINE_REASONS: dict[str, str] = {
    "missing_id": "the id column is empty",
    "missing_date": "the date or cursor column is empty",
    "invalid_date": "the date cannot be parsed (or is a number, a list, ...)",
    "date_out_of_range": "dated before options.min_date",
    "future_date": "dated more than a day in the future",
    "empty_text": "no text",
    "text_too_long": "text longer than options.max_text_chars",
    "invalid_type": "a value of the wrong type (a list or object as id or text, ...)",
    "invalid_score": "the score is not a finite number",
    "score_out_of_range": "the score is outside its scale",
    "invalid_encoding": "bytes that are not valid in the file's encoding",
    "invalid_json": "a JSON Lines line that does not parse (e.g. truncated)",
    "invalid_row": "a JSON value that is not an object, or a row the schema rejects",
    "malformed_row": "a CSV/TSV record with the wrong number of fields",
    "duplicate_conflict": "same id and timestamp as an earlier row, different content",
    "unreadable_file": "an object-store file that does not parse or lacks mapped columns",
}
