"""Options of a SQL source: where the database URL comes from, what to read, how to page."""

from __future__ import annotations

import re

from pydantic import Field, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.file_options import MappingOptions

# A read-only query starts with SELECT, WITH, VALUES or TABLE once comments are stripped.
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_READ_ONLY_START = re.compile(r"^\s*\(*\s*(select|with|values|table)\b", re.IGNORECASE)


class SqlSourceOptions(MappingOptions):
    """Options of one SQL source (the ``options`` block of a ``kind: sql`` source).

    Besides the ``MappingOptions`` fields (column mapping, channel, timezone of naive
    timestamps, ``batch_size`` = rows per page):

    Attributes:
        url_env: Name of the environment variable holding the SQLAlchemy URL (the way to pass
            a password: config files never hold one).
        url_block: Prefect Secret block holding the URL (used when ``url_env`` is unset or
            empty; loaded through ``connectors.credentials``).
        url: The URL itself, only when it has no password (a SQLite file, a socket with peer
            auth); relative SQLite paths are resolved against the project root.
        table: Table (or view) to read.
        table_schema: Schema of ``table`` (the database default when omitted).
        query: A read-only ``SELECT``/``WITH`` query instead of ``table``; it is wrapped as a
            subquery, so it must not end with ``ORDER BY``/``LIMIT`` of its own.
        watermark_column: Incremental cursor column; defaults to ``columns.updated_at``, else
            ``columns.created_at``. Use the edit timestamp so edited rows are read again.
        primary_key: Unique column that orders rows sharing a watermark value (the keyset
            tiebreak); defaults to ``columns.id`` when that is one column.
        lookback_s: On each run, also re-read rows whose watermark lies up to this many
            seconds before the bookmark (timestamp watermarks only). Catches rows committed
            late: a transaction that stamped ``updated_at`` before rows already read but
            committed after them. The store absorbs what is read again. 0 reads exactly after
            the bookmark.
        connect_timeout_s: Seconds to wait for the server before giving up.
    """

    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    url_block: str | None = None
    url: str | None = None
    table: str | None = None
    table_schema: str | None = None
    query: str | None = None
    watermark_column: str | None = None
    primary_key: str | None = None
    lookback_s: int = Field(default=0, ge=0)
    connect_timeout_s: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _check(self) -> SqlSourceOptions:
        secret = self.url_env is not None or self.url_block is not None
        if secret == (self.url is not None):
            raise ValueError("set url_env (or url_block), or a url without a password")
        if self.url is not None:
            try:
                parsed = make_url(self.url)
            except ArgumentError as error:
                raise ValueError(f"url is not a SQLAlchemy URL: {error}") from None
            if parsed.password is not None:
                raise ValueError(
                    "url holds a password: put the URL in an environment variable and name "
                    "that variable in url_env"
                )
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of table and query")
        if self.query is not None:
            body = _COMMENTS.sub(" ", self.query).strip().rstrip(";").strip()
            if not _READ_ONLY_START.match(body) or ";" in body:
                raise ValueError("query must be one read-only SELECT or WITH statement")
        if self.key_column is None:
            raise ValueError("set primary_key: columns.id has several columns")
        return self

    @property
    def cursor_column(self) -> str:
        """The watermark column in effect."""
        cols = self.columns
        return self.watermark_column or cols.updated_at or cols.created_at

    @property
    def key_column(self) -> str | None:
        """The keyset tiebreak column in effect."""
        if self.primary_key:
            return self.primary_key
        return self.columns.id if isinstance(self.columns.id, str) else None
