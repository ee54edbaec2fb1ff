"""Delighted contract fake: ``GET /v1/survey_responses.json``.

Implements, as documented by Delighted: ``per_page`` (default 20, max 100) and ``page``
(1-based); ``since`` / ``until`` (Unix seconds, on ``created_at``, inclusive) and
``updated_since`` / ``updated_until`` (on ``updated_at``, inclusive); ``trend`` and
``person_id`` filters; ``order`` ``asc`` (default, by ``created_at``), ``desc``,
``asc:updated_at`` and ``desc:updated_at``; ``expand[]=person`` (the person object instead of
its id). The body is a JSON array of responses with ``id``, ``person``, ``survey_type``,
``score``, ``comment`` (or null), ``permalink``, ``created_at``, ``updated_at`` (Unix seconds),
``person_properties``, ``notes``, ``tags`` and ``additional_answers``; past the last page, an
empty array. HTTP Basic auth with the API key as user name and an empty password; 401
otherwise.

SYNTHETIC DATA: shaped from Delighted's documented examples, written for these tests. Every
person, property and comment is invented.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

API_KEY = "synthetic-delighted-key"
PATH = "/v1/survey_responses.json"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _unix(value: datetime) -> int:
    return int(value.timestamp())


def _at(row: dict[str, Any], field: str) -> int:
    """A timestamp of a row; a never-edited response (``updated_at`` null, as in the documented
    list example) counts as updated when created. That reading is an assumption, not documented.
    """
    value = row[field] if row[field] is not None else row["created_at"]
    return int(value)


class DelightedApp:
    """The fake project: ``n`` responses of one ``survey_type``, pairs sharing one second."""

    def __init__(self, n: int = 11, survey_type: str = "nps") -> None:
        self.survey_type = survey_type
        self.responses: dict[str, dict[str, Any]] = {}
        self.trends: dict[str, set[str]] = {}  # trend id -> response ids (not in the body)
        self.clock = T0 + timedelta(hours=1)
        for i in range(n):
            # Pairs of responses share a second: paging must neither lose nor repeat them.
            self.put(str(5000 + i), T0 + timedelta(minutes=i // 2), i % 11,
                     f"SYNTHETIC comment number {i}")  # fmt: skip

    def put(self, rid: str, updated: datetime, score: int, comment: str | None) -> None:
        """Stores a response (created five minutes before ``updated`` unless it exists)."""
        old = self.responses.get(rid)
        created = old["created_at"] if old else _unix(updated - timedelta(minutes=5))
        person = old["person"] if old else str(9000 + len(self.responses))
        self.responses[rid] = {
            "id": rid, "person": person, "survey_type": self.survey_type, "score": score,
            "comment": comment,
            "permalink": f"https://app.delighted.com/r/SYNTHETIC{rid}",
            "created_at": created, "updated_at": _unix(updated),
            "person_properties": {"customer_id": f"cust-{rid}", "plan": "pro",
                                  "Email": f"synthetic.person.{rid}@example.invalid"},
            "notes": [{"id": f"n{rid}", "text": f"INTERNAL-NOTE on {rid}",
                       "user_email": "agent@example.invalid", "created_at": created}],
            "tags": ["synthetic"],
            "additional_answers": [],
        }  # fmt: skip

    def edit(self, rid: str, comment: str) -> None:
        """The person rewrites the comment (and the score) later: ``updated_at`` moves."""
        self.clock += timedelta(minutes=1)
        self.put(rid, self.clock, 3, comment)

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        rid = str(5000 + len(self.responses))
        self.put(rid, self.clock, 9, f"SYNTHETIC late comment {rid}")
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {}, {"status": 401, "message": "Unauthorized: invalid API key"}
        if path != PATH:
            return 404, {}, {"status": 404, "message": "Not Found"}
        rows = list(self.responses.values())
        for name, field, keep in (
            ("since", "created_at", lambda v, b: v >= b),
            ("until", "created_at", lambda v, b: v <= b),
            ("updated_since", "updated_at", lambda v, b: v >= b),
            ("updated_until", "updated_at", lambda v, b: v <= b),
        ):
            if name in query:
                bound = int(query[name])
                rows = [r for r in rows if keep(_at(r, field), bound)]
        if "person_id" in query:
            rows = [r for r in rows if r["person"] == query["person_id"]]
        if "trend" in query:
            rows = [r for r in rows if r["id"] in self.trends.get(query["trend"], set())]
        order = query.get("order", "asc")
        if order not in ("asc", "desc", "asc:updated_at", "desc:updated_at"):
            return 422, {}, {"status": 422, "message": "Invalid order"}
        field = "updated_at" if order.endswith(":updated_at") else "created_at"
        rows.sort(key=lambda r: (_at(r, field), int(r["id"])), reverse=order.startswith("desc"))
        size = min(int(query.get("per_page", 20)), 100)
        page = int(query.get("page", 1))
        chosen = [dict(r) for r in rows[(page - 1) * size : page * size]]
        if "person" in (query.get("expand[]") or ""):
            for row in chosen:
                row["person"] = {"id": row["person"], "name": "SYNTHETIC Person",
                                 "email": f"synthetic.{row['person']}@example.invalid",
                                 "created_at": row["created_at"]}  # fmt: skip
        return 200, {}, chosen
