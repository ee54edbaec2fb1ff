"""Keyset position of a SQL source: (watermark, primary key) of the last row handed out.

The position is saved as the bookmark's value, a small JSON token. Values keep the type the
driver returned them in (a naive ``datetime`` for ``timestamp``, an aware one for
``timestamptz``, text for SQLite's text timestamps, ints, decimals), so the next query compares
the column with exactly the value it held: a text timestamp re-bound as a ``datetime`` would be
rendered differently ("... 10:00:00.000000") and compare unequal to itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from connectors.base import ConnectorError


@dataclass(frozen=True)
class KeysetPosition:
    """Where the next page starts: rows strictly after (watermark, key) in that order.

    Attributes:
        watermark: Watermark value of the last row read, as the driver returned it.
        key: Primary-key value of that row; None starts at the watermark, inclusive.
        utc: The watermark as an ISO-8601 UTC string, for people reading the bookmark.
    """

    watermark: Any
    key: Any
    utc: str | None = None

    def to_token(self) -> str:
        """Serialises the position for ``Bookmark.value``."""
        payload = {"utc": self.utc, "watermark": _encode(self.watermark), "key": _encode(self.key)}
        return json.dumps(payload, sort_keys=True, ensure_ascii=False)

    def looking_back(self, seconds: int, source: str) -> KeysetPosition:
        """The position ``seconds`` earlier, inclusive (to re-read late-committed rows).

        Raises:
            ConnectorError: The watermark is not a timestamp the driver returns as one.
        """
        if not isinstance(self.watermark, datetime):
            kind = type(self.watermark).__name__
            raise ConnectorError(
                f"source {source!r}: lookback_s needs a timestamp watermark column; this one "
                f"holds {kind} values (SQLite keeps timestamps as text): set lookback_s to 0"
            )
        return KeysetPosition(self.watermark - timedelta(seconds=seconds), None, self.utc)

    @classmethod
    def from_token(cls, token: str, source: str) -> KeysetPosition:
        """Parses a saved token.

        Raises:
            ConnectorError: When the saved state is not a SQL keyset token (the source was
                re-pointed at another kind); says how to start over.
        """
        try:
            payload = json.loads(token)
            return cls(_decode(payload["watermark"]), _decode(payload["key"]), payload.get("utc"))
        except (ValueError, KeyError, TypeError) as error:
            raise ConnectorError(
                f"source {source!r}: saved state {token[:80]!r} is not a SQL keyset position; "
                "delete the source's row in the connector_state table to read it from the start"
            ) from error


def _encode(value: Any) -> Any:
    # datetime is checked before date: it is a subclass.
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in a keyset position")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        (kind, text), *_ = value.items()
        if kind == "datetime":
            return datetime.fromisoformat(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "decimal":
            return Decimal(text)
        if kind == "uuid":
            return UUID(text)
        raise ValueError(f"unknown value kind {kind!r}")
    return value
