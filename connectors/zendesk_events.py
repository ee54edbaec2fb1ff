"""Zendesk comments from the incremental ticket-event export, where they are the whole thread.

``/api/v2/incremental/ticket_events.json?include=comment_events`` (time-based: ``start_time``,
``end_time``, ``end_of_stream``; admin-only like the ticket export) lists every ticket update
with its ``child_events``; a ``Comment`` child event carries the comment's body, ``public`` flag
and author. ``connectors.zendesk`` reads it alongside the ticket export so that tickets need no
comment call of their own, wherever the events are provably all of a ticket's comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from connectors.http import HttpClient, parse_time

EVENTS = "/api/v2/incremental/ticket_events.json"
_COMMENT_EVENTS = {"Comment", "VoiceComment"}  # child events that carry a comment's text
# Zendesk refuses an export start_time less than a minute old, and events of the last minute
# may still be arriving: coverage never reaches into it.
SETTLE_SECONDS = 60
# Tickets whose event comments are held at once; past it the oldest-held read their own.
_MAX_HELD = 50_000


def safe_time(value: Any) -> datetime | None:
    """A ticket timestamp as aware UTC (None if missing or unreadable: the row is judged later)."""
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def _seconds(value: Any) -> int | None:
    parsed = safe_time(value)
    return int(parsed.timestamp()) if parsed is not None else None


class EventComments:
    """Comments from the ticket-event export, for the tickets whose whole thread it holds.

    Events are read from ``since`` (Unix seconds) on, only as far as each ticket page needs.
    ``take`` hands out a ticket's comments only when they are provably all of them: created at
    or after ``since`` (each of its comments is then an event of this read), ``updated_at``
    before ``covered`` (every event before that second has been read), not handed out or
    dropped before in this run (its later events alone would be a partial thread), and at
    least one comment seen. Otherwise it answers None and the ticket reads its own comments.

    Args:
        client: The source's client.
        since: Start of the event read (the bookmark's ``utc``, or ``start_date``).
        now: The time now, Unix seconds.
    """

    def __init__(self, client: HttpClient, since: int, now: int) -> None:
        self._client = client
        self._since = since
        self._limit = now - SETTLE_SECONDS
        self._start = since  # start_time of the next page
        self._covered = since  # every event before this second has been read
        self._stopped = since >= self._limit  # too recent to ask for: Zendesk refuses it
        self._held: dict[Any, dict[Any, dict[str, Any]]] = {}  # ticket -> comment id -> comment
        self._excluded: set[Any] = set()  # handed out or dropped: never again from events

    def read_for(self, tickets: Iterable[dict[str, Any]]) -> None:
        """Reads event pages until the tickets that could be covered are, or no further."""
        wanted = [_seconds(t.get("updated_at")) for t in tickets if self._candidate(t)]
        need = max((w for w in wanted if w is not None), default=None)
        while need is not None and not self._stopped and self._covered <= need:
            self._page()

    def take(self, ticket: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The ticket's comments, oldest first, if the events hold all of them; else None."""
        updated = _seconds(ticket.get("updated_at"))
        whole = self._candidate(ticket) and updated is not None and updated < self._covered
        comments = self._held.pop(ticket.get("id"), {})
        self._excluded.add(ticket.get("id"))
        if not whole or not comments:  # every ticket has a comment: none seen proves nothing
            return None
        return sorted(comments.values(), key=lambda c: (str(c.get("created_at")), c.get("id")))

    def forget(self, ticket: dict[str, Any]) -> None:
        """A ticket this run will not build (other brand, deleted): drop what is held."""
        self._held.pop(ticket.get("id"), None)
        self._excluded.add(ticket.get("id"))

    def _candidate(self, ticket: dict[str, Any]) -> bool:
        created = _seconds(ticket.get("created_at"))
        known = ticket.get("id") is not None and ticket.get("id") not in self._excluded
        return known and created is not None and created >= self._since

    def _page(self) -> None:
        params = {"start_time": self._start, "include": "comment_events"}
        body = self._client.get_json(EVENTS, params).json()
        for event in body.get("ticket_events") or []:
            self._hold(event)
        end = int(body.get("end_time") or self._start)
        if body.get("end_of_stream"):
            self._covered = max(self._covered, min(end + 1, self._limit))
            self._stopped = True
        elif end <= self._start:
            # A page's worth of events in one second: the next page would start there again
            # and return the same events. Stop; tickets not covered read their own comments.
            self._stopped = True
        else:
            self._covered = max(self._covered, min(end, self._limit))
            self._start = end
            self._stopped = self._covered >= self._limit

    def _hold(self, event: dict[str, Any]) -> None:
        ticket = event.get("ticket_id")
        if ticket is None or ticket in self._excluded:
            return
        for child in event.get("child_events") or []:
            kind = child.get("event_type")
            if kind in _COMMENT_EVENTS and child.get("id") is not None:
                self._held.setdefault(ticket, {})[child["id"]] = dict(child)
            elif kind == "CommentPrivacyChange":
                # An agent made a comment private (often for what it reveals) or public
                # again: the comment API shows the current flag, so must the thread here.
                held = self._held.get(ticket, {}).get(child.get("comment_id"))
                if held is not None:
                    held["public"] = bool(child.get("public"))
        if len(self._held) > _MAX_HELD:  # bounded memory: the oldest-held reads its own
            oldest = next(iter(self._held))
            del self._held[oldest]
            self._excluded.add(oldest)
