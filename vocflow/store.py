"""The store: items, enrichments, embeddings, themes, runs, state, quarantine.

An embedded DuckDB file by default, or a PostgreSQL database for teams (``store_url``); the
dialect differences live in ``vocflow.store_backend``, the SQL here is written once.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vocflow import store_backend

if TYPE_CHECKING:
    import duckdb

    from vocflow.settings import Settings

SCHEMA_VERSION = 2
"""1: embeddings as ``FLOAT[]``; 2: embeddings as float16 blobs (migrated in place on open)."""

VECTOR_DTYPE = np.dtype("<f2")
"""How an embedding is stored: little-endian float16, ``2 * dim`` bytes per row."""

_FLOAT16_MAX = float(np.finfo(np.float16).max)
_MIGRATE_ROWS = 50_000

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
    vector BLOB NOT NULL,
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


def vectors_to_blobs(vectors: np.ndarray) -> list[bytes]:
    """Encodes the rows of a 2-D array as little-endian float16 blobs (one ``bytes`` per row).

    Vectorised: one cast and one ``tobytes`` for the whole array, then a slice per row.

    Raises:
        ValueError: Not 2-D, or a value that float16 cannot hold (embeddings are small numbers;
            a huge one means a bug upstream, not something to store as infinity).
    """
    array = np.asarray(vectors)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {array.shape}")
    if array.size and not np.all(np.abs(array) <= _FLOAT16_MAX):
        raise ValueError("embedding values must be finite and within the float16 range")
    width = array.shape[1] * VECTOR_DTYPE.itemsize
    raw = np.ascontiguousarray(array, dtype=VECTOR_DTYPE).tobytes()
    return [raw[start : start + width] for start in range(0, len(raw), width)] if width else []


def blobs_to_vectors(blobs: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """Decodes float16 blobs of one dimension into a float32 ``(len(blobs), dim)`` array.

    One ``bytes.join`` and one ``np.frombuffer`` for all rows.

    Raises:
        ValueError: The blobs do not all have the same length.
    """
    if len(blobs) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    width = len(blobs[0])
    joined = b"".join(blobs)
    if width == 0 or width % VECTOR_DTYPE.itemsize or len(joined) != width * len(blobs):
        raise ValueError("stored embeddings of one model must all have the same dimension")
    flat = np.frombuffer(joined, dtype=VECTOR_DTYPE)
    return flat.reshape(len(blobs), width // VECTOR_DTYPE.itemsize).astype(np.float32)


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
    """A DuckDB file (or a PostgreSQL database) holding everything vocflow persists.

    Args:
        path: DuckDB file (created with its folder when missing), or a ``postgresql://`` URL
            (``Settings.store_target``); the password comes from ``VOCFLOW_STORE_PASSWORD`` or
            the Prefect Secret block ``password_block``.
        read_only: Open without write access.
        password_block: Prefect Secret block with the PostgreSQL password.

    Attributes:
        con: The DuckDB connection, or a ``store_backend.PostgresConnection`` with the same
            small API; modules with their own tables write DuckDB SQL against it.
        dialect: ``"duckdb"`` or ``"postgres"``.
    """

    def __init__(
        self, path: Path | str, read_only: bool = False, password_block: str | None = None
    ) -> None:
        self.path = path
        self.dialect = "postgres" if store_backend.is_postgres_url(path) else "duckdb"
        self.con: duckdb.DuckDBPyConnection | store_backend.PostgresConnection = (
            store_backend.connect(path, read_only, password_block)
        )
        try:
            if not read_only:
                self.con.execute(_DDL)
                self.con.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                    [str(SCHEMA_VERSION)],
                )
                self._migrate_embeddings()
            # A read-only store written by version 1 keeps its FLOAT[] vectors: read them so.
            self._legacy_vectors = self._vector_column_type() not in ("BLOB", None)
        except BaseException:
            self.close()
            raise

    def _vector_column_type(self) -> str | None:
        if self.dialect != "duckdb":
            return "BLOB"  # PostgreSQL stores were never written with FLOAT[] vectors
        rows = self.con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'embeddings' AND column_name = 'vector'"
        ).fetchall()
        return str(rows[0][0]) if rows else None

    def _migrate_embeddings(self) -> None:
        """Rewrites a version-1 ``FLOAT[]`` embedding table as float16 blobs, in one transaction.

        Reads the old table in rowid ranges (bounded memory) through Arrow, so no Python object
        is made per float; a failure rolls back and leaves the old table as it was.
        """
        if self._vector_column_type() in ("BLOB", None):
            return
        import duckdb

        duck = self.con
        assert isinstance(duck, duckdb.DuckDBPyConnection)  # only DuckDB stores had FLOAT[]
        with self.transaction():
            self.con.execute(
                "CREATE TABLE embeddings_f16 (text_hash VARCHAR NOT NULL, model_id VARCHAR "
                "NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (text_hash, model_id))"
            )
            top = self.con.execute("SELECT coalesce(max(rowid), -1) FROM embeddings").fetchall()
            for start in range(0, int(top[0][0]) + 1, _MIGRATE_ROWS):
                old = duck.sql(
                    "SELECT text_hash, model_id, vector FROM embeddings "
                    f"WHERE rowid >= {start} AND rowid < {start + _MIGRATE_ROWS}"
                ).to_arrow_table()
                if old.num_rows == 0:
                    continue
                lists = old.column("vector").combine_chunks()
                lengths = lists.value_lengths().to_numpy(zero_copy_only=False)
                flat = lists.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
                bounds = np.concatenate([[0], np.cumsum(lengths)])
                blobs: list[bytes] = []
                # Rows of one length (one model) are encoded together; a run changes rarely.
                cuts = np.flatnonzero(np.diff(lengths)) + 1
                for lo, hi in zip(
                    np.concatenate([[0], cuts]), np.concatenate([cuts, [len(lengths)]]), strict=True
                ):
                    dim = int(lengths[lo])
                    block = flat[bounds[lo] : bounds[hi]].reshape(int(hi - lo), dim)
                    blobs.extend(vectors_to_blobs(block) if dim else [b""] * int(hi - lo))
                frame = pd.DataFrame(
                    {
                        "text_hash": old.column("text_hash").to_pylist(),
                        "model_id": old.column("model_id").to_pylist(),
                        "vector": blobs,
                    }
                )
                self.con.register("migrated_vectors", frame)
                try:
                    self.con.execute(
                        "INSERT INTO embeddings_f16 SELECT text_hash, model_id, vector::BLOB "
                        "FROM migrated_vectors"
                    )
                finally:
                    self.con.unregister("migrated_vectors")
            self.con.execute("DROP TABLE embeddings")
            self.con.execute("ALTER TABLE embeddings_f16 RENAME TO embeddings")
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    @classmethod
    def open(cls, settings: Settings, read_only: bool = False) -> Store:
        """Opens the configured store: PostgreSQL when ``store_url`` is set, else DuckDB."""
        return cls(settings.store_target, read_only, settings.store_password_block)

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
        with store_backend.transaction(self.con):
            yield

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
        """Caches embeddings as float16 blobs (existing entries are kept).

        Args:
            text_hashes: One hash per row of ``vectors``.
            model_id: Embedding model.
            vectors: ``(len(text_hashes), dim)`` array; stored as float16, so a unit-norm row
                comes back within 1e-3 per coordinate.
        """
        if len(text_hashes) == 0:
            return
        if self._legacy_vectors:
            raise RuntimeError("a store opened read-only cannot cache embeddings")
        blobs = vectors_to_blobs(np.asarray(vectors))
        if len(blobs) != len(text_hashes):
            raise ValueError(f"{len(text_hashes)} hashes for {len(blobs)} vectors")
        frame = pd.DataFrame(
            {"text_hash": list(text_hashes), "model_id": model_id, "vector": blobs}
        )
        self.con.register("new_vectors", frame)
        try:
            with self.transaction():
                self.con.execute(
                    "INSERT INTO embeddings SELECT text_hash, model_id, vector::BLOB "
                    "FROM new_vectors ON CONFLICT DO NOTHING"
                )
        finally:
            self.con.unregister("new_vectors")

    def load_embeddings(self, text_hashes: Sequence[str], model_id: str) -> np.ndarray:
        """Returns cached vectors (float32) in the order of ``text_hashes`` (all must be cached).

        One query; the blobs are decoded together (``blobs_to_vectors``), then reordered.
        """
        unique = list(dict.fromkeys(text_hashes))
        found = self.con.execute(
            "SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
            "AND text_hash IN (SELECT unnest(?))",
            [model_id, unique],
        ).fetchnumpy()
        if self._legacy_vectors:
            matrix = np.array([np.asarray(v, dtype=np.float32) for v in found["vector"]])
        else:
            matrix = blobs_to_vectors(found["vector"])
        position = pd.Index(found["text_hash"]).get_indexer(list(text_hashes))
        if (position < 0).any():
            missing = len(set(unique) - set(found["text_hash"]))
            raise KeyError(f"{missing} embeddings not cached for {model_id}")
        if not text_hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return matrix[position]

    def unembedded_hashes(self, model_id: str) -> list[str]:
        """Returns the text hashes of stored items with no embedding for ``model_id``.

        Longest text first, so that a transformer embedder pads each batch the least; only
        hashes are returned (texts are fetched chunk by chunk with :meth:`texts_by_hash`), which
        keeps a backfill of millions of items within bounded memory.
        """
        rows = self.con.execute(
            "SELECT i.text_hash FROM items i WHERE NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.model_id = ? AND e.text_hash = i.text_hash) "
            "GROUP BY i.text_hash ORDER BY max(length(i.text_clean)) DESC, i.text_hash",
            [model_id],
        ).fetchall()
        return [row[0] for row in rows]

    def texts_by_hash(self, text_hashes: Sequence[str]) -> dict[str, str]:
        """Returns the cleaned text of each stored hash (one text per hash by construction)."""
        if len(text_hashes) == 0:
            return {}
        rows = self.con.execute(
            "SELECT text_hash, min(text_clean) FROM items "
            "WHERE text_hash IN (SELECT unnest(?)) GROUP BY text_hash",
            [list(text_hashes)],
        ).fetchall()
        return {h: t for h, t in rows}

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
