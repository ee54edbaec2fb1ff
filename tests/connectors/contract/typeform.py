"""Typeform contract fake: ``GET /forms/{form_id}/responses``.

Implements, as documented by Typeform: ``page_size`` (max 1000), ``since`` (inclusive,
ISO 8601 UTC to the second or Unix seconds), ``sort=submitted_at,asc``; a body of
``total_items``, ``page_count`` and ``items`` whose responses carry ``response_id``, ``token``,
``landed_at``, ``submitted_at``, ``metadata``, ``hidden`` and ``answers`` (each with ``field``
``{id, type, ref}``, an answer ``type`` and its value). Bearer-token auth; 401 with
``{"code": "AUTHENTICATION_FAILED"}`` otherwise.

SYNTHETIC DATA: shaped from Typeform's documented examples, written for these tests.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

FORM_ID = "SynTh01"
TOKEN = "synthetic-typeform-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class TypeformApp:
    """The fake form: an NPS question and a long-text "why" question per response."""

    def __init__(self, n: int = 11) -> None:
        self.responses: dict[str, dict[str, Any]] = {}
        self.clock = T0
        for i in range(n):
            # Pairs of responses share a second: paging must neither lose nor repeat them.
            self._add(f"resp{i:03d}", T0 + timedelta(minutes=i // 2), i % 11,
                      f"SYNTHETIC verbatim number {i}")  # fmt: skip
        self.clock = T0 + timedelta(hours=1)

    def _add(self, rid: str, when: datetime, score: int, text: str | None) -> None:
        answers: list[dict[str, Any]] = [
            {"field": {"id": "fNps01", "type": "nps", "ref": "nps"}, "type": "number",
             "number": score},
            {"field": {"id": "fChoice", "type": "multiple_choice", "ref": "plan"},
             "type": "choice", "choice": {"label": "Pro"}},
        ]  # fmt: skip
        if text is not None:
            answers.append({"field": {"id": "fWhy01", "type": "long_text", "ref": "why"},
                            "type": "text", "text": text})  # fmt: skip
        self.responses[rid] = {
            "landing_id": rid, "token": rid, "response_id": rid,
            "landed_at": _iso(when - timedelta(minutes=3)), "submitted_at": _iso(when),
            "metadata": {"user_agent": "synthetic", "platform": "mobile", "referer": "",
                         "network_id": "", "browser": "default"},
            "hidden": {"customer_id": f"cust-{rid}", "plan": "pro"},
            "calculated": {"score": 0},
            "answers": answers,
        }  # fmt: skip

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        rid = f"resp{len(self.responses):03d}"
        self._add(rid, self.clock, 9, f"SYNTHETIC late verbatim {rid}")
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"code": "AUTHENTICATION_FAILED", "description": "Authentication "
                             "credentials not found on the Request Headers"}  # fmt: skip
        if path != f"/forms/{FORM_ID}/responses":
            return 404, {}, {"code": "FORM_NOT_FOUND", "description": "Non existing form"}
        size = min(int(query.get("page_size", 25)), 1000)
        since = query.get("since")
        rows = sorted(self.responses.values(), key=lambda r: (r["submitted_at"], r["response_id"]))
        if since:
            lower = (datetime.fromtimestamp(int(since), UTC) if since.isdigit()
                     else datetime.fromisoformat(since).replace(tzinfo=UTC))  # fmt: skip
            rows = [r for r in rows if r["submitted_at"] >= _iso(lower)]
        if query.get("sort") != "submitted_at,asc":
            rows.reverse()  # Typeform's default order is newest first
        return (
            200,
            {},
            {
                "total_items": len(rows),
                "page_count": max(1, math.ceil(len(rows) / size)),
                "items": rows[:size],
            },
        )
