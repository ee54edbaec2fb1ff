"""Closing the loop: the action log and customer status (churn), kept in the DuckDB store.

Both tables live here, not in ``vocflow/store.py``, and are created on first use:

* ``action_log``: theme -> owner, action, date, link (and optional control themes). Themes are
  named by label because theme ids change when themes are refitted; the report matches them to
  the run's themes (``outputs.did.match_theme``). An action's id is a hash of its theme, action
  and date unless given, so importing the same file twice changes nothing.
* ``customer_status``: hashed customer key -> churned or retained. Raw customer ids in a status
  file are hashed with the same salt as the connectors use, so they join with stored items
  without any raw id being stored.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from connectors.schema import hash_customer
from outputs.did import LoggedAction
from vocflow.store import Store

_DDL = """
CREATE TABLE IF NOT EXISTS action_log (
    action_id VARCHAR PRIMARY KEY,
    theme VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    action_date DATE NOT NULL,
    link VARCHAR,
    controls JSON,
    logged_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_status (
    customer_key VARCHAR PRIMARY KEY,
    churned BOOLEAN NOT NULL,
    source VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);
"""

CHURN_VALUES = frozenset({"churned", "churn", "cancelled", "canceled", "lost", "1", "true", "yes"})
RETAINED_VALUES = frozenset({"retained", "active", "renewed", "0", "false", "no"})


def ensure_tables(store: Store) -> None:
    """Create the action-log and customer-status tables if missing."""
    store.con.execute(_DDL)


def action_id_for(theme: str, action: str, action_date: date) -> str:
    """Stable id of an action: the first 12 hex digits of SHA-256 over theme, action, date."""
    text = f"{theme.strip().casefold()}\x1f{action.strip()}\x1f{action_date.isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def add_action(
    store: Store,
    *,
    theme: str,
    action: str,
    action_date: date,
    owner: str = "",
    link: str | None = None,
    controls: Iterable[str] = (),
    action_id: str | None = None,
) -> LoggedAction:
    """Log an action (replacing an earlier entry with the same id).

    Args:
        store: The store.
        theme: Theme label (or words of it) the action addresses.
        action: What was done.
        action_date: When it took effect (first day of the "after" window).
        owner: Who owns it.
        link: Ticket, release note or PR.
        controls: Theme labels to use as controls (default: every other theme).
        action_id: Explicit id; default :func:`action_id_for`.

    Returns:
        The logged action.

    Raises:
        ValueError: If theme or action is empty.
    """
    if not theme.strip() or not action.strip():
        raise ValueError("an action needs a theme and a description")
    logged = LoggedAction(
        action_id=action_id or action_id_for(theme, action, action_date),
        theme=theme.strip(),
        owner=owner.strip(),
        action=action.strip(),
        action_date=action_date,
        link=link or None,
        controls=[c.strip() for c in controls if c.strip()],
    )
    ensure_tables(store)
    store.con.execute(
        "INSERT OR REPLACE INTO action_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            logged.action_id, logged.theme, logged.owner, logged.action, logged.action_date,
            logged.link, json.dumps(logged.controls, ensure_ascii=False), datetime.now(UTC),
        ],
    )  # fmt: skip
    return logged


def list_actions(store: Store) -> list[LoggedAction]:
    """All logged actions, oldest action date first."""
    ensure_tables(store)
    rows = store.con.execute(
        "SELECT action_id, theme, owner, action, action_date, link, controls FROM action_log "
        "ORDER BY action_date, action_id"
    ).fetchall()
    return [
        LoggedAction(
            action_id=r[0],
            theme=r[1],
            owner=r[2],
            action=r[3],
            action_date=r[4],
            link=r[5],
            controls=json.loads(r[6]) if r[6] else [],
        )  # fmt: skip
        for r in rows
    ]


def remove_action(store: Store, action_id: str) -> bool:
    """Delete an action; returns whether it existed."""
    ensure_tables(store)
    found = store.con.execute(
        "SELECT count(*) FROM action_log WHERE action_id = ?", [action_id]
    ).fetchall()[0][0]
    store.con.execute("DELETE FROM action_log WHERE action_id = ?", [action_id])
    return bool(found)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV/TSV file (header row) or a YAML/JSON list of mappings.

    Raises:
        ValueError: For another extension or a YAML/JSON document that is not a list of
            mappings.
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ","))
    if suffix in (".yaml", ".yml", ".json"):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(loaded, list) and all(isinstance(r, Mapping) for r in loaded):
            return [dict(r) for r in loaded]
        raise ValueError(f"{path}: expected a list of mappings")
    raise ValueError(f"{path}: unsupported file type {suffix!r} (csv, tsv, yaml, json)")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


def import_actions(store: Store, path: Path) -> list[LoggedAction]:
    """Log every action of a file.

    Columns: ``theme, action, date`` (or ``action_date``), optional ``owner, link,
    controls`` (";"-separated labels) and ``action_id``.

    Args:
        store: The store.
        path: CSV/TSV/YAML/JSON file.

    Returns:
        The logged actions, in file order.

    Raises:
        ValueError: With the row number, for a row without theme, action or a valid date.
    """
    logged = []
    for number, row in enumerate(read_records(path), start=1):
        try:
            controls = row.get("controls") or []
            if isinstance(controls, str):
                controls = controls.split(";")
            logged.append(
                add_action(
                    store,
                    theme=str(row.get("theme") or ""),
                    action=str(row.get("action") or ""),
                    action_date=_date(row.get("action_date") or row.get("date")),
                    owner=str(row.get("owner") or ""),
                    link=str(row["link"]) if row.get("link") else None,
                    controls=[str(c) for c in controls],
                    action_id=str(row["action_id"]) if row.get("action_id") else None,
                )
            )
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}: row {number}: {error}") from error
    return logged


def parse_status(value: Any) -> bool:
    """True for a churned status, False for a retained one (case-insensitive).

    Raises:
        ValueError: For a value in neither ``CHURN_VALUES`` nor ``RETAINED_VALUES``.
    """
    text = str(value).strip().casefold()
    if text in CHURN_VALUES:
        return True
    if text in RETAINED_VALUES:
        return False
    raise ValueError(f"unknown customer status {value!r}")


def import_customer_status(
    store: Store,
    path: Path,
    salt: str,
    *,
    id_column: str = "customer_id",
    status_column: str = "status",
    source: str | None = None,
) -> int:
    """Store churned/retained status per customer from a file, hashing raw ids with the salt.

    A ``customer_key`` column (already hashed, as stored on items) is used as is; otherwise
    ``id_column`` holds raw ids, hashed like the connectors do (``hash_customer``).

    Args:
        store: The store.
        path: CSV/TSV/YAML/JSON file.
        salt: The customer-key salt (``vocflow.secrets.customer_salt``).
        id_column: Column with raw customer ids.
        status_column: Column with the status (``CHURN_VALUES`` / ``RETAINED_VALUES``).
        source: Recorded with each row (default: the file name).

    Returns:
        Rows stored (customers erased with ``vocflow forget`` are skipped).

    Raises:
        ValueError: With the row number, for a missing id or an unknown status.
    """
    ensure_tables(store)
    now, label = datetime.now(UTC), source or path.name
    erased = _erased_keys(store)
    rows = []
    for number, row in enumerate(read_records(path), start=1):
        try:
            key = row.get("customer_key")
            if not key:
                raw = row.get(id_column)
                if raw in (None, ""):
                    raise ValueError(f"no {id_column!r}")
                key = hash_customer(str(raw), salt)
            if str(key) not in erased:  # a forgotten customer stays forgotten
                rows.append([str(key), parse_status(row.get(status_column)), label, now])
        except ValueError as error:
            raise ValueError(f"{path}: row {number}: {error}") from error
    if rows:
        store.con.executemany("INSERT OR REPLACE INTO customer_status VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def load_churn_status(store: Store) -> dict[str, bool]:
    """Hashed customer key -> churned, for every customer with a stored status."""
    ensure_tables(store)
    rows = store.con.execute("SELECT customer_key, churned FROM customer_status").fetchall()
    return {str(k): bool(c) for k, c in rows}


def forget_customer_status(store: Store, customer_key: str) -> int:
    """Delete a customer's churn status (for erasure requests); returns rows deleted."""
    ensure_tables(store)
    found = store.con.execute(
        "SELECT count(*) FROM customer_status WHERE customer_key = ?", [customer_key]
    ).fetchall()[0][0]
    store.con.execute("DELETE FROM customer_status WHERE customer_key = ?", [customer_key])
    return int(found)


def _erased_keys(store: Store) -> frozenset[str]:
    # The erasure log (vocflow/erasure.py) may not exist in this store yet.
    exists = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'erased_customers'"
    ).fetchall()[0][0]
    if not exists:
        return frozenset()
    rows = store.con.execute("SELECT customer_key FROM erased_customers").fetchall()
    return frozenset(str(r[0]) for r in rows)
