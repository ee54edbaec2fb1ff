"""Store-backed theme state: the registry of stable theme IDs, lineage events, fits, clauses.

Tables (created here, in the run's DuckDB store, next to ``vocflow.store``'s own):

* ``theme_registry``: one row per stable theme ID ever issued: label, keywords, centroid,
  size, ``status`` (active / retired / merged), ``origin`` (fitted by the model, or curated:
  created by a taxonomy split-off or seed, then ``curated_key`` is its taxonomy name), the
  first and last run that saw it. IDs are never reused.
* ``theme_lineage``: what happened to each theme in each run (``nlp.theme_matching.EVENTS``).
* ``theme_fits``: per run, whether themes were refitted or new items were assigned
  incrementally, and why (the refit rule in ``nlp.theme_matching.refit_decision``).
* ``theme_item_state``: the latest model assignment (stable ID, before the taxonomy is
  applied) of every item: the previous run's view that matching and incremental nights use.
* ``theme_clauses``: clause-level themes and sentiment of multi-clause items, per run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from nlp.protocols import Embedder
from nlp.theme_clauses import assign_clauses, theme_mentions
from nlp.theme_matching import LineageEvent
from vocflow.clause_store import clause_vectors, item_languages, load_clauses
from vocflow.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS theme_registry (
    theme_id INTEGER PRIMARY KEY,
    label VARCHAR NOT NULL,
    keywords JSON NOT NULL,
    centroid FLOAT[],
    size INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    curated_key VARCHAR,
    first_run_id VARCHAR,
    last_run_id VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS theme_lineage (
    run_id VARCHAR NOT NULL,
    theme_id INTEGER NOT NULL,
    event VARCHAR NOT NULL,
    related JSON NOT NULL,
    size_before INTEGER NOT NULL,
    size_after INTEGER NOT NULL,
    PRIMARY KEY (run_id, theme_id, event)
);
CREATE TABLE IF NOT EXISTS theme_fits (
    run_id VARCHAR PRIMARY KEY,
    mode VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    n_items INTEGER NOT NULL,
    n_new_items INTEGER NOT NULL,
    detail JSON,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS theme_item_state (
    item_key VARCHAR PRIMARY KEY,
    theme_id INTEGER NOT NULL,
    run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS theme_clauses (
    run_id VARCHAR NOT NULL,
    item_key VARCHAR NOT NULL,
    clause_idx INTEGER NOT NULL,
    clause VARCHAR NOT NULL,
    theme_id INTEGER NOT NULL,
    sentiment VARCHAR,
    PRIMARY KEY (run_id, item_key, clause_idx)
);
"""

ACTIVE = "active"


@dataclass(frozen=True)
class RegistryTheme:
    """One row of ``theme_registry`` (columns described in the module docstring).

    ``label`` is kept while the theme keeps matching; ``centroid`` is None for a curated
    theme that never had members; ``size`` counts members in the latest run that saw it.
    """

    theme_id: int
    label: str
    keywords: tuple[str, ...]
    centroid: np.ndarray | None
    size: int
    status: str = ACTIVE
    origin: str = "fitted"
    curated_key: str | None = None
    first_run_id: str | None = None
    last_run_id: str | None = None


