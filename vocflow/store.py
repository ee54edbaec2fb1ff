"""The embedded DuckDB store: items, enrichments, embeddings, themes, runs, state, quarantine.

Every write is idempotent: re-ingesting the same items changes nothing, an edited item (later
``updated_at``) replaces the stored one, and embeddings and enrichments are keyed so that work
done once is never redone. Writes of one batch happen in one transaction.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS items (
    item_key VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    external_id VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    text VARCHAR NOT NULL,
    title VARCHAR,
    score DOUBLE,
    score_type VARCHAR,
    score_derived_from VARCHAR,
    language VARCHAR,
    product VARCHAR,
    segment JSON,
    customer_key VARCHAR,
    url VARCHAR,
    thread JSON,
    text_clean VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    pii_found JSON,
    payload_hash VARCHAR NOT NULL,
    first_run_id VARCHAR,
    last_run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS embeddings (
    text_hash VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL,
    PRIMARY KEY (text_hash, model_id)
);
CREATE TABLE IF NOT EXISTS enrichments (
    item_key VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    probs FLOAT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (item_key, model_version)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    params JSON,
    summary JSON
);
CREATE TABLE IF NOT EXISTS themes (
    run_id VARCHAR NOT NULL,
    theme_id INTEGER NOT NULL,
    label VARCHAR NOT NULL,
    keywords JSON NOT NULL,
    size INTEGER NOT NULL,
    centroid FLOAT[],
    PRIMARY KEY (run_id, theme_id)
);
CREATE TABLE IF NOT EXISTS item_themes (
    run_id VARCHAR NOT NULL,
    item_key VARCHAR NOT NULL,
    theme_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, item_key)
);
CREATE TABLE IF NOT EXISTS connector_state (
    source VARCHAR PRIMARY KEY,
    cursor_field VARCHAR NOT NULL,
    cursor_value VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    row_hash VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    row_ref VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    raw VARCHAR NOT NULL,
    first_run_id VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL
);
"""

ITEM_COLUMNS = (
    "item_key", "source", "external_id", "channel", "created_at", "updated_at", "text", "title",
    "score", "score_type", "score_derived_from", "language", "product", "segment",
    "customer_key", "url", "thread", "text_clean", "text_hash", "pii_found", "payload_hash",
)  # fmt: skip


