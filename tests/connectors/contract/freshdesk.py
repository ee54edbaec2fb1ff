"""Freshdesk contract fake: ticket list and ticket conversations.

Implements, as documented by Freshdesk: ``GET /api/v2/tickets`` with ``updated_since``
(inclusive), ``order_by=updated_at``, ``order_type``, ``per_page`` (max 100) and ``page``, a JSON
array body and a ``Link: <...>; rel="next"`` header while more pages exist; deleted tickets are
left out of the list. ``GET /api/v2/tickets/{id}/conversations`` paged the same way, each
conversation with ``body_text``, ``incoming``, ``private``, ``user_id`` and ``created_at``.
Basic auth with the API key as user name; 401 ``{"code": "invalid_credentials"}`` otherwise.

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
        self.tickets[ticket_id] = {
            "id": ticket_id, "subject": f"SYNTHETIC subject {ticket_id}",
            "description_text": f"SYNTHETIC customer text of ticket {ticket_id}",
            "requester_id": 7000 + ticket_id, "source": 1, "status": 2, "priority": 1,
            "type": "Question", "tags": [], "deleted": False,
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

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        expected = base64.b64encode(f"{API_KEY}:X".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {}, {"code": "invalid_credentials",
                             "message": "You have to be logged in to perform this action."}  # fmt: skip
        if path == "/api/v2/tickets":
            rows = [t for t in self.tickets.values() if not t["deleted"]]
            if "updated_since" in query:
                rows = [t for t in rows if t["updated_at"] >= query["updated_since"]]
            rows.sort(key=lambda t: (t["updated_at"], t["id"]),
                      reverse=query.get("order_type") == "desc")  # fmt: skip
            return self._page(rows, query, base + path, 100)
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/conversations", path)
        if match and int(match.group(1)) in self.conversations:
            return self._page(self.conversations[int(match.group(1))], query, base + path,
                              CONVERSATION_PAGE_MAX)  # fmt: skip
        return 404, {}, {"code": "not_found", "message": "Not found"}

    @staticmethod
    def _page(rows: list[dict[str, Any]], query: dict[str, str], url: str, cap: int) -> Reply:
        size = min(int(query.get("per_page", 30)), cap)
        page = int(query.get("page", 1))
        chunk = rows[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(rows):
            headers["Link"] = f'<{url}?{urlencode({**query, "page": page + 1})}>; rel="next"'
        return 200, headers, [dict(r) for r in chunk]
