"""Erasure ("forget this customer") and retention ("drop items older than N days").

Both delete items together with everything derived from them: sentiment enrichments, theme
assignments, embeddings no text refers to any more, and quarantined rows. Each erasure is
logged without personal data (a digest of the customer key, the counts), and forgotten
customer keys are remembered so that a later re-read of the source does not bring their
feedback back (ingestion skips them). Report folders that quoted a forgotten customer are
found by ``reports_quoting`` and removed by the caller once the latest report is regenerated.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import escape

from outputs.markdown import escape_cell
from vocflow.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS erased_customers (
    customer_key VARCHAR PRIMARY KEY,
    erased_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS erasure_log (
    erasure_id VARCHAR PRIMARY KEY,
    logged_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    counts JSON NOT NULL
);
"""
# Quotes are cut to a prefix in reports; this many leading characters identify one.
_SNIPPET_CHARS = 40
_REPORT_TEXT_FILES = ("report.md", "report.html", "pain_points.csv", "run.json")


@dataclass
class ErasureCounts:
    """Rows deleted by one erasure or retention pass.

    Attributes:
        items: Feedback items.
        enrichments: Sentiment (and other) labels of those items.
        item_themes: Theme assignments of those items, all runs.
        embeddings: Cached vectors no remaining item (or clause of one) refers to.
        quarantine: Quarantined source rows (the customer's, or past retention).
        other: Rows of other per-item tables (any table with an ``item_key`` column, such
            as clause sentiment), by table.
    """

    items: int = 0
    enrichments: int = 0
    item_themes: int = 0
    embeddings: int = 0
    quarantine: int = 0
    other: dict[str, int] = field(default_factory=dict)


@dataclass
class ErasureResult:
    """What forgetting a customer did.

    Attributes:
        counts: Rows deleted.
        snippets: Leading characters of each deleted item's redacted text, to find report
            folders that quote them (kept in memory only, never logged).
        erasure_id: Id of the erasure log entry.
    """

    counts: ErasureCounts
    snippets: list[str] = field(default_factory=list)
    erasure_id: str = ""


def ensure_tables(store: Store) -> None:
    """Creates the erasure tables (idempotent)."""
    store.con.execute(_DDL)


def erased_customers(store: Store) -> frozenset[str]:
    """Customer keys that were forgotten and must not be ingested again."""
    ensure_tables(store)
    rows = store.con.execute("SELECT customer_key FROM erased_customers").fetchall()
    return frozenset(str(r[0]) for r in rows)


def key_digest(customer_key: str) -> str:
    """A short digest of a customer key, for the erasure log (not the key itself)."""
    return hashlib.sha256(customer_key.encode()).hexdigest()[:16]


def _columns_named(store: Store, names: Sequence[str]) -> list[tuple[str, str]]:
    rows = store.con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name IN (SELECT unnest(?)) "
        "ORDER BY 1, 2",
        [list(names)],
    ).fetchall()
    return [(str(t), str(c)) for t, c in rows]


def delete_items(store: Store, item_keys: Sequence[str]) -> ErasureCounts:
    """Deletes items and what derives from them; call inside a transaction.

    Every table with an ``item_key`` column is cleared for these items, so per-item tables
    added later (clause sentiment, ...) are erased without changes here.
    """
    keys = list(item_keys)
    counts = ErasureCounts()
    if keys:
        for table, _ in _columns_named(store, ["item_key"]):
            if table == "items":
                continue
            n = _delete(store, f"DELETE FROM {table} WHERE item_key IN (SELECT unnest(?))", [keys])
            if table in ("enrichments", "item_themes"):
                setattr(counts, table, n)
            elif n:
                counts.other[table] = n
        counts.items = _delete(
            store, "DELETE FROM items WHERE item_key IN (SELECT unnest(?))", [keys]
        )
    # Vectors are keyed by content, not item: drop those that no stored text or clause refers
    # to any more (the deleted texts, their clauses, earlier versions of edited ones).
    referenced = " UNION ".join(
        f"SELECT {column} FROM {table}"
        for table, column in _columns_named(store, ["text_hash", "clause_hash"])
        if table != "embeddings"
    )
    counts.embeddings = _delete(
        store, f"DELETE FROM embeddings WHERE text_hash NOT IN ({referenced})", []
    )
    return counts


def _delete(store: Store, sql: str, params: list[Any]) -> int:
    rows = store.con.execute(sql + " RETURNING 1", params).fetchall()
    return len(rows)


def _log(store: Store, kind: str, subject: str, counts: ErasureCounts, now: datetime) -> str:
    erasure_id = uuid.uuid4().hex
    store.con.execute(
        "INSERT INTO erasure_log VALUES (?, ?, ?, ?, ?)",
        [erasure_id, now, kind, subject, json.dumps(asdict(counts))],
    )
    return erasure_id