@dataclass(frozen=True)
class UpsertCounts:
    """What an upsert did.

    Attributes:
        new: Items not stored before.
        updated: Stored items replaced by a later version.
        unchanged: Items already stored as they are (or a stale version of them).
        duplicates: Rows of the batch that repeat another row's item key (the source holds
            the same item twice; the latest ``updated_at`` is kept).
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0


class Store:
    """A DuckDB file holding everything vocflow persists.

    Args:
        path: DuckDB file (created with its folder when missing).
        read_only: Open without write access.
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path), read_only=read_only)
        if not read_only:
            self.con.execute(_DDL)
            self.con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                [str(SCHEMA_VERSION)],
            )

    def close(self) -> None:
        """Closes the connection and drops it.

        Dropping the reference matters: Prefect keeps task frames alive until the process
        exits, and a DuckDB connection still referenced at interpreter shutdown is reported
        as a leak by its bindings.
        """
        self.con.close()
        del self.con

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Runs the block in one transaction; rolls back on error."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------
    def store_salt(self) -> str:
        """Returns this store's random customer-key salt, creating it on first use.

        Used only when no salt is configured (env or Secret block), so that hashed customer
        keys are stable within one store without any secret in a config file.
        """
        rows = self.con.execute("SELECT value FROM meta WHERE key = 'customer_salt'").fetchall()
        if rows:
            return str(rows[0][0])
        salt = secrets.token_hex(16)
        self.con.execute("INSERT INTO meta VALUES ('customer_salt', ?)", [salt])
        return salt

    # -- items --------------------------------------------------------------------------------
    def upsert_items(self, rows: pd.DataFrame, run_id: str) -> UpsertCounts:
        """Inserts new items and replaces stored ones that ``rows`` holds a later version of.

        Args:
            rows: One row per item with ``ITEM_COLUMNS``; duplicate keys keep the latest.
            run_id: Run that ingests them (recorded as first/last run).

        Returns:
            Counts of new, updated and unchanged items.
        """
        if rows.empty:
            return UpsertCounts()
        incoming = (
            rows.loc[:, list(ITEM_COLUMNS)]
            .sort_values("updated_at", kind="stable")
            .drop_duplicates("item_key", keep="last")
        )
        self.con.register("incoming", incoming)
        try:
            with self.transaction():
                status = self.con.execute(
                    """
                    SELECT
                        count(*) FILTER (WHERE s.item_key IS NULL),
                        count(*) FILTER (WHERE s.item_key IS NOT NULL
                            AND i.updated_at > s.updated_at AND i.payload_hash <> s.payload_hash),
                        count(*)
                    FROM incoming i LEFT JOIN items s USING (item_key)
                    """
                ).fetchall()[0]
                new, updated, total = (int(v) for v in status)
                columns = ", ".join(ITEM_COLUMNS)
                updates = ", ".join(f"{c} = excluded.{c}" for c in ITEM_COLUMNS if c != "item_key")
                self.con.execute(
                    f"""
                    INSERT INTO items ({columns}, first_run_id, last_run_id)
                    SELECT {columns}, ?, ? FROM incoming
                    ON CONFLICT (item_key) DO UPDATE
                    SET {updates}, last_run_id = excluded.last_run_id
                    WHERE excluded.updated_at > items.updated_at
                      AND excluded.payload_hash <> items.payload_hash
                    """,
                    [run_id, run_id],
                )
        finally:
            self.con.unregister("incoming")
        return UpsertCounts(
            new=new,
            updated=updated,
            unchanged=total - new - updated,
            duplicates=len(rows) - len(incoming),
        )

    def count_items(self) -> int:
        """Number of stored items."""
        return self._count("items")

    def load_items(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Loads stored items in a window, oldest first (raw ``text`` is not loaded).

        Args:
            since: Inclusive lower bound on ``created_at``.
            until: Exclusive upper bound on ``created_at``.
            sources: Only these sources (all when None).
            languages: Only these languages (all when None).

        Returns:
            Items with their cleaned, redacted text in ``text_clean``.
        """
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if until is not None:
            where.append("created_at < ?")
            params.append(until)
        if sources:
            where.append("source IN (SELECT unnest(?))")
            params.append(list(sources))
        if languages:
            where.append("language IN (SELECT unnest(?))")
            params.append(list(languages))
        columns = [c for c in ITEM_COLUMNS if c != "text"]
        frame = self.con.execute(
            f"SELECT {', '.join(columns)} FROM items WHERE {' AND '.join(where)} "
            "ORDER BY created_at, item_key",
            params,
        ).df()
        for column in ("created_at", "updated_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    # -- embeddings ---------------------------------------------------------------------------
    def missing_embeddings(self, text_hashes: Sequence[str], model_id: str) -> list[str]:
        """Returns the hashes (deduplicated, input order) that have no cached embedding."""
        unique = list(dict.fromkeys(text_hashes))
        if not unique:
            return []
        have = {
            row[0]
            for row in self.con.execute(
                "SELECT text_hash FROM embeddings WHERE model_id = ? "
                "AND text_hash IN (SELECT unnest(?))",
                [model_id, unique],
            ).fetchall()
        }
        return [h for h in unique if h not in have]

    def save_embeddings(
        self, text_hashes: Sequence[str], model_id: str, vectors: np.ndarray
    ) -> None:
        """Caches embeddings (existing entries are kept)."""
        if len(text_hashes) == 0:
            return
        frame = pd.DataFrame(
            {
                "text_hash": list(text_hashes),
                "model_id": model_id,
                "vector": [v.astype(np.float32).tolist() for v in vectors],
            }
        )
        self.con.register("new_vectors", frame)
        try:
            with self.transaction():
                self.con.execute(
                    "INSERT INTO embeddings SELECT text_hash, model_id, vector::FLOAT[] "
                    "FROM new_vectors ON CONFLICT DO NOTHING"
                )
        finally:
            self.con.unregister("new_vectors")

    def load_embeddings(self, text_hashes: Sequence[str], model_id: str) -> np.ndarray:
        """Returns cached vectors in the order of ``text_hashes`` (all must be cached)."""
        unique = list(dict.fromkeys(text_hashes))
        rows = self.con.execute(
            "SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
            "AND text_hash IN (SELECT unnest(?))",
            [model_id, unique],
        ).fetchall()
        lookup = {h: np.asarray(v, dtype=np.float32) for h, v in rows}
        missing = [h for h in unique if h not in lookup]
        if missing:
            raise KeyError(f"{len(missing)} embeddings not cached for {model_id}")
        if not text_hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([lookup[h] for h in text_hashes])

    # -- enrichments --------------------------------------------------------------------------
    def missing_enrichments(self, items: pd.DataFrame, model_version: str) -> pd.DataFrame:
        """Returns the rows of ``items`` with no enrichment for their current text."""
        if items.empty:
            return items
        keys = self.con.execute(
            "SELECT item_key, text_hash FROM enrichments WHERE model_version = ? "
            "AND item_key IN (SELECT unnest(?))",
            [model_version, items["item_key"].tolist()],
        ).fetchall()
        done = set(keys)
        mask = [
            (k, h) not in done for k, h in zip(items["item_key"], items["text_hash"], strict=True)
        ]
        return items[mask]

    def save_enrichments(
        self,
        item_keys: Sequence[str],
        text_hashes: Sequence[str],
        model_version: str,
        kind: str,
        labels: Sequence[str],
        probs: np.ndarray,
    ) -> None:
        """Stores one enrichment per item (replacing an older one for the same model)."""
        if len(item_keys) == 0:
            return
        frame = pd.DataFrame(
            {
                "item_key": list(item_keys),
                "model_version": model_version,
                "kind": kind,
                "text_hash": list(text_hashes),
                "label": list(labels),
                "probs": [p.astype(np.float32).tolist() for p in probs],
                "created_at": datetime.now(UTC),
            }
        )
        self.con.register("new_enrichments", frame)
        try:
            with self.transaction():
                self.con.execute(
                    "INSERT OR REPLACE INTO enrichments SELECT item_key, model_version, kind, "
                    "text_hash, label, probs::FLOAT[], created_at FROM new_enrichments"
                )
        finally:
            self.con.unregister("new_enrichments")

    def load_enrichments(self, item_keys: Sequence[str], model_version: str) -> pd.DataFrame:
        """Returns ``item_key, label, probs`` for the given items and model version."""
        return self.con.execute(
            "SELECT item_key, label, probs FROM enrichments WHERE model_version = ? "
            "AND item_key IN (SELECT unnest(?))",
            [model_version, list(item_keys)],
        ).df()

    # -- connector state ----------------------------------------------------------------------
    def get_bookmark(self, source: str) -> tuple[str, str] | None:
        """Returns ``(cursor_field, cursor_value)`` of a source, or None if never read."""
        rows = self.con.execute(
            "SELECT cursor_field, cursor_value FROM connector_state WHERE source = ?", [source]
        ).fetchall()
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def set_bookmark(self, source: str, cursor_field: str, cursor_value: str) -> None:
        """Saves a source's cursor; call only after the batch it covers is persisted."""
        self.con.execute(
            "INSERT OR REPLACE INTO connector_state VALUES (?, ?, ?, ?)",
            [source, cursor_field, cursor_value, datetime.now(UTC)],
        )

    # -- quarantine ---------------------------------------------------------------------------
    def quarantine(self, rows: pd.DataFrame, run_id: str) -> int:
        """Stores quarantined rows; returns how many were not already there."""
        if rows.empty:
            return 0
        frame = rows.drop_duplicates("row_hash").assign(
            first_run_id=run_id, quarantined_at=datetime.now(UTC)
        )
        self.con.register("bad_rows", frame)
        try:
            with self.transaction():
                before = self._count("quarantine")
                self.con.execute(
                    "INSERT INTO quarantine SELECT row_hash, source, row_ref, reason, detail, raw, "
                    "first_run_id, quarantined_at FROM bad_rows ON CONFLICT DO NOTHING"
                )
                after = self._count("quarantine")
        finally:
            self.con.unregister("bad_rows")
        return after - before

    def quarantine_reasons(self) -> dict[str, int]:
        """Counts of quarantined rows by reason."""
        rows = self.con.execute(
            "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 2 DESC"
        ).fetchall()
        return {str(reason): int(count) for reason, count in rows}

    # -- runs and themes ----------------------------------------------------------------------
    def start_run(self, run_id: str, params: dict[str, Any]) -> None:
        """Records the start of a run."""
        self.con.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)",
            [run_id, datetime.now(UTC), json.dumps(params, default=str)],
        )

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        """Records the end of a run and its summary."""
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
            [datetime.now(UTC), status, json.dumps(summary, default=str), run_id],
        )

    def save_themes(
        self,
        run_id: str,
        themes: pd.DataFrame,
        assignments: pd.DataFrame,
    ) -> None:
        """Stores a run's themes and assignments, replacing any earlier write of the run.

        Args:
            run_id: The run.
            themes: ``theme_id, label, keywords (list), size, centroid``.
            assignments: ``item_key, theme_id``.
        """
        themes = themes.assign(run_id=run_id, keywords=themes["keywords"].map(json.dumps))
        assignments = assignments.assign(run_id=run_id)
        self.con.register("new_themes", themes)
        self.con.register("new_assignments", assignments)
        try:
            with self.transaction():
                self.con.execute("DELETE FROM themes WHERE run_id = ?", [run_id])
                self.con.execute("DELETE FROM item_themes WHERE run_id = ?", [run_id])
                self.con.execute(
                    "INSERT INTO themes SELECT run_id, theme_id, label, keywords, size, "
                    "centroid::FLOAT[] FROM new_themes"
                )
                self.con.execute(
                    "INSERT INTO item_themes SELECT run_id, item_key, theme_id FROM new_assignments"
                )
        finally:
            self.con.unregister("new_themes")
            self.con.unregister("new_assignments")

    def _count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
