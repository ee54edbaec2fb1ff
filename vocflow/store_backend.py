"""Where the store lives: an embedded DuckDB file (the default) or a PostgreSQL database.

``vocflow.store.Store`` and the modules that keep their own tables (clause_store, theme_state,
erasure, calibration, actions) write their SQL once, in DuckDB's dialect, against
``store.con``. On DuckDB ``store.con`` is the DuckDB connection itself. On PostgreSQL it is a
``PostgresConnection``: the same small API (``execute(...).fetchall() / .df() / .fetchnumpy()``,
``executemany``, ``register`` / ``unregister`` of a pandas frame, ``close``) with the dialect
differences handled here and nowhere else:

* parameters: ``?`` becomes ``%s`` (and a literal ``%`` becomes ``%%``);
* ``x IN (SELECT unnest(?))`` with a list parameter becomes ``x = ANY(%s)``, and
  ``x NOT IN (SELECT unnest(?))`` becomes ``x <> ALL(%s)``;
* types: ``BLOB`` -> ``BYTEA``, ``FLOAT`` -> ``REAL`` (4 bytes, as in DuckDB), ``DOUBLE`` ->
  ``DOUBLE PRECISION``, ``JSON`` -> ``TEXT`` (the store keeps JSON as text it parses itself;
  DuckDB returns JSON columns as strings too);
* ``INSERT OR REPLACE INTO t ...`` becomes ``INSERT INTO t ... ON CONFLICT (<t's primary key>)
  DO UPDATE SET <every other column> = EXCLUDED.<column>``;
* ``register(name, frame)`` (a DuckDB view over a pandas frame) becomes a temporary table
  filled with one ``COPY``; ``unregister`` drops it;
* timestamps: the session runs in UTC and ``TIMESTAMPTZ`` values come back timezone-aware.

The password is never part of the URL in a config file: it comes from the environment variable
``VOCFLOW_STORE_PASSWORD`` or from a Prefect Secret block (``store_password_block``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

PASSWORD_ENV = "VOCFLOW_STORE_PASSWORD"  # noqa: S105 - a variable name, not a password
"""Environment variable holding the PostgreSQL store's password."""

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL store (a ``postgresql://`` URL)."""
    return isinstance(target, str) and urlsplit(target).scheme in POSTGRES_SCHEMES


def redact_url(url: str) -> str:
    """The URL without its password (for logs and error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


# -- SQL translation ------------------------------------------------------------------------------
_UNNEST_IN = re.compile(r"\bIN\s*\(\s*SELECT\s+unnest\s*\(\s*\?\s*\)\s*\)", re.IGNORECASE)
_UNNEST_NOT_IN = re.compile(r"\bNOT\s+IN\s*\(\s*SELECT\s+unnest\s*\(\s*\?\s*\)\s*\)", re.IGNORECASE)
_TYPES = (
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
    (re.compile(r"\bFLOAT\b", re.IGNORECASE), "REAL"),
    (re.compile(r"\bDOUBLE\b(?!\s+PRECISION)", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bJSON\b", re.IGNORECASE), "TEXT"),
)
_CREATE = re.compile(r"^\s*CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\b", re.IGNORECASE)
_INSERT_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)", re.IGNORECASE)


def to_postgres(sql: str, with_params: bool = True) -> str:
    """Rewrites the store's DuckDB SQL for PostgreSQL (see module docstring).

    Args:
        sql: Statement(s) with ``?`` placeholders.
        with_params: Whether it runs with parameters (only then are placeholders rewritten;
            psycopg sends a statement without parameters as it is).

    ``INSERT OR REPLACE`` is left to ``PostgresConnection`` (it needs the table's key).
    """
    sql = _UNNEST_NOT_IN.sub("<> ALL(?)", sql)  # before IN: "NOT = ANY" is no SQL
    sql = _UNNEST_IN.sub("= ANY(?)", sql)
    for pattern, replacement in _TYPES:
        sql = pattern.sub(replacement, sql)
    return sql.replace("%", "%%").replace("?", "%s") if with_params else sql


# -- frames as temporary tables --------------------------------------------------------------------
def _sample(values: pd.Series) -> Any:
    present = values.dropna()
    return present.iloc[0] if len(present) else None


def _column_type(values: pd.Series) -> str:
    """PostgreSQL type of a frame column (what DuckDB would infer when scanning the frame)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int8"
    if pd.api.types.is_float_dtype(dtype):
        return "float8"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    sample = _sample(values) if dtype is np.dtype(object) else None
    if isinstance(sample, bytes | bytearray | memoryview):
        return "bytea"
    if isinstance(sample, list | tuple | np.ndarray):
        first = next(iter(sample), None)
        return "text[]" if isinstance(first, str) else "float8[]"
    if isinstance(sample, bool | np.bool_):
        return "bool"
    if isinstance(sample, int | np.integer):
        return "int8"
    if isinstance(sample, float | np.floating):
        return "float8"
    if isinstance(sample, datetime):
        return "timestamptz" if sample.tzinfo is not None else "timestamp"
    if isinstance(sample, date):
        return "date"
    return "text"


def _cell(value: Any) -> Any:
    """A frame cell as psycopg adapts it: NaN/NaT/NA -> None, arrays -> lists, numpy -> Python."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _cell(value.item())
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _column_values(values: pd.Series) -> list[Any]:
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    if pd.api.types.is_float_dtype(values.dtype):
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return [None if math.isnan(v) else v for v in array.tolist()]
    if values.dtype is not np.dtype(object):
        return [_cell(v) for v in values.tolist()]
    return [_cell(v) for v in values]


# -- results ---------------------------------------------------------------------------------------
class PostgresResult:
    """Rows of one statement, with the fetch methods the store uses on DuckDB results."""

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns = columns
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All rows as tuples."""
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def df(self) -> pd.DataFrame:
        """The rows as a pandas frame (timestamps as timezone-aware UTC)."""
        frame = pd.DataFrame.from_records(self.rows, columns=self.columns)
        for column in frame.columns:
            sample = _sample(frame[column]) if frame[column].dtype is np.dtype(object) else None
            if isinstance(sample, datetime) and sample.tzinfo is not None:
                frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    fetchdf = df

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """One object array per column (what DuckDB's ``fetchnumpy`` gives for text and blobs)."""
        out: dict[str, np.ndarray] = {}
        for i, name in enumerate(self.columns):
            column = np.empty(len(self.rows), dtype=object)
            column[:] = [row[i] for row in self.rows]
            out[name] = column
        return out


# -- connection ------------------------------------------------------------------------------------
class PostgresConnection:
    """A PostgreSQL connection with the part of DuckDB's connection API the store uses.

    Args:
        url: ``postgresql://user@host:port/db`` (a ``+psycopg`` driver suffix is accepted).
        password: The password (None: from the URL, ``PGPASSWORD`` or ``~/.pgpass``).
        read_only: Every transaction of the session is read-only.
    """

    dialect = "postgres"

    def __init__(self, url: str, password: str | None = None, read_only: bool = False) -> None:
        import psycopg

        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        options = "-c TimeZone=UTC" + (" -c default_transaction_read_only=on" if read_only else "")
        kwargs: dict[str, Any] = {"autocommit": True, "options": options}
        if password is not None:
            kwargs["password"] = password
        try:
            self._con = psycopg.connect(conninfo, **kwargs)
        except psycopg.OperationalError as error:
            raise ConnectionError(
                f"cannot connect to the PostgreSQL store {redact_url(url)}: {error}"
            ) from None
        self._keys: dict[str, tuple[list[str], list[str]]] = {}

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PostgresResult:
        """Runs one statement (or several, without parameters) and returns its rows."""
        query = self._translate(sql, with_params=params is not None)
        if _CREATE.match(sql) and self._idle():
            # Two sessions creating the same table at once collide in PostgreSQL's catalog
            # even with IF NOT EXISTS: schema changes take turns behind an advisory lock.
            with self._con.cursor() as cursor, self._con.transaction():
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('vocflow-store-ddl'))")
                cursor.execute(query)
            return PostgresResult([], [])
        with self._con.cursor() as cursor:
            if params is None:
                cursor.execute(query)
            else:
                cursor.execute(query, [p if isinstance(p, list) else _cell(p) for p in params])
            if cursor.description is None:
                return PostgresResult([], [])
            return PostgresResult([d.name for d in cursor.description], cursor.fetchall())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Runs one statement once per row of parameters."""
        query = self._translate(sql)
        with self._con.cursor() as cursor:
            cursor.executemany(query, [[_cell(v) for v in row] for row in rows])

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Makes ``frame`` queryable as ``name``: a temporary table filled with one COPY."""
        columns = [str(c) for c in frame.columns]
        types = [_column_type(frame[c]) for c in frame.columns]
        # A column with no value says nothing about its type; DuckDB would let NULL become
        # anything, PostgreSQL needs a type: the store column of that name has one.
        empty = [c for c in columns if frame[c].isna().all()]
        stored = self._stored_types(empty) if empty else {}
        table_types = [stored.get(c, t) for c, t in zip(columns, types, strict=True)]
        ddl = ", ".join(f'"{c}" {t}' for c, t in zip(columns, table_types, strict=True))
        values = [_column_values(frame[c]) for c in frame.columns]
        quoted = ", ".join(f'"{c}"' for c in columns)
        with self._con.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({ddl})")
            with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                copy.set_types(types)
                for row in zip(*values, strict=True):
                    copy.write_row(row)

    def _stored_types(self, columns: list[str]) -> dict[str, str]:
        """Type of each named column in the store's tables, where all tables agree on it."""
        with self._con.cursor() as cursor:
            cursor.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
                "AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(%s)",
                [columns],
            )
            found: dict[str, set[str]] = {}
            for column, kind in cursor.fetchall():
                found.setdefault(str(column), set()).add(str(kind))
        return {c: next(iter(k)) for c, k in found.items() if len(k) == 1}

    def unregister(self, name: str) -> None:
        """Drops a frame registered with ``register``."""
        with self._con.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")

    def close(self) -> None:
        """Closes the connection."""
        self._con.close()

    def _idle(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self._con.info.transaction_status == TransactionStatus.IDLE)

    def _translate(self, sql: str, with_params: bool = True) -> str:
        match = _INSERT_OR_REPLACE.match(sql)
        if not match:
            return to_postgres(sql, with_params)
        table = match.group(1)
        keys, others = self._key_columns(table)
        body = _INSERT_OR_REPLACE.sub(f"INSERT INTO {table}", sql, count=1).rstrip().rstrip(";")
        update = ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
        action = f"DO UPDATE SET {update}" if update else "DO NOTHING"
        return to_postgres(f"{body} ON CONFLICT ({', '.join(keys)}) {action}", with_params)

    def _key_columns(self, table: str) -> tuple[list[str], list[str]]:
        """Primary-key columns and the other columns of a table, in table order."""
        if table not in self._keys:
            with self._con.cursor() as cursor:
                cursor.execute(
                    "SELECT a.attname, coalesce(a.attnum = ANY(i.indkey), false) "
                    "FROM pg_attribute a LEFT JOIN pg_index i "
                    "ON i.indrelid = a.attrelid AND i.indisprimary "
                    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
                    "ORDER BY a.attnum",
                    [table],
                )
                rows = cursor.fetchall()
            keys = [str(name) for name, is_key in rows if is_key]
            if not keys:
                raise ValueError(f"INSERT OR REPLACE needs a primary key on {table}")
            self._keys[table] = (keys, [str(name) for name, is_key in rows if not is_key])
        return self._keys[table]


# -- opening -------------------------------------------------------------------------------------
def store_password(block: str | None = None) -> str | None:
    """The PostgreSQL store password: ``VOCFLOW_STORE_PASSWORD``, else a Prefect Secret block."""
    import os

    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if block:
        from vocflow.secrets import secret_block

        return secret_block(block)
    return None


def connect(target: Path | str, read_only: bool = False, password_block: str | None = None) -> Any:
    """Opens the store's connection: DuckDB for a file path, PostgreSQL for a URL.

    Returns:
        ``duckdb.DuckDBPyConnection`` or ``PostgresConnection``.
    """
    if is_postgres_url(target):
        return PostgresConnection(str(target), store_password(password_block), read_only)
    import duckdb

    path = Path(target)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


@contextmanager
def transaction(con: Any) -> Iterator[None]:
    """Runs the block in one transaction on either backend; rolls back on error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