class ThemeState:
    """Theme registry, lineage and fit history in a vocflow store.

    Args:
        store: An open, writable store; the tables are created on first use.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con
        self.con.execute(_DDL)

    # -- registry -----------------------------------------------------------------------------
    def registry(
        self, status: str | None = ACTIVE, origin: str | None = None
    ) -> list[RegistryTheme]:
        """Returns registry rows ordered by ID.

        Args:
            status: Only rows with this status (None = all).
            origin: Only rows of this origin (None = all).

        Returns:
            The rows.
        """
        query = "SELECT * FROM theme_registry WHERE 1 = 1"
        params: list[Any] = []
        if status is not None:
            query += " AND status = ?"
            params.append(status)
        if origin is not None:
            query += " AND origin = ?"
            params.append(origin)
        frame = self.con.execute(query + " ORDER BY theme_id", params).df()
        return [_registry_row(row) for row in frame.to_dict("records")]

    def next_id(self) -> int:
        """Returns the smallest stable ID never issued."""
        value = self.con.execute("SELECT max(theme_id) FROM theme_registry").fetchall()[0][0]
        return 0 if value is None else int(value) + 1

    def save_registry(self, rows: Sequence[RegistryTheme]) -> None:
        """Inserts or replaces registry rows (by stable ID)."""
        if not rows:
            return
        now = datetime.now(UTC)
        frame = pd.DataFrame(
            [
                {
                    "theme_id": r.theme_id,
                    "label": r.label,
                    "keywords": json.dumps(list(r.keywords), ensure_ascii=False),
                    "centroid": None if r.centroid is None else np.asarray(r.centroid).tolist(),
                    "size": int(r.size),
                    "status": r.status,
                    "origin": r.origin,
                    "curated_key": r.curated_key,
                    "first_run_id": r.first_run_id,
                    "last_run_id": r.last_run_id,
                    "updated_at": now,
                }
                for r in rows
            ]
        )
        self.con.register("new_registry", frame)
        try:
            self.con.execute(
                "INSERT OR REPLACE INTO theme_registry SELECT theme_id, label, keywords, "
                "centroid::FLOAT[], size, status, origin, curated_key, first_run_id, "
                "last_run_id, updated_at FROM new_registry"
            )
        finally:
            self.con.unregister("new_registry")

    def curated_id(self, key: str, label: str, run_id: str) -> int:
        """Returns the stable ID of a curated theme (taxonomy split-off or seed), issuing it once.

        Args:
            key: The taxonomy entry's name (its identity across runs).
            label: Label to register when the ID is new.
            run_id: Current run.

        Returns:
            The stable ID; the same key always gets the same ID.
        """
        rows = self.con.execute(
            "SELECT theme_id FROM theme_registry WHERE origin = 'curated' AND curated_key = ?",
            [key],
        ).fetchall()
        if rows:
            return int(rows[0][0])
        theme_id = self.next_id()
        self.save_registry(
            [RegistryTheme(theme_id, label, (), None, 0, ACTIVE, "curated", key, run_id, run_id)]
        )
        return theme_id

    # -- item state ---------------------------------------------------------------------------
    def previous_assignments(self, item_keys: Sequence[str]) -> np.ndarray:
        """Returns the latest stored model assignment per item (-1 = none).

        Args:
            item_keys: Items, in the order of the returned array.

        Returns:
            Stable theme ID per item; -1 for items never assigned or stored as outliers.
        """
        keys = pd.DataFrame({"item_key": list(item_keys)})
        self.con.register("wanted_items", keys)
        try:
            stored = self.con.execute(
                "SELECT s.item_key, s.theme_id FROM theme_item_state s "
                "JOIN wanted_items w USING (item_key)"
            ).df()
        finally:
            self.con.unregister("wanted_items")
        lookup = dict(zip(stored["item_key"], stored["theme_id"], strict=True))
        return np.array([int(lookup.get(k, -1)) for k in item_keys], dtype=np.int64)

    def known_items(self, item_keys: Sequence[str]) -> np.ndarray:
        """Returns a mask of the items that a previous run already assigned (outliers too)."""
        keys = pd.DataFrame({"item_key": list(item_keys)})
        self.con.register("wanted_items", keys)
        try:
            known = {
                str(r[0])
                for r in self.con.execute(
                    "SELECT item_key FROM theme_item_state JOIN wanted_items USING (item_key)"
                ).fetchall()
            }
        finally:
            self.con.unregister("wanted_items")
        return np.array([k in known for k in item_keys], dtype=bool)

    def save_item_state(self, run_id: str, item_keys: Sequence[str], theme_ids: np.ndarray) -> None:
        """Stores the model assignment (stable IDs, before curation) of each item."""
        frame = pd.DataFrame(
            {"item_key": list(item_keys), "theme_id": np.asarray(theme_ids, dtype=np.int64)}
        ).assign(run_id=run_id)
        self.con.register("new_item_state", frame)
        try:
            self.con.execute(
                "INSERT OR REPLACE INTO theme_item_state "
                "SELECT item_key, theme_id, run_id FROM new_item_state"
            )
        finally:
            self.con.unregister("new_item_state")

    # -- lineage and fits ---------------------------------------------------------------------
    def save_lineage(self, run_id: str, events: Sequence[LineageEvent]) -> None:
        """Stores a run's lineage events, replacing an earlier write of the same run."""
        self.con.execute("DELETE FROM theme_lineage WHERE run_id = ?", [run_id])
        for e in events:
            self.con.execute(
                "INSERT OR REPLACE INTO theme_lineage VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, e.theme_id, e.event, json.dumps(list(e.related)), e.size_before,
                 e.size_after],
            )  # fmt: skip

    def lineage(self, run_id: str | None = None) -> pd.DataFrame:
        """Returns lineage events (all runs, or one), oldest run first."""
        query = "SELECT * FROM theme_lineage"
        params: list[Any] = []
        if run_id is not None:
            query += " WHERE run_id = ?"
            params.append(run_id)
        frame = self.con.execute(query + " ORDER BY run_id, theme_id, event", params).df()
        frame["related"] = frame["related"].map(json.loads)
        return frame

    def record_fit(
        self, run_id: str, mode: str, reason: str, n_items: int, n_new_items: int,
        detail: dict[str, Any], at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Records whether a run refitted or assigned incrementally, and why (at ``at``)."""
        self.con.execute(
            "INSERT OR REPLACE INTO theme_fits VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, mode, reason, n_items, n_new_items, json.dumps(detail, default=str),
             at or datetime.now(UTC)],
        )  # fmt: skip

    def last_refit(self) -> dict[str, Any] | None:
        """Returns the latest run that refitted themes (``theme_fits`` row), or None."""
        frame = self.con.execute(
            "SELECT * FROM theme_fits WHERE mode = 'refit' ORDER BY created_at DESC LIMIT 1"
        ).df()
        if frame.empty:
            return None
        row = frame.iloc[0].to_dict()
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
        return row

    def save_clauses(self, run_id: str, rows: pd.DataFrame) -> None:
        """Stores clause-level themes: ``item_key, clause_idx, clause, theme_id, sentiment``."""
        self.con.execute("DELETE FROM theme_clauses WHERE run_id = ?", [run_id])
        if rows.empty:
            return
        self.con.register("new_clauses", rows.assign(run_id=run_id))
        try:
            self.con.execute(
                "INSERT INTO theme_clauses SELECT run_id, item_key, clause_idx, clause, "
                "theme_id, sentiment FROM new_clauses"
            )
        finally:
            self.con.unregister("new_clauses")


def _registry_row(row: dict[str, Any]) -> RegistryTheme:
    centroid = row["centroid"]
    return RegistryTheme(
        theme_id=int(row["theme_id"]),
        label=str(row["label"]),
        keywords=tuple(json.loads(row["keywords"])),
        centroid=None if centroid is None else np.asarray(centroid, dtype=np.float32),
        size=int(row["size"]),
        status=str(row["status"]),
        origin=str(row["origin"]),
        curated_key=None if pd.isna(row["curated_key"]) else str(row["curated_key"]),
        first_run_id=None if pd.isna(row["first_run_id"]) else str(row["first_run_id"]),
        last_run_id=None if pd.isna(row["last_run_id"]) else str(row["last_run_id"]),
    )


def clause_themes(
    store: Store,
    run_id: str,
    item_themes: np.ndarray,
    items: pd.DataFrame,
    centroids: dict[int, np.ndarray],
    embedder: Embedder,
    version: str,
    min_similarity: float,
    max_clauses: int = 8,
) -> dict[int, dict[str, Any]]:
    """Assigns the stored clauses of multi-clause items to themes and stores them.

    The clauses and their sentiment come from the sentiment step (``vocflow.clause_store``,
    stored under ``version``); their embeddings come from the store's cache.

    Args:
        store: The store.
        run_id: Current run.
        item_themes: Final theme per item (-1 = none), aligned with ``items``.
        items: Items with ``item_key`` and ``text_clean``.
        centroids: Final theme centroids by ID, L2-normalised.
        embedder: The pipeline's embedder (clause embeddings).
        version: Clause enrichment version.
        min_similarity: Cosine a clause needs to join a theme.
        max_clauses: Clauses per item considered (the rest are ignored).

    Returns:
        Per theme, ``nlp.theme_clauses.theme_mentions``.
    """
    keys = items["item_key"].astype(str).tolist()
    texts = items["text_clean"].tolist()
    stored = load_clauses(store, keys, version)
    state = ThemeState(store)
    if not stored.empty:
        # Single-clause items are covered by their item-level theme; only split items count.
        counts = stored.groupby("item_key")["clause_idx"].transform("size")
        stored = stored[(counts >= 2) & (stored["clause_idx"] < max_clauses)]
    if stored.empty or not centroids:
        state.save_clauses(run_id, pd.DataFrame())
        return {}
    position = {k: i for i, k in enumerate(keys)}
    item_idx = [position[k] for k in stored["item_key"]]
    clause_texts = [
        texts[i][a:b]
        for i, a, b in zip(item_idx, stored["start_char"], stored["end_char"], strict=True)
    ]
    language = item_languages(items)
    vectors = clause_vectors(store, embedder, clause_texts, [language[i] for i in item_idx])
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    ids = sorted(centroids)
    assigned = assign_clauses(
        item_idx, stored["clause_idx"].tolist(), clause_texts, vectors,
        np.vstack([centroids[t] for t in ids]), ids, min_similarity, stored["label"].tolist(),
    )  # fmt: skip
    frame = pd.DataFrame(
        {
            "item_key": [keys[a.item_idx] for a in assigned],
            "clause_idx": [a.clause_idx for a in assigned],
            "clause": [a.text for a in assigned],
            "theme_id": [a.theme_id for a in assigned],
            "sentiment": [a.sentiment for a in assigned],
        }
    )
    state.save_clauses(run_id, frame)
    return theme_mentions(item_themes, assigned)
