"""The connector interface every source implements (Singer/Airbyte-style bookmarks).

A connector reads items whose cursor is at or after the bookmark, in cursor order, and yields
``Batch`` objects. Each batch carries the bookmark that becomes valid once that batch and all
earlier ones are persisted; the caller saves it only then, so a crash re-reads, never skips.
Re-read items are harmless because the store upserts by item key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from connectors.schema import FeedbackItem, QuarantinedRow

# How far a bookmark may run ahead of the clock (the source's clock against ours). Never more:
# a row written after this run with a cursor below a bookmark that raced ahead (a row dated
# 2099, a timezone read wrong) would be skipped on every later run.
MAX_CURSOR_SKEW = timedelta(minutes=5)


class ConnectorError(Exception):
    """A source cannot be read (misconfigured, unreachable, unauthorised); says what to fix."""


@dataclass(frozen=True)
class Bookmark:
    """Incremental state of one source.

    Attributes:
        cursor_field: Name of the field the cursor tracks (e.g. "updated_at").
        value: Cursor value as an ISO-8601 UTC string (or an opaque token for APIs).
    """

    cursor_field: str
    value: str


def cursor_limit(now: datetime | None = None) -> datetime:
    """The latest cursor a bookmark may hold now (``now`` + ``MAX_CURSOR_SKEW``, UTC)."""
    return (now or datetime.now(UTC)) + MAX_CURSOR_SKEW


def bookmark_time(bookmark: Bookmark) -> datetime | None:
    """The time a bookmark stands at, when it is a time.

    An ISO-8601 value with a zone, or a JSON token carrying one under ``"utc"`` (the SQL
    keyset position); None for opaque tokens (vendor cursors, file manifests, id maps).
    """
    value = bookmark.value.strip()
    if value.startswith("{"):
        try:
            value = str(json.loads(value).get("utc") or "")
        except (ValueError, AttributeError):
            return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def target_cursors(bookmark: Bookmark | None, targets: list[str]) -> dict[str, str]:
    """The per-target cursor map of a bookmark (videos, queries, tags: one cursor each).

    A source that reads several targets keeps one cursor per target in a JSON map, so that a
    target added later is read from its own start. An older single-value bookmark holds for
    every target.

    Args:
        bookmark: The saved bookmark, or None on a first run.
        targets: The source's targets now (for an old single-value bookmark).
    """
    if bookmark is None:
        return {}
    value = bookmark.value.strip()
    if value.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(value).items()}
    return dict.fromkeys(targets, value)


@dataclass
class Batch:
    """Items read from a source in one step.

    Attributes:
        items: Valid feedback items.
        quarantined: Rows that failed validation, with reasons.
        bookmark: State to save after this batch is persisted (None: no cursor).
        rows_read: Raw rows consumed, valid or not.
        deleted: External ids the source reports deleted; ingest removes those items (and
            what derives from them) in the same step that persists the batch.
        gaps: Places where the source may have dropped items that vocflow can never read back
            (a vendor's lookback window that a missed run outlived, a listing capped at N
            items); each a one-line reason. Ingest logs them and the run records them in
            ``run.json`` under ``gaps``.
    """

    items: list[FeedbackItem] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    bookmark: Bookmark | None = None
    rows_read: int = 0
    deleted: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


@runtime_checkable
class Connector(Protocol):
    """A source of feedback.

    Attributes:
        name: Source instance name from config (unique; part of every item key).
        primary_key: Source field that identifies an item within the source.
        cursor_field: Source field used for incremental reads, or None for full refresh.
    """

    name: str
    primary_key: str
    cursor_field: str | None

    def check(self) -> str:
        """Verifies that the source is reachable and readable.

        Returns:
            A one-line description of what was checked.

        Raises:
            ConnectorError: With an actionable message when it is not.
        """
        ...

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Reads items at or after ``bookmark`` (everything when None), in cursor order."""
        ...
