"""Keyset paging over "updated since T" APIs, without the gaps that page numbers leave.

Page-number paging over a list sorted by ``updated_at`` skips rows when a row on an earlier page
is edited mid-sync (it moves to the end and the rest shift forward). Instead each request asks
again for rows at or after the last timestamp seen, and drops the ids already returned at that
timestamp. Only when a whole page shares one timestamp does it step to the next page number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from connectors.base import ConnectorError

Row = dict[str, Any]
# fetch(since, page) returns one API page of rows ordered by (timestamp, id) ascending.
Fetch = Callable[[datetime, int], list[Row]]


def keyset_pages(
    fetch: Fetch,
    since: datetime,
    *,
    source: str,
    page_size: int,
    timestamp: Callable[[Row], datetime],
    row_id: Callable[[Row], str],
    can_step_pages: bool = True,
) -> Iterator[list[Row]]:
    """Yields pages of rows at or after ``since``, each row once, in timestamp order.

    Args:
        fetch: Reads one page for an inclusive lower bound and a page number (from 1).
        since: Inclusive lower bound of the first request.
        source: Source instance name (for messages).
        page_size: Rows the API returns on a full page.
        timestamp: The row's cursor timestamp.
        row_id: The row's id.
        can_step_pages: Whether ``fetch`` honours page numbers above 1 (if not, a full page
            sharing one timestamp is an error asking for a larger page size).

    Raises:
        ConnectorError: A full page shares one timestamp and the API cannot page past it.
    """
    page = 1
    seen_at_since: set[str] = set()
    while True:
        rows = fetch(since, page)
        fresh = [row for row in rows if row_id(row) not in seen_at_since]
        if fresh:
            yield fresh
        if len(rows) < page_size:
            return
        last = timestamp(rows[-1])
        # A full page that does not get past ``since`` (one timestamp, or an API answering a
        # little before the bound) can only be left by the page number, never by the bound.
        if last <= since:
            if not can_step_pages:
                raise ConnectorError(
                    f"source {source!r}: more than {page_size} rows share the timestamp "
                    f"{since.isoformat()}; raise the page_size option"
                )
            page += 1
            seen_at_since |= {row_id(row) for row in rows}
        else:
            since, page = last, 1
            seen_at_since = {row_id(row) for row in rows if timestamp(row) == last}
