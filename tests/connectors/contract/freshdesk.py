"""Freshdesk contract fake: ticket list (with its filters) and ticket conversations.

Implements, as documented by Freshdesk: ``GET /api/v2/tickets`` with ``updated_since``
(inclusive), ``order_by=updated_at``, ``order_type``, ``per_page`` (max 100) and ``page``, a JSON
array body and a ``Link: <...>; rel="next"`` header while more pages exist. As the real list
does (accounts created after 2018-11-30), ``description`` and ``description_text`` are sent only
with ``include=description``. Deleted and spam tickets are left out of the default list;
``filter=deleted`` and ``filter=spam`` list them (with the same ``updated_since`` and paging),
each ticket carrying ``deleted``/``spam`` flags. ``GET /api/v2/tickets/{id}/conversations``
paged the same way, each conversation with ``body_text``, ``incoming``, ``private``,
``user_id`` and ``created_at``. Basic auth with the API key as user name; 401
``{"code": "invalid_credentials"}`` otherwise.

SYNTHETIC DATA: shaped from Freshdesk's documented examples, written for these tests.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.connectors.contract.server import Reply

API_KEY = "synthetic-freshdesk-key"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CONVERSATION_PAGE_MAX = 2
_DESCRIPTION_FIELDS = ("description", "description_text")
# The predefined list filters this fake knows; the default list shows neither kind.
_FILTERS = {"deleted": "deleted", "spam": "spam"}


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskApp:
    """The fake helpdesk: ``n`` synthetic tickets, a few sharing one timestamp."""

    def __init__(self, n: int = 11) -> None:
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self.clock = T0
        for i in range(n):
            self._add(200 + i, T0 + timedelta(minutes=i // 2))
        self.clock = T0 + timedelta(hours=1)

    def _add(self, ticket_id: int, updated: datetime) -> None:
        text = f"SYNTHETIC opening message of ticket {ticket_id}"
        self.tickets[ticket_id] = {
            "id": ticket_id, "subject": f"SYNTHETIC subject {ticket_id}",
            "description": f"<div>{text}</div>", "description_text": text,
            "requester_id": 7000 + ticket_id, "source": 1, "status": 2, "priority": 1,
            "type": "Question", "tags": [], "deleted": False, "spam": False,
            "created_at": _iso(updated - timedelta(hours=1)), "updated_at": _iso(updated),
        }  # fmt: skip
        self.conversations[ticket_id] = [
            self._conv(1, f"AGENT-REPLY to {ticket_id}", incoming=False, private=False),
            self._conv(2, f"INTERNAL-NOTE on {ticket_id}", incoming=False, private=True),
            self._conv(3, f"SYNTHETIC customer follow-up on {ticket_id}", True, False),
        ]

    @staticmethod
    def _conv(seq: int, text: str, incoming: bool, private: bool) -> dict[str, Any]:
        return {"id": seq, "body": f"<div>{text}</div>", "body_text": text,
                "incoming": incoming, "private": private, "user_id": 1 if not incoming else 2,
                "source": 0, "created_at": _iso(T0 + timedelta(seconds=seq)),
                "updated_at": _iso(T0 + timedelta(seconds=seq))}  # fmt: skip

    # -- changes a test makes to the helpdesk ------------------------------------------
    def _touch(self, ticket_id: int) -> None:
        self.clock += timedelta(minutes=1)
        self.tickets[ticket_id]["updated_at"] = _iso(self.clock)

    def edit(self, ticket_id: int, text: str) -> None:
        self.conversations[ticket_id].append(self._conv(9, text, True, False))
        self._touch(ticket_id)

    def add(self) -> int:
        ticket_id = max(self.tickets) + 1
        self.clock += timedelta(minutes=1)
        self._add(ticket_id, self.clock)
        return ticket_id

    def delete(self, ticket_id: int) -> None:
        """An agent deletes the ticket (to the trash): it leaves the default list."""
        self.tickets[ticket_id]["deleted"] = True
        self._touch(ticket_id)

    def mark_spam(self, ticket_id: int) -> None:
        """An agent marks the ticket as spam: it leaves the default list."""
        self.tickets[ticket_id]["spam"] = True
        self._touch(ticket_id)

    def restore(self, ticket_id: int) -> None:
        """Restored from the trash or from spam: back in the default list."""
        self.tickets[ticket_id].update(deleted=False, spam=False)
        self._touch(ticket_id)

    # -- HTTP --------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        expected = base64.b64encode(f"{API_KEY}:X".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {}, {"code": "invalid_credentials",
                             "message": "You have to be logged in to perform this action."}  # fmt: skip
        if path == "/api/v2/tickets":
            return self._list(query, base + path)
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/conversations", path)
        if match and int(match.group(1)) in self.conversations:
            return self._page(self.conversations[int(match.group(1))], query, base + path,
                              CONVERSATION_PAGE_MAX)  # fmt: skip
        return 404, {}, {"code": "not_found", "message": "Not found"}

    def _list(self, query: dict[str, str], url: str) -> Reply:
        chosen = query.get("filter")
        if chosen is not None and chosen not in _FILTERS:
            return 400, {}, {"description": "Validation failed",
                             "errors": [{"field": "filter", "code": "invalid_value"}]}  # fmt: skip
        if chosen is None:
            rows = [t for t in self.tickets.values() if not t["deleted"] and not t["spam"]]
        else:
            rows = [t for t in self.tickets.values() if t[_FILTERS[chosen]]]
        if "updated_since" in query:
            rows = [t for t in rows if t["updated_at"] >= query["updated_since"]]
        rows.sort(key=lambda t: (t["updated_at"], t["id"]),
                  reverse=query.get("order_type") == "desc")  # fmt: skip
        status, headers, body = self._page(rows, query, url, 100)
        embedded = {part.strip() for part in query.get("include", "").split(",")}
        if "description" not in embedded:  # the list leaves descriptions out unless asked
            body = [{k: v for k, v in t.items() if k not in _DESCRIPTION_FIELDS} for t in body]
        return status, headers, body

    @staticmethod
    def _page(rows: list[dict[str, Any]], query: dict[str, str], url: str, cap: int) -> Reply:
        size = min(int(query.get("per_page", 30)), cap)
        page = int(query.get("page", 1))
        chunk = rows[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(rows):
            headers["Link"] = f'<{url}?{urlencode({**query, "page": page + 1})}>; rel="next"'
        return 200, headers, [dict(r) for r in chunk]
