"""Zendesk contract fake: cursor-based incremental ticket export and ticket comments.

Implements, as documented by Zendesk: ``GET /api/v2/incremental/tickets/cursor.json`` with
``start_time`` (Unix seconds, first request) or ``cursor`` (``after_cursor`` of the previous
page), ``per_page``, and a body of ``tickets``, ``after_cursor``, ``before_cursor``,
``after_url`` and ``end_of_stream``; tickets ordered by ``updated_at``, an edited or deleted
ticket re-exported with a later ``updated_at`` (deleted: ``status: "deleted"``).
``GET /api/v2/tickets/{id}/comments.json`` with cursor pagination (``page[size]``,
``page[after]``; ``meta.has_more``, ``links.next``) and ``include=users``. Basic auth
``{email}/token:{token}``; 401 ``{"error": "Couldn't authenticate you"}`` otherwise.

SYNTHETIC DATA: shaped from Zendesk's documented examples, written for these tests.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.connectors.contract.server import Reply

EMAIL = "agent@example.com"
TOKEN = "synthetic-zendesk-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
COMMENT_PAGE_MAX = 2  # the fake pages comments in twos to exercise comment paging
AGENT, CC_USER = 9001, 9002


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(updated: int, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([updated, ticket_id]).encode()).decode()


class ZendeskApp:
    """The fake account: ``n`` synthetic tickets, two brands, a few sharing one timestamp."""

    def __init__(self, n: int = 11) -> None:
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.clock = T0
        for i in range(n):
            ticket_id = 100 + i
            # Pairs of tickets share an updated_at second: the cursor must still split them.
            updated = T0 + timedelta(minutes=i // 2)
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "url": f"https://example.zendesk.com/api/v2/tickets/{ticket_id}.json",
                "created_at": _iso(updated - timedelta(hours=1)),
                "updated_at": _iso(updated),
                "type": "question",
                "subject": f"SYNTHETIC subject {ticket_id}",
                "priority": "normal",
                "status": "open",
                "requester_id": 5000 + i,
                "brand_id": 1 if i % 3 else 2,
                "via": {"channel": "email"},
                "satisfaction_rating": {"score": "good" if i % 2 else "bad"},
            }
            self.comments[ticket_id] = [
                self._comment(1, 5000 + i, f"SYNTHETIC customer text of ticket {ticket_id}", True),
                self._comment(2, AGENT, f"AGENT-REPLY to {ticket_id}", True),
                self._comment(3, AGENT, f"INTERNAL-NOTE on {ticket_id}", False),
                self._comment(4, CC_USER, f"SYNTHETIC cc follow-up on {ticket_id}", True),
            ]
        self.clock = T0 + timedelta(hours=1)

    @staticmethod
    def _comment(seq: int, author: int, body: str, public: bool) -> dict[str, Any]:
        return {"id": seq, "type": "Comment", "author_id": author, "body": body,
                "plain_body": body, "public": public, "attachments": [],
                "created_at": _iso(T0 + timedelta(seconds=seq))}  # fmt: skip

    # -- changes a test makes to the account -------------------------------------------
    def _touch(self, ticket_id: int) -> None:
        self.clock += timedelta(minutes=1)
        self.tickets[ticket_id]["updated_at"] = _iso(self.clock)

    def edit(self, ticket_id: int, text: str) -> None:
        """The customer adds a public comment: the ticket is re-exported."""
        self.comments[ticket_id].append(self._comment(9, 5000 + ticket_id - 100, text, True))
        self._touch(ticket_id)

    def delete(self, ticket_id: int) -> None:
        self.tickets[ticket_id]["status"] = "deleted"
        self._touch(ticket_id)

    def add(self) -> int:
        ticket_id = max(self.tickets) + 1
        self.tickets[ticket_id] = {**self.tickets[100], "id": ticket_id,
                                   "subject": f"SYNTHETIC subject {ticket_id}"}  # fmt: skip
        self.comments[ticket_id] = [self._comment(1, 5000, f"SYNTHETIC new {ticket_id}", True)]
        self._touch(ticket_id)
        return ticket_id

    # -- HTTP --------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        expected = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {}, {"error": "Couldn't authenticate you"}
        if path == "/api/v2/incremental/tickets/cursor.json":
            return self._export(query, base)
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/comments\.json", path)
        if match:
            return self._comments(int(match.group(1)), query, base)
        return 404, {}, {"error": "InvalidEndpoint", "description": "Not found"}

    def _key(self, ticket: dict[str, Any]) -> tuple[int, int]:
        updated = datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00"))
        return int(updated.timestamp()), ticket["id"]

    def _export(self, query: dict[str, str], base: str) -> Reply:
        per_page = min(int(query.get("per_page", 1000)), 1000)
        if "cursor" in query:
            after = tuple(json.loads(base64.urlsafe_b64decode(query["cursor"])))
        elif "start_time" in query:
            after = (int(query["start_time"]), -1)
        else:
            return 400, {}, {"error": "InvalidPaginationParameter",
                             "description": "start_time or cursor is required"}  # fmt: skip
        ordered = sorted(self.tickets.values(), key=self._key)
        rest = [t for t in ordered if self._key(t) > after]
        page = rest[:per_page]
        last = self._key(page[-1]) if page else after
        cursor = _cursor(*last)
        url = f"{base}/api/v2/incremental/tickets/cursor.json?"
        return (
            200,
            {},
            {
                "tickets": [dict(t) for t in page],
                "after_cursor": cursor,
                "before_cursor": None,
                "after_url": url + urlencode({"cursor": cursor, "per_page": per_page}),
                "before_url": None,
                "end_of_stream": len(rest) <= per_page,
            },
        )

    def _comments(self, ticket_id: int, query: dict[str, str], base: str) -> Reply:
        if ticket_id not in self.comments:
            return 404, {}, {"error": "RecordNotFound", "description": "Not found"}
        size = min(int(query.get("page[size]", 100)), COMMENT_PAGE_MAX)
        start = int(query.get("page[after]", 0))
        comments = self.comments[ticket_id][start : start + size]
        more = start + size < len(self.comments[ticket_id])
        authors = {c["author_id"] for c in comments}
        users = [{"id": a, "name": f"SYNTHETIC user {a}",
                  "role": "agent" if a == AGENT else "end-user"} for a in sorted(authors)]  # fmt: skip
        nxt = f"{base}/api/v2/tickets/{ticket_id}/comments.json?" + urlencode(
            {"include": "users", "page[size]": size, "page[after]": start + size}
        )
        return (
            200,
            {},
            {
                "comments": comments,
                "users": users if query.get("include") == "users" else [],
                "meta": {
                    "has_more": more,
                    "after_cursor": str(start + size),
                    "before_cursor": None,
                },
                "links": {"next": nxt if more else None, "prev": None},
            },
        )
