"""Decoding and record splitting for text files, tolerant of bad bytes and broken records.

A file must never fail as a whole because of one bad row: undecodable bytes are kept as lone
surrogates (``surrogateescape``) so the rows holding them can be quarantined, and records with
the wrong number of fields or broken JSON are returned as ``BadRecord`` with their line
number, while every good record of the same file is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

# Lone surrogates U+DC80..U+DCFF are what "surrogateescape" makes of undecodable bytes.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
# csv's default field limit (128 KiB) would stop the whole file at one long text; texts that
# are too long are quarantined per row by the connector instead.
_FIELD_LIMIT = 64 * 1024 * 1024
_RAW_LIMIT = 10_000


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be split into fields.

    Attributes:
        line: First physical line of the record (1-based).
        reason: Machine-readable reason ("invalid_json", "invalid_row", "malformed_row").
        detail: What is wrong.
        raw: The record's text (cut to 10,000 characters).
    """

    line: int
    reason: str
    detail: str
    raw: str


def decode_bytes(data: bytes, encoding: str) -> tuple[str, str]:
    """Decodes a whole file, keeping undecodable bytes as lone surrogates.

    ``encoding="auto"`` honours a BOM, else takes UTF-8, unless most non-ASCII bytes are not
    valid UTF-8 and the file decodes cleanly as CP949 (Korean Windows exports). A UTF-8 file
    with a few bad bytes stays UTF-8, and only the rows holding them are quarantined.

    Args:
        data: File content.
        encoding: A Python codec name, or "auto".

    Returns:
        The text and the encoding used.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "surrogateescape"), name
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be", "surrogateescape"), "utf-16-be"
    if encoding != "auto":
        return data.decode(encoding, "surrogateescape"), encoding
    text = data.decode("utf-8", "surrogateescape")
    bad = len(_UNDECODABLE.findall(text))
    if bad == 0:
        return text, "utf-8"
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if bad > good:
        try:
            return data.decode("cp949"), "cp949"
        except UnicodeDecodeError:
            pass
    return text, "utf-8"


def has_undecodable(value: object) -> bool:
    """True when a decoded value still holds bytes that were not valid in its encoding."""
    return isinstance(value, str) and bool(_UNDECODABLE.search(value))


def printable(text: str, limit: int = _RAW_LIMIT) -> str:
    r"""Makes text with undecodable bytes storable: each bad byte becomes ``\xNN``."""
    cut = text[:limit]
    return cut.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_delimited(
    text: str, delimiter: str, file_name: str
) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Splits CSV/TSV text into records keyed by the header.

    Quoted fields may hold delimiters and line breaks. A record whose field count differs
    from the header's (an unbalanced quote swallowing later lines shows up the same way) is a
    ``BadRecord``; blank lines are skipped.

    Args:
        text: Decoded file content.
        delimiter: "," or a tab.
        file_name: For the row references.

    Returns:
        Records (each with ``_row_ref``) and bad records.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return [], []
    header = _unique(header)
    records: list[dict[str, Any]] = []
    bad: list[BadRecord] = []
    line = reader.line_num + 1
    for fields in reader:
        start, line = line, reader.line_num + 1
        if not fields or fields == [""]:
            continue
        if len(fields) != len(header):
            bad.append(
                BadRecord(
                    line=start,
                    reason="malformed_row",
                    detail=f"{len(fields)} fields, header has {len(header)}",
                    raw=delimiter.join(fields)[:_RAW_LIMIT],
                )
            )
            continue
        record: dict[str, Any] = dict(zip(header, fields, strict=True))
        record["_row_ref"] = f"{file_name}:{start}"
        records.append(record)
    return records, bad


def read_jsonl(text: str, file_name: str) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Parses JSON Lines; truncated or non-object lines become ``BadRecord``.

    Args:
        text: Decoded file content.
        file_name: For the row references.

    Returns:
        Records (each with ``_row_ref``) and bad records.
    """
    records: list[dict[str, Any]] = []
    bad: list[BadRecord] = []
    # Split on "\n" only: str.splitlines() would also split inside strings holding U+2028.
    for line_no, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            # NaN and Infinity are not JSON; Python would accept them as floats.
            record = json.loads(line, parse_constant=_reject_constant)
        except ValueError as error:
            bad.append(BadRecord(line_no, "invalid_json", str(error), line[:_RAW_LIMIT]))
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            bad.append(BadRecord(line_no, "invalid_row", f"a JSON {kind}, not an object", line))
            continue
        record["_row_ref"] = f"{file_name}:{line_no}"
        records.append(record)
    return records, bad


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique(header: list[str]) -> list[str]:
    # Repeated column names get ".1", ".2" like pandas, so no value is silently dropped.
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out
