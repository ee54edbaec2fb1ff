"""Zendesk contract fake: incremental ticket and ticket-event exports, comments, users.

Implements, as documented by Zendesk:

- ``GET /api/v2/incremental/tickets/cursor.json`` with ``start_time`` (Unix seconds, first
  request) or ``cursor`` (``after_cursor`` of the previous page), ``per_page``, and a body of
  ``tickets``, ``after_cursor``, ``before_cursor``, ``after_url`` and ``end_of_stream``;
  tickets ordered by ``updated_at``, an edited or deleted ticket re-exported with a later
  ``updated_at`` (deleted: ``status: "deleted"``).
- ``GET /api/v2/incremental/ticket_events.json`` (time-based: ``start_time`` inclusive, pages
  of up to 1000 events ordered by time, ``end_time``, ``next_page``, ``count``,
  ``end_of_stream``). Each event is one ticket update with its ``child_events``; with
  ``include=comment_events`` a comment is a child event with ``body``, ``public`` and
  ``author_id``, without it only ``comment_present``/``comment_public``.
- Both exports are admin-only ("Allowed for: Admins"): another user gets 403.
- ``GET /api/v2/tickets/{id}/comments.json`` with cursor pagination (``page[size]``,
  ``page[after]``; ``meta.has_more``, ``links.next``) and ``include=users``.
- ``GET /api/v2/users/show_many.json?ids=1,2`` (the users found, with ``role``).
- Basic auth ``{email}/token:{token}``; 401 ``{"error": "Couldn't authenticate you"}``
  otherwise. An API token is the account's: any user's email goes with it.

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

EMAIL = "admin@example.com"  # an admin: what the incremental exports need
AGENT_EMAIL = "agent@example.com"  # an agent: authenticated, but refused by the exports
TOKEN = "synthetic-zendesk-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
COMMENT_PAGE_MAX = 2  # the fake pages comments in twos to exercise comment paging
AGENT, CC_USER, ADMIN = 9001, 9002, 9000
EXPORTS = ("/api/v2/incremental/tickets/cursor.json", "/api/v2/incremental/ticket_events.json")
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page. Please "
             "contact the account owner of this help desk for further help."}  # fmt: skip


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _cursor(updated: int, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([updated, ticket_id]).encode()).decode()


class ZendeskApp:
    """The fake account: ``n`` synthetic tickets, two brands, a few sharing one timestamp.

    Attributes:
        events_page_max: Events per ticket-event export page (Zendesk: 1000).
        users: Email of each user who can sign in, and that user's role.
    """

    def __init__(self, n: int = 11) -> None:
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.events_page_max = 1000
        self.users = {EMAIL: "admin", AGENT_EMAIL: "agent"}
        self._privacy: list[tuple[int, int, str]] = []  # (ticket, comment, when) made private
        self.clock = T0
        for i in range(n):
            ticket_id = 100 + i
            # Pairs of tickets share an updated_at second: the cursor must still split them.
            updated = T0 + timedelta(minutes=i // 2)
            created = updated - timedelta(hours=1)
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "url": f"https://example.zendesk.com/api/v2/tickets/{ticket_id}.json",
                "created_at": _iso(created),
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
            at = [created + timedelta(minutes=m) for m in (0, 5, 10, 15)]  # within its life
            self.comments[ticket_id] = [
                self._comment(ticket_id, 1, 5000 + i,
                              f"SYNTHETIC customer text of ticket {ticket_id}", True, at[0]),
                self._comment(ticket_id, 2, AGENT, f"AGENT-REPLY to {ticket_id}", True, at[1]),
                self._comment(ticket_id, 3, AGENT, f"INTERNAL-NOTE on {ticket_id}", False, at[2]),
                self._comment(ticket_id, 4, CC_USER, f"SYNTHETIC cc follow-up on {ticket_id}",
                              True, at[3]),
            ]  # fmt: skip
        self.clock = T0 + timedelta(hours=1)

    @staticmethod
    def _comment(
        ticket_id: int, seq: int, author: int, body: str, public: bool, at: datetime
    ) -> dict[str, Any]:
        return {"id": ticket_id * 100 + seq, "type": "Comment", "author_id": author,
                "body": body, "plain_body": body, "html_body": f"<p>{body}</p>",
                "public": public, "attachments": [], "created_at": _iso(at)}  # fmt: skip

    # -- changes a test makes to the account -------------------------------------------
    def _touch(self, ticket_id: int) -> None:
        self.clock += timedelta(minutes=1)
        self.tickets[ticket_id]["updated_at"] = _iso(self.clock)

    def edit(self, ticket_id: int, text: str) -> None:
        """The customer adds a public comment: the ticket is re-exported."""
        self._touch(ticket_id)
        author = self.tickets[ticket_id]["requester_id"]
        self.comments[ticket_id].append(
            self._comment(ticket_id, 9 + len(self.comments[ticket_id]), author, text, True,
                          self.clock)
        )  # fmt: skip

    def make_private(self, ticket_id: int, index: int) -> None:
        """An agent makes a public comment private (an audit of its own, as in Zendesk)."""
        comment = self.comments[ticket_id][index]
        comment["public"] = False
        self._touch(ticket_id)
        self._privacy.append((ticket_id, comment["id"], self.tickets[ticket_id]["updated_at"]))

    def delete(self, ticket_id: int) -> None:
        self.tickets[ticket_id]["status"] = "deleted"
        self._touch(ticket_id)

    def add(self) -> int:
        """A new ticket, created now with its first comment."""
        ticket_id = max(self.tickets) + 1
        self.clock += timedelta(minutes=1)
        self.tickets[ticket_id] = {**self.tickets[100], "id": ticket_id,
                                   "subject": f"SYNTHETIC subject {ticket_id}",
                                   "created_at": _iso(self.clock),
                                   "updated_at": _iso(self.clock)}  # fmt: skip
        requester = self.tickets[ticket_id]["requester_id"]
        self.comments[ticket_id] = [
            self._comment(ticket_id, 1, requester, f"SYNTHETIC new {ticket_id}", True, self.clock)
        ]
        return ticket_id

    # -- HTTP --------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        user = self._user(headers.get("authorization", ""))
        if user is None:
            return 401, {}, {"error": "Couldn't authenticate you"}
        if path in EXPORTS and self.users[user] != "admin":
            return 403, {}, FORBIDDEN
        if path == EXPORTS[0]:
            return self._export(query, base)
        if path == EXPORTS[1]:
            return self._events(query, base)
        if path == "/api/v2/users/show_many.json":
            return self._users(query)
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/comments\.json", path)
        if match:
            return self._comments(int(match.group(1)), query, base)
        return 404, {}, {"error": "InvalidEndpoint", "description": "Not found"}

    def _user(self, authorization: str) -> str | None:
        for email in self.users:
            expected = base64.b64encode(f"{email}/token:{TOKEN}".encode()).decode()
            if authorization == f"Basic {expected}":
                return email
        return None

    def _key(self, ticket: dict[str, Any]) -> tuple[int, int]:
        return _unix(ticket["updated_at"]), ticket["id"]

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

    def ticket_events(self, comment_events: bool = True) -> list[dict[str, Any]]:
        """Every ticket update as Zendesk exports it, oldest first (derived from the state)."""
        events = []
        private = {comment for _, comment, _ in self._privacy}
        for ticket_id, ticket in self.tickets.items():
            times = {at for t, _, at in self._privacy if t == ticket_id}
            for seq, comment in enumerate(self.comments.get(ticket_id, [])):
                # The Comment event keeps the comment as written; a later privacy change is
                # an event of its own.
                public = True if comment["id"] in private else comment["public"]
                child = dict(comment, public=public, event_type="Comment",
                             audit_id=ticket_id * 1000 + seq)  # fmt: skip
                if not comment_events:
                    child = {"id": comment["id"], "event_type": "Comment",
                             "comment_present": True, "comment_public": public}  # fmt: skip
                children = [child]
                if seq == 0:  # the first comment came with the ticket's creation
                    children.insert(0, {"id": ticket_id * 1000 + 999, "event_type": "Create",
                                        "field_name": "status", "value": "new"})  # fmt: skip
                events.append(self._event(ticket_id * 1000 + seq, ticket_id,
                                          comment["created_at"], comment["author_id"], children))  # fmt: skip
                times.add(comment["created_at"])
            if ticket["updated_at"] not in times:  # the latest update changed no comment
                change = {"id": ticket_id * 1000 + 998, "event_type": "Change",
                          "field_name": "status", "value": ticket["status"]}  # fmt: skip
                events.append(self._event(ticket_id * 1000 + 997, ticket_id,
                                          ticket["updated_at"], AGENT, [change]))  # fmt: skip
        for n, (ticket_id, comment_id, at) in enumerate(self._privacy):
            change = {"id": 8_000_000 + n, "event_type": "CommentPrivacyChange",
                      "comment_id": comment_id, "public": False}  # fmt: skip
            events.append(self._event(7_000_000 + n, ticket_id, at, AGENT, [change]))
        return sorted(events, key=lambda e: (e["timestamp"], e["id"]))

    @staticmethod
    def _event(
        event_id: int, ticket_id: int, at: str, updater: int, children: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {"id": event_id, "ticket_id": ticket_id, "timestamp": _unix(at),
                "created_at": at, "updater_id": updater, "via": {"channel": "email"},
                "event_type": "Audit", "child_events": children}  # fmt: skip

    def _events(self, query: dict[str, str], base: str) -> Reply:
        if "start_time" not in query:
            return 400, {}, {"error": "InvalidPaginationParameter",
                             "description": "start_time is required"}  # fmt: skip
        start = int(query["start_time"])
        include = query.get("include", "")
        rest = [e for e in self.ticket_events("comment_events" in include.split(","))
                if e["timestamp"] >= start]  # fmt: skip
        page = rest[: self.events_page_max]
        end = page[-1]["timestamp"] if page else start
        params = {"start_time": end, **({"include": include} if include else {})}
        return (
            200,
            {},
            {
                "ticket_events": page,
                "count": len(page),
                "end_time": end,
                "next_page": f"{base}/api/v2/incremental/ticket_events.json?{urlencode(params)}",
                "end_of_stream": len(rest) <= self.events_page_max,
            },
        )

    def _role(self, user_id: int) -> str | None:
        if user_id == AGENT:
            return "agent"
        if user_id == ADMIN:
            return "admin"
        known = {t["requester_id"] for t in self.tickets.values()} | {CC_USER}
        return "end-user" if user_id in known else None

    def _users(self, query: dict[str, str]) -> Reply:
        ids = [int(i) for i in query.get("ids", "").split(",") if i.strip()]
        if len(ids) > 100:
            return 400, {}, {"error": "InvalidValue", "description": "at most 100 ids"}
        found = [{"id": i, "name": f"SYNTHETIC user {i}", "role": role}
                 for i in ids if (role := self._role(i)) is not None]  # fmt: skip
        return 200, {}, {"users": found}

    def _comments(self, ticket_id: int, query: dict[str, str], base: str) -> Reply:
        if ticket_id not in self.comments:
            return 404, {}, {"error": "RecordNotFound", "description": "Not found"}
        size = min(int(query.get("page[size]", 100)), COMMENT_PAGE_MAX)
        start = int(query.get("page[after]", 0))
        comments = self.comments[ticket_id][start : start + size]
        more = start + size < len(self.comments[ticket_id])
        authors = {c["author_id"] for c in comments}
        users = [{"id": a, "name": f"SYNTHETIC user {a}", "role": self._role(a) or "end-user"}
                 for a in sorted(authors)]  # fmt: skip
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