def forget_customer(store: Store, customer_key: str, now: datetime | None = None) -> ErasureResult:
    """Deletes every item of a customer and everything derived from it, in one transaction.

    Quarantined rows are matched by the customer key too: the file connector writes the
    hashed key in place of the raw customer id in quarantined rows (rows that could not be
    parsed at all carry no key and are only removed by retention).

    Args:
        store: The store.
        customer_key: The salted customer hash (``connectors.schema.hash_customer``).
        now: Clock for the log (tests pin it).

    Returns:
        Counts, snippets of the deleted texts and the log entry id.
    """
    ensure_tables(store)
    now = now or datetime.now(UTC)
    rows = store.con.execute(
        "SELECT item_key, text_clean FROM items WHERE customer_key = ?", [customer_key]
    ).fetchall()
    with store.transaction():
        counts = delete_items(store, [str(r[0]) for r in rows])
        counts.quarantine = _delete(
            store, "DELETE FROM quarantine WHERE strpos(raw, ?) > 0", [customer_key]
        )
        store.con.execute(
            "INSERT INTO erased_customers VALUES (?, ?) ON CONFLICT DO NOTHING", [customer_key, now]
        )
        erasure_id = _log(store, "forget", key_digest(customer_key), counts, now)
    return ErasureResult(
        counts=counts,
        snippets=[str(r[1])[:_SNIPPET_CHARS] for r in rows],
        erasure_id=erasure_id,
    )


def apply_retention(store: Store, days: int, now: datetime | None = None) -> ErasureCounts:
    """Deletes items created, and rows quarantined, more than ``days`` days ago.

    Args:
        store: The store.
        days: Retention period in days.
        now: Clock (tests pin it).

    Returns:
        Rows deleted (logged when any).
    """
    ensure_tables(store)
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    keys = [
        str(r[0])
        for r in store.con.execute(
            "SELECT item_key FROM items WHERE created_at < ?", [cutoff]
        ).fetchall()
    ]
    with store.transaction():
        counts = delete_items(store, keys)
        counts.quarantine = _delete(
            store, "DELETE FROM quarantine WHERE quarantined_at < ?", [cutoff]
        )
        if counts.items or counts.quarantine:
            _log(store, "retention", f"older than {days} days", counts, now)
    return counts


def erasure_log(store: Store) -> list[dict[str, Any]]:
    """Erasure log entries, oldest first."""
    ensure_tables(store)
    rows = store.con.execute(
        "SELECT erasure_id, logged_at, kind, subject, counts FROM erasure_log ORDER BY logged_at"
    ).fetchall()
    return [
        {
            "erasure_id": r[0],
            "logged_at": r[1],
            "kind": r[2],
            "subject": r[3],
            "counts": json.loads(r[4]),
        }
        for r in rows
    ]


def last_run_params(store: Store) -> dict[str, Any] | None:
    """Parameters of the latest completed run (to regenerate its report), or None."""
    rows = store.con.execute(
        "SELECT params FROM runs WHERE status = 'completed' ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else None


def quote_needles(snippets: Iterable[str]) -> set[str]:
    """The forms a quoted snippet takes in outputs: plain, HTML-, Markdown- and JSON-escaped."""
    needles: set[str] = set()
    for snippet in snippets:
        if snippet.strip():
            needles |= {snippet, str(escape(snippet)), escape_cell(snippet)}
            needles.add(json.dumps(snippet, ensure_ascii=False)[1:-1])
    return needles


def reports_quoting(reports_dir: Path, snippets: Iterable[str]) -> list[Path]:
    """Report folders whose files contain any of the snippets (as written or escaped).

    Args:
        reports_dir: Root of the report folders.
        snippets: Leading characters of redacted item texts.

    Returns:
        The folders (``latest`` included) that quote at least one of them.
    """
    needles = quote_needles(snippets)
    if not needles or not reports_dir.is_dir():
        return []
    hits = []
    # A latest-<scope> link is its run folder by another name: the folder is checked itself.
    for folder in sorted(p for p in reports_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        for name in _REPORT_TEXT_FILES:
            path = folder / name
            if path.is_file() and any(n in path.read_text(encoding="utf-8") for n in needles):
                hits.append(folder)
                break
    return hits


def remove_report_folders(folders: Iterable[Path]) -> int:
    """Deletes report folders, and the ``latest-<scope>`` links left pointing at none.

    Returns:
        How many folders were removed.
    """
    removed = 0
    parents: set[Path] = set()
    for folder in folders:
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            parents.add(folder.parent)
            removed += 1
    for parent in parents:
        for link in parent.glob("latest-*"):
            if link.is_symlink() and not link.exists():
                link.unlink()
    return removed
