"""Ingestion: read a connector batch by batch, prepare each item, persist, then advance state.

Preparation (cleaning, PII redaction, language detection, content hash) happens before an item
is stored, so that nothing downstream (embeddings, reports, logs) ever sees raw PII.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from connectors.base import Batch, Bookmark, Connector, bookmark_time, cursor_limit
from connectors.schema import FeedbackItem, QuarantinedRow, item_key, raw_json
from nlp.language import detect_language
from nlp.text import content_hash, normalize_text
from vocflow.erasure import delete_items, erased_customers
from vocflow.faults import checkpoint
from vocflow.privacy import PrivacyPolicy, has_text_content, sanitize_url
from vocflow.store import Store, UpsertCounts


@dataclass
class IngestCounts:
    """What ingesting one source did.

    Attributes:
        source: Source name.
        rows_read: Raw rows consumed.
        new: Items stored for the first time.
        updated: Stored items replaced by a later version.
        unchanged: Items read again with nothing new.
        duplicates: Rows repeating an item key within one batch (kept once).
        quarantined: Bad rows seen in this run.
        quarantined_new: Bad rows not seen in earlier runs.
        batches: Batches persisted.
        bookmark: Cursor value saved at the end.
        pii_redacted: Redactions by kind.
        skipped_erased: Items of forgotten customers, not stored again.
        skipped_expired: Items older than the retention period, not stored.
        deleted: Stored items removed because the source reported them deleted.
        bookmarks_held: Batches whose bookmark was not saved because it lay beyond the clock
            (``connectors.base.cursor_limit``); their rows are read again next run.
        gaps: What the source said may be lost beyond reach (``Batch.gaps``), each once.
    """

    source: str
    rows_read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantined_new: int = 0
    batches: int = 0
    bookmark: str | None = None
    pii_redacted: dict[str, int] = field(default_factory=dict)
    skipped_erased: int = 0
    deleted: int = 0
    skipped_expired: int = 0
    bookmarks_held: int = 0
    gaps: list[str] = field(default_factory=list)


def prepare_items(
    items: Iterable[FeedbackItem], policy: PrivacyPolicy | None = None
) -> pd.DataFrame:
    """Turns feedback items into store rows with cleaned, redacted text.

    Args:
        items: Validated feedback items.
        policy: Redaction and raw-text policy (default: redact everything, keep no raw text).

    Returns:
        One row per item with the store's item columns.
    """
    policy = policy or PrivacyPolicy()
    rows = []
    for item in items:
        redaction = policy.clean(item.text)
        clean = redaction.text
        detected = detect_language(clean)
        rows.append(
            {
                "item_key": item.item_key,
                "source": item.source,
                "external_id": item.external_id,
                "channel": item.channel.value,
                "created_at": item.created_at,
                "updated_at": item.effective_updated_at,
                "text": policy.stored_text(item.text, clean),
                "title": policy.stored_optional(item.title),
                "score": item.score.value if item.score else None,
                "score_type": item.score.type.value if item.score else None,
                "score_derived_from": item.score.derived_from if item.score else None,
                # A confident detection beats the source's declared language: sources mix.
                "language": detected if detected != "und" else (item.language or "und"),
                "product": item.product,
                "segment": json.dumps(
                    policy.segment(item.segment), ensure_ascii=False, sort_keys=True
                ),
                "customer_key": item.customer_key,
                "url": sanitize_url(item.url),
                "thread": json.dumps(
                    policy.thread([m.model_dump(mode="json") for m in item.thread])
                ),
                "text_clean": clean,
                "text_hash": content_hash(clean),
                "pii_found": json.dumps(redaction.counts, sort_keys=True),
                "payload_hash": _payload_hash(item),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        for column in ("created_at", "updated_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def quarantine_rows(
    rows: Iterable[QuarantinedRow], policy: PrivacyPolicy | None = None
) -> pd.DataFrame:
    """Turns quarantined rows into store rows, redacted unless raw text is kept."""
    policy = policy or PrivacyPolicy()
    return pd.DataFrame(
        [
            {
                "row_hash": row.row_hash,
                "source": row.source,
                "row_ref": row.row_ref,
                "reason": row.reason,
                "detail": policy.redact_json(row.detail),
                "raw": policy.redact_json(row.raw),
            }
            for row in rows
        ],
        columns=["row_hash", "source", "row_ref", "reason", "detail", "raw"],
    )


def ingest_source(
    connector: Connector,
    store: Store,
    run_id: str,
    on_batch: Callable[[IngestCounts], None] | None = None,
    policy: PrivacyPolicy | None = None,
    write_lock: AbstractContextManager[Any] | None = None,
    now: datetime | None = None,
) -> IngestCounts:
    """Reads a source incrementally into the store.

    Each batch is prepared and written in its own transaction; the source's bookmark is saved
    only after that, so a crash at any point re-reads from the last persisted batch and the
    idempotent upsert absorbs what is read twice.

    Args:
        connector: The source.
        store: Destination store.
        run_id: Current run (recorded on new items and quarantined rows).
        on_batch: Called with the running counts after each persisted batch (progress).
        policy: Redaction, raw-text and retention policy (default: redact all, keep no raw
            text, no retention).
        write_lock: Held while a batch is written, when several sources are read at once
            into one store: reading overlaps, writes take turns (one DuckDB writer).
        now: Clock for the bookmark's upper limit (tests pin it; default: the time now).

    Returns:
        Counts for the source.
    """
    policy = policy or PrivacyPolicy()
    counts = IngestCounts(source=connector.name)
    saved = store.get_bookmark(connector.name)
    bookmark = Bookmark(*saved) if saved else None
    erased = erased_customers(store)
    for batch in connector.read(bookmark):
        if batch.bookmark is not None and _beyond_clock(batch.bookmark, now):
            # Every connector should stop short of the clock itself; this is the net under
            # all of them. The previous bookmark stays: the next run re-reads, never skips.
            batch.bookmark = None
            counts.bookmarks_held += 1
        counts.gaps.extend(gap for gap in batch.gaps if gap not in counts.gaps)
        items, empty = _admit(batch.items, policy, erased, counts)
        items = [_clock_bound(item, now) for item in items]
        prepared = prepare_items(items, policy)
        with write_lock or nullcontext():
            upserted, quarantined_new, deleted = _persist(
                store, connector.name, batch, prepared, [*batch.quarantined, *empty], run_id,
                policy,
            )  # fmt: skip
        counts.quarantined_new += quarantined_new
        counts.deleted += deleted
        if batch.bookmark is not None:
            counts.bookmark = batch.bookmark.value
        counts.rows_read += batch.rows_read
        counts.new += upserted.new
        counts.updated += upserted.updated
        counts.unchanged += upserted.unchanged
        counts.duplicates += upserted.duplicates
        counts.quarantined += len(batch.quarantined) + len(empty)
        counts.batches += 1
        if not prepared.empty:
            for found in prepared["pii_found"]:
                for kind, n in json.loads(found).items():
                    counts.pii_redacted[kind] = counts.pii_redacted.get(kind, 0) + int(n)
        if on_batch is not None:
            on_batch(counts)
    return counts


def _clock_bound(item: FeedbackItem, now: datetime | None) -> FeedbackItem:
    """The item with an edit time no later than the clock.

    The store keeps a version only if it is newer than the one stored, so one edit stamp days
    ahead (a source clock off, a timezone read wrong) would hide every real edit until then.
    Such a stamp becomes the time we read it: a later edit still wins.
    """
    if item.updated_at is None or item.updated_at <= cursor_limit(now):
        return item
    return item.model_copy(update={"updated_at": now or datetime.now(UTC)})


def _beyond_clock(bookmark: Bookmark, now: datetime | None) -> bool:
    """True when a bookmark is a time later than the clock allows (see ``cursor_limit``)."""
    when = bookmark_time(bookmark)
    return when is not None and when > cursor_limit(now)


def _persist(
    store: Store,
    source: str,
    batch: Batch,
    prepared: pd.DataFrame,
    bad_rows: list[QuarantinedRow],
    run_id: str,
    policy: PrivacyPolicy,
) -> tuple[UpsertCounts, int, int]:
    """Writes one batch: items, quarantine, deletions, then (last) the bookmark."""
    upserted = store.upsert_items(prepared, run_id)
    quarantined_new = store.quarantine(quarantine_rows(bad_rows, policy), run_id)
    deleted = 0
    if batch.deleted:  # before the bookmark: a crash re-reads the deletion next run
        with store.transaction():
            deleted = delete_items(
                store, [item_key(source, ext_id) for ext_id in batch.deleted]
            ).items
    checkpoint("ingest:batch-persisted")
    if batch.bookmark is not None:
        store.set_bookmark(source, batch.bookmark.cursor_field, batch.bookmark.value)
        checkpoint("ingest:bookmark-saved")
    return upserted, quarantined_new, deleted


def _admit(
    items: list[FeedbackItem],
    policy: PrivacyPolicy,
    erased: frozenset[str],
    counts: IngestCounts,
) -> tuple[list[FeedbackItem], list[QuarantinedRow]]:
    """Drops forgotten customers' and expired items; quarantines texts with nothing to read.

    Emoji-, punctuation- or markup-only texts pass the connector (it does not clean text) but
    are empty once cleaned: they are quarantined as ``no_text_content`` here.
    """
    kept: list[FeedbackItem] = []
    empty: list[QuarantinedRow] = []
    for item in items:
        if item.customer_key is not None and item.customer_key in erased:
            counts.skipped_erased += 1
        elif policy.is_expired(item.created_at):
            counts.skipped_expired += 1
        elif not has_text_content(normalize_text(item.text)):
            raw = raw_json({"external_id": item.external_id, "text": item.text})
            ref = f"{item.source}:id={item.external_id}"
            detail = "no letter or digit left after cleaning (emoji, punctuation or markup only)"
            empty.append(QuarantinedRow(source=item.source, row_ref=ref, reason="no_text_content",
                                        detail=detail, raw=raw))  # fmt: skip
        else:
            kept.append(item)
    return kept, empty


def _payload_hash(item: FeedbackItem) -> str:
    """Hash of everything the source said about the item, to tell real edits from re-reads."""
    payload = item.model_dump_json(exclude={"updated_at"})
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
