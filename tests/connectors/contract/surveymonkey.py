"""SurveyMonkey contract fake: survey details and bulk responses.

Implements, as documented by SurveyMonkey: ``GET /v3/surveys/{id}/details`` (pages, questions
with ``family``/``subtype`` and ``answers.choices``); ``GET /v3/surveys/{id}/responses/bulk``
with ``start_modified_at`` ("modified after": exclusive here), ``sort_by=date_modified``,
``sort_order``, ``status``, ``per_page`` (max 100) and ``page``, answering ``data``,
``per_page``, ``page``, ``total`` and ``links.next`` while more exist. Bearer auth; 401
``{"error": {"name": "Authorization Error", "http_status_code": 401}}`` otherwise.

SYNTHETIC DATA: shaped from SurveyMonkey's documented examples, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.connectors.contract.server import Reply

SURVEY = "405123456"
TOKEN = "synthetic-surveymonkey-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BULK = f"/v3/surveys/{SURVEY}/responses/bulk"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class SurveyMonkeyApp:
    """The fake survey: an NPS matrix question and an essay question, ``n`` responses."""

    def __init__(self, n: int = 11) -> None:
        self.responses: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        for i in range(n):
            self._put(str(11400000000 + i), T0 + timedelta(minutes=i // 2), i % 11,
                      f"SYNTHETIC essay answer {i}")  # fmt: skip

    def _put(self, rid: str, modified: datetime, nps: int, text: str) -> None:
        self.responses[rid] = {
            "id": rid, "survey_id": SURVEY, "response_status": "completed",
            "date_created": _iso(modified - timedelta(minutes=5)),
            "date_modified": _iso(modified),
            "custom_variables": {"customer_id": f"cust-{rid}", "plan": "pro"},
            "pages": [{"id": "p1", "questions": [
                {"id": "q_nps", "answers": [{"choice_id": f"c{nps}", "row_id": "r1"}]},
                {"id": "q_why", "answers": [{"text": text}]},
            ]}],
        }  # fmt: skip

    def edit(self, rid: str, text: str) -> None:
        self.clock += timedelta(minutes=1)
        self._put(rid, self.clock, 3, text)

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        rid = str(11400000000 + len(self.responses))
        self._put(rid, self.clock, 9, f"SYNTHETIC late answer {rid}")
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {}, {"error": {"id": "1011", "name": "Authorization Error",
                                       "message": "The authorization token was not provided.",
                                       "http_status_code": 401}}  # fmt: skip
        if path == f"/v3/surveys/{SURVEY}/details":
            return 200, {}, self._details()
        if path != BULK:
            return 404, {}, {"error": {"id": "1020", "name": "Resource Not Found"}}
        rows = [r for r in self.responses.values() if r["response_status"] == "completed"]
        if "start_modified_at" in query:  # "modified after": strictly later
            bound = datetime.fromisoformat(query["start_modified_at"]).replace(tzinfo=UTC)
            rows = [r for r in rows if datetime.fromisoformat(r["date_modified"]) > bound]
        rows.sort(key=lambda r: (r["date_modified"], r["id"]),
                  reverse=query.get("sort_order", "ASC") == "DESC")  # fmt: skip
        size = min(int(query.get("per_page", 50)), 100)
        page = int(query.get("page", 1))
        links = {"self": f"{base}{path}"}
        if page * size < len(rows):
            links["next"] = f"{base}{path}?{urlencode({**query, 'page': page + 1})}"
        return 200, {}, {"data": [dict(r) for r in rows[(page - 1) * size : page * size]],
                         "per_page": size, "page": page, "total": len(rows), "links": links}  # fmt: skip

    @staticmethod
    def _details() -> dict[str, Any]:
        return {"id": SURVEY, "title": "SYNTHETIC NPS survey", "pages": [{"id": "p1", "questions": [
            {"id": "q_nps", "family": "matrix", "subtype": "rating",
             "headings": [{"heading": "How likely are you to recommend us?"}],
             "answers": {"rows": [{"id": "r1"}],
                         "choices": [{"id": f"c{v}", "text": str(v), "position": v + 1}
                                     for v in range(11)]}},
            {"id": "q_why", "family": "open_ended", "subtype": "essay",
             "headings": [{"heading": "Why?"}]},
        ]}]}  # fmt: skip
