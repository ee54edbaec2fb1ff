"""SQL connector: a table or read-only query of any database SQLAlchemy reaches.

PostgreSQL, MySQL, SQLite, ...: rows are mapped to feedback items with the same column mapping
(and quarantine reasons) as files.

Incremental by a watermark column with a primary-key tiebreak (keyset pagination): each page is
one bounded query for the rows strictly after the last (watermark, key) handed out, in that
order, so rows sharing one watermark value across a page or run boundary are neither skipped
nor read twice, and nothing is held open between pages. The saved bookmark is the position of
the last row stored as an item (within ``connectors.base.cursor_limit``), so rows quarantined
after it are read again next run (the quarantine keeps each once) and never push it ahead.
With an edit timestamp as the watermark an edited row moves past the bookmark and is read
again; the store keeps its latest version. Rows whose watermark is NULL are quarantined
(``missing_date``, up to ``batch_size`` of them) on every run, so they are not silently
skipped. A watermark cannot see a row committed after rows with a later watermark were read
(a long transaction); ``lookback_s`` re-reads that window on every run.

Connections are read-only where the database enforces it (PostgreSQL sessions default to
read-only transactions, SQLite runs with ``query_only``). The URL comes from the environment
variable (or Prefect Secret block, see ``connectors.credentials``) named in the options, never
from the config file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Select,
    and_,
    column,
    create_engine,
    event,
    literal_column,
    or_,
    select,
)
from sqlalchemy import table as sql_table
from sqlalchemy import text as sql_text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql import FromClause

from connectors.base import Batch, Bookmark, ConnectorError, cursor_limit
from connectors.credentials import SecretRef
from connectors.row_mapping import RowMapper
from connectors.schema import FeedbackItem, raw_json
from connectors.sql_cursor import KeysetPosition
from connectors.sql_errors import explain
from connectors.sql_options import SqlSourceOptions

__all__ = ["SqlConnector", "SqlSourceOptions"]


class SqlConnector:
    """Reads one table or query of a SQL database.

    Args:
        name: Source instance name.
        options: Validated SQL options.
        customer_salt: Secret salt for hashing customer identifiers.
        base_dir: Directory that a relative SQLite path in the URL is resolved against.
        now: Clock for the future-date check (tests pin it).
    """

    def __init__(
        self,
        name: str,
        options: SqlSourceOptions,
        customer_salt: str,
        *,
        base_dir: Path | None = None,
        now: datetime | None = None,
    ) -> None:
        self.name = name
        self.options = options
        key = options.key_column
        assert key is not None  # noqa: S101 - the options validator requires one
        self.primary_key: str = key
        self.cursor_field: str | None = options.cursor_column
        self._base_dir = base_dir
        self._now = now
        ref = options.table or "query"
        self._rows = RowMapper(name, options, customer_salt, ref_prefix=ref, now=now)

    def check(self) -> str:
        """Connects, and checks that the table or query has the mapped columns."""
        url, _ = self._url()
        engine = self._engine()
        try:
            self._check_columns(engine)
        finally:
            engine.dispose()
        what = self.options.table or "query"
        where = url.render_as_string(hide_password=True)
        return f"{where}: {what} readable, mapped columns present"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields pages of rows after the bookmark's (watermark, key), in that order."""
        position = KeysetPosition.from_token(bookmark.value, self.name) if bookmark else None
        if position is not None and self.options.lookback_s:
            position = position.looking_back(self.options.lookback_s, self.name)
        engine = self._engine()
        try:
            self._check_columns(engine)
            missing = self._fetch(engine, self._null_watermark_query())
            if missing:
                column_name = self.options.cursor_column
                bad = [self._rows.bad_cursor(row, column_name) for row in missing]
                yield Batch(quarantined=bad, rows_read=len(bad))
            while True:
                rows = self._fetch(engine, self._page_query(position))
                if not rows:
                    return
                batch, position = self._batch(rows)
                yield batch
                if len(rows) < self.options.batch_size:
                    return
        finally:
            engine.dispose()

    def _batch(self, rows: list[dict[str, Any]]) -> tuple[Batch, KeysetPosition]:
        wm_col, key_col = self.options.cursor_column, self.primary_key
        batch = Batch(rows_read=len(rows))
        previous: tuple[Any, Any, str] | None = None
        kept: list[dict[str, Any]] = []
        for row in rows:
            content = raw_json(row)
            here = (row[wm_col], row[key_col])
            if previous is not None and here == previous[:2]:
                # A query (a join) can repeat a key at one watermark: the first row wins, as
                # in files; an exact repeat is dropped silently.
                if content != previous[2]:
                    detail = "same key and watermark as the previous row, other content"
                    batch.quarantined.append(
                        self._rows.quarantine(row, "duplicate_conflict", detail)
                    )
                continue
            previous = (*here, content)
            kept.append(row)
        limit = cursor_limit(self._now)
        stored: KeysetPosition | None = None
        for row, outcome in zip(kept, self._rows.to_items(kept), strict=True):
            if isinstance(outcome, FeedbackItem):
                batch.items.append(outcome)
                # The bookmark stops at the last row stored, within the clock's limit: a
                # quarantined row (a watermark of 2099) must not carry it past rows to come.
                position = self._position(row)
                if position.utc is None or datetime.fromisoformat(position.utc) <= limit:
                    stored = position
            else:
                batch.quarantined.append(outcome)
        if stored is not None:
            batch.bookmark = Bookmark(wm_col, stored.to_token())
        # The next page still starts after the last row handed out, whatever became of it.
        return batch, self._position(rows[-1])

    def _position(self, row: dict[str, Any]) -> KeysetPosition:
        watermark = row[self.options.cursor_column]
        utc = self._rows.one_time(watermark)
        return KeysetPosition(watermark, row[self.primary_key], utc.isoformat() if utc else None)

    def _columns(self) -> list[str]:
        extra = {self.options.cursor_column, self.primary_key}
        return sorted(self._rows.mapped_columns() | extra)

    def _source(self) -> FromClause:
        columns: list[Any] = [column(name) for name in self._columns()]
        if self.options.table is not None:
            return sql_table(self.options.table, *columns, schema=self.options.table_schema)
        assert self.options.query is not None  # noqa: S101 - the validator requires one
        query = self.options.query.strip().rstrip(";")
        return sql_text(query).columns(*columns).subquery("vocflow_source")

    def _page_query(self, position: KeysetPosition | None) -> Select[Any]:
        src = self._source()
        wm, key = src.c[self.options.cursor_column], src.c[self.primary_key]
        query = select(*(src.c[name] for name in self._columns())).where(wm.is_not(None))
        if position is not None and position.key is None:
            query = query.where(wm >= position.watermark)
        elif position is not None:
            query = query.where(
                or_(wm > position.watermark, and_(wm == position.watermark, key > position.key))
            )
        return query.order_by(wm, key).limit(self.options.batch_size)

    def _null_watermark_query(self) -> Select[Any]:
        src = self._source()
        wm, key = src.c[self.options.cursor_column], src.c[self.primary_key]
        columns: list[Any] = [src.c[name] for name in self._columns()]
        # Bounded like a page: a table full of NULL watermarks must not be loaded whole.
        return select(*columns).where(wm.is_(None)).order_by(key).limit(self.options.batch_size)

    def _check_columns(self, engine: Engine) -> None:
        probe: Select[Any] = select(literal_column("*")).select_from(self._source()).limit(0)
        with self._connect(engine) as connection:
            have = set(self._run(connection, probe).keys())
        missing = sorted(set(self._columns()) - have)
        if missing:
            what = f"table {self.options.table!r}" if self.options.table else "the query"
            raise ConnectorError(
                f"source {self.name!r}: columns {missing} not in {what} (has {sorted(have)[:20]})"
            )

    def _fetch(self, engine: Engine, query: Select[Any]) -> list[dict[str, Any]]:
        # One connection per query: nothing stays open while the caller persists a batch.
        with self._connect(engine) as connection:
            return [dict(row) for row in self._run(connection, query).mappings()]

    @contextmanager
    def _connect(self, engine: Engine) -> Iterator[Connection]:
        try:
            connection = engine.connect()
        except SQLAlchemyError as error:
            raise self._explain(error) from error
        with connection:
            yield connection

    def _run(self, connection: Connection, query: Select[Any]) -> CursorResult[Any]:
        try:
            return connection.execute(query)
        except SQLAlchemyError as error:
            raise self._explain(error) from error

    def _explain(self, error: SQLAlchemyError) -> ConnectorError:
        url, where = self._url()
        return explain(error, self.name, url, where)

    def _url(self) -> tuple[URL, str]:
        """The database URL and where it came from (for messages)."""
        opts = self.options
        if opts.url is None:
            secret = SecretRef(env=opts.url_env, block=opts.url_block)
            where = secret.describe()
            try:
                raw = secret.resolve(self.name).strip()
            except ConnectorError as error:
                raise ConnectorError(
                    f"{error}; it holds the database's SQLAlchemy URL, e.g. "
                    "postgresql+psycopg://user:password@host:5432/db"
                ) from error
        else:
            where, raw = "options.url", opts.url
        try:
            url = make_url(raw)
        except ArgumentError:
            # The raw text may hold a password: it is not repeated.
            raise ConnectorError(
                f"source {self.name!r}: {where} is not a SQLAlchemy URL "
                "(dialect+driver://user:password@host:port/database)"
            ) from None
        database = Path(str(url.database))
        if is_sqlite_file(url) and not database.is_absolute() and self._base_dir:
            url = url.set(database=str((self._base_dir / database).resolve()))
        if is_sqlite_file(url) and not Path(str(url.database)).is_file():
            # sqlite3 would create an empty database and find no table in it.
            raise ConnectorError(
                f"source {self.name!r}: SQLite file not found: {url.database} (from {where})"
            )
        return url, where

    def _engine(self) -> Engine:
        url, _ = self._url()
        backend = url.get_backend_name()
        connect_args: dict[str, Any] = {}
        if backend == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
            # libpq options: give up on an unreachable host quickly, and make every
            # transaction read-only so a query can never change the customer's data.
            connect_args = {
                "connect_timeout": self.options.connect_timeout_s,
                "options": "-c default_transaction_read_only=on",
            }
        elif backend == "sqlite":
            connect_args = {"timeout": self.options.connect_timeout_s}
        try:
            engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        except (NoSuchModuleError, ModuleNotFoundError) as error:
            raise ConnectorError(
                f"source {self.name!r}: no driver for {url.drivername!r} ({error}); install "
                "one, e.g. pip install 'psycopg[binary]' for postgresql+psycopg"
            ) from error
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_read_only)
        return engine


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


def is_sqlite_file(url: URL) -> bool:
    """True for a SQLite URL naming a file (not ``:memory:`` or a ``file:`` URI)."""
    database = url.database or ""
    return (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    )
