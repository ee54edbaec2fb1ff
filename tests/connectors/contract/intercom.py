"""Intercom contract fake: conversation search and conversation retrieval.

Implements, as documented by Intercom: ``POST /conversations/search`` with a JSON body
(``query`` ``{field: updated_at, operator: ">", value}``, ``sort``, ``pagination.per_page`` up
to 150 and ``pagination.starting_after``), answering ``type: conversation.list``,
``conversations``, ``total_count`` and ``pages.next.starting_after`` while more exist;
``GET /conversations/{id}`` with ``source`` (HTML ``body``, ``author.type``), ``contacts``,
``conversation_parts`` (``part_type`` comment/note/assignment, ``author.type`` user/admin/bot)
and ``conversation_rating``. Bearer auth; 401 ``error.list`` otherwise.

SYNTHETIC DATA: shaped from Intercom's documented examples, written for these tests.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

TOKEN = "synthetic-intercom-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _part(seq: int, part_type: str, author: str, body: str | None) -> dict[str, Any]:
    return {"type": "conversation_part", "id": str(seq), "part_type": part_type, "body": body,
            "created_at": int(T0.timestamp()) + seq,
            "author": {"type": author, "id": f"{author}-1", "name": "SYNTHETIC"}}  # fmt: skip


class IntercomApp:
    """The fake workspace: ``n`` synthetic conversations, pairs sharing an ``updated_at``."""

    def __init__(self, n: int = 11) -> None:
        self.conversations: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        for i in range(n):
            self._put(str(300 + i), T0 + timedelta(minutes=i // 2), i)

    def _put(self, cid: str, updated: datetime, i: int) -> None:
        self.conversations[cid] = {
            "type": "conversation", "id": cid, "title": f"SYNTHETIC title {cid}",
            "created_at": int(updated.timestamp()) - 3600, "updated_at": int(updated.timestamp()),
            "state": "open", "priority": "not_priority",
            "source": {"type": "conversation", "id": f"s{cid}", "delivered_as": "customer_initiated",
                       "subject": "", "body": f"<p>SYNTHETIC customer text of {cid} &amp; more</p>",
                       "author": {"type": "user", "id": f"u{cid}", "name": "SYNTHETIC"}},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": f"u{cid}"}]},
            "conversation_rating": {"rating": i % 5 + 1, "remark": None,
                                    "created_at": int(updated.timestamp())},
            "conversation_parts": {"type": "conversation_part.list", "total_count": 3,
                                   "conversation_parts": [
                _part(1, "comment", "admin", f"<p>AGENT-REPLY to {cid}</p>"),
                _part(2, "note", "admin", f"<p>INTERNAL-NOTE on {cid}</p>"),
                _part(3, "assignment", "bot", None),
            ]},
        }  # fmt: skip

    def edit(self, cid: str, text: str) -> None:
        self.clock += timedelta(minutes=1)
        conv = self.conversations[cid]
        conv["conversation_parts"]["conversation_parts"].append(
            _part(9, "comment", "user", f"<p>{text}</p>")
        )
        conv["updated_at"] = int(self.clock.timestamp())

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        cid = str(300 + len(self.conversations))
        self._put(cid, self.clock, 4)
        return cid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"type": "error.list", "request_id": "synthetic", "errors": [
                {"code": "unauthorized", "message": "Access Token Invalid"}]}  # fmt: skip
        if path == "/conversations/search":
            return self._search(json.loads(query.get("_json") or "{}"))
        match = re.fullmatch(r"/conversations/(\w+)", path)
        if match and match.group(1) in self.conversations:
            return 200, {}, self.conversations[match.group(1)]
        return 404, {}, {"type": "error.list", "errors": [{"code": "not_found"}]}

    def _search(self, body: dict[str, Any]) -> Reply:
        condition = body.get("query") or {}
        if condition.get("field") != "updated_at" or condition.get("operator") != ">":
            return 400, {}, {"type": "error.list", "errors": [{"code": "parameter_invalid"}]}
        rows = sorted((c for c in self.conversations.values()
                       if c["updated_at"] > int(condition["value"])),
                      key=lambda c: (c["updated_at"], c["id"]))  # fmt: skip
        pagination = body.get("pagination") or {}
        size = min(int(pagination.get("per_page", 20)), 150)
        if pagination.get("starting_after"):
            after = tuple(json.loads(base64.b64decode(pagination["starting_after"])))
            rows = [c for c in rows if (c["updated_at"], c["id"]) > after]
        page = rows[:size]
        pages: dict[str, Any] = {"type": "pages", "per_page": size}
        if len(rows) > size:
            cursor = json.dumps([page[-1]["updated_at"], page[-1]["id"]]).encode()
            pages["next"] = {"starting_after": base64.b64encode(cursor).decode()}
        summary = [{k: c[k] for k in ("type", "id", "created_at", "updated_at", "state")}
                   for c in page]  # fmt: skip
        return 200, {}, {"type": "conversation.list", "conversations": summary,
                         "total_count": len(rows), "pages": pages}  # fmt: skip
