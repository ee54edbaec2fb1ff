"""Qualtrics contract fake: response export jobs with continuation tokens.

Implements, as documented by Qualtrics: ``POST /API/v3/surveys/{id}/export-responses`` with a
JSON body (``format: json``, ``allowContinuation`` or ``continuationToken``, ``startDate``)
answering ``result.progressId``; ``GET .../export-responses/{progressId}`` answering
``status`` ``inProgress`` then ``complete`` with ``fileId`` and, for continuable exports,
``continuationToken``; ``GET .../export-responses/{fileId}/file`` answering a zip with one JSON
file ``{"responses": [{"responseId", "values": {...}, "labels": {...}}]}``;
``GET /API/v3/surveys/{id}`` for the definition. ``X-API-TOKEN`` auth; 401 otherwise.

SYNTHETIC DATA: shaped from Qualtrics' documented examples, written for these tests.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

SURVEY = "SV_synthetic01"
TOKEN = "synthetic-qualtrics-token"  # noqa: S105 - a test fixture, not a secret
PROGRESS = "ES_synthetic"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EXPORTS = f"/API/v3/surveys/{SURVEY}/export-responses"


class QualtricsApp:
    """The fake survey: ``n`` synthetic responses with an NPS and a "why" answer."""

    def __init__(self, n: int = 11) -> None:
        self.responses: list[dict[str, Any]] = []
        self.clock = T0
        self.job: dict[str, Any] | None = None
        for _ in range(n):
            self.add()

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        i = len(self.responses)
        rid = f"R_synthetic{i:04d}"
        when = self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.responses.append({"responseId": rid, "values": {
            "startDate": when, "endDate": when, "recordedDate": when, "status": 0,
            "progress": 100, "finished": 1, "userLanguage": "EN", "QID1": i % 11,
            "QID2_TEXT": f"SYNTHETIC answer {rid}", "customer_id": f"cust-{i}", "plan": "pro",
        }, "labels": {"QID1": str(i % 11)}})  # fmt: skip
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if headers.get("x-api-token") != TOKEN:
            return 401, {}, {"meta": {"httpStatus": "401 - Unauthorized", "error": {
                "errorMessage": "Invalid API token", "errorCode": "AUTH_6.0"}}}  # fmt: skip
        if path == f"/API/v3/surveys/{SURVEY}":
            return 200, {}, {"result": {"id": SURVEY, "name": "SYNTHETIC NPS survey"}}
        if path == EXPORTS and "_json" in query:
            return self._start(json.loads(query["_json"]))
        if path == f"{EXPORTS}/{PROGRESS}" and self.job is not None:
            return self._progress()
        if path == f"{EXPORTS}/FILE_synthetic/file" and self.job is not None:
            return 200, {}, self._file()
        return 404, {}, {"meta": {"httpStatus": "404 - Not Found"}}

    def _start(self, body: dict[str, Any]) -> Reply:
        if body.get("format") != "json":
            return 400, {}, {"meta": {"httpStatus": "400 - Bad Request"}}
        token = body.get("continuationToken")
        first = int(token.removeprefix("CT_")) if token else 0
        rows = self.responses[first:]
        if not token and body.get("startDate"):
            rows = [r for r in rows if r["values"]["recordedDate"] >= body["startDate"]]
        self.job = {"rows": rows, "polls": 0,
                    "continuable": bool(token or body.get("allowContinuation"))}  # fmt: skip
        return 200, {}, {"result": {"progressId": PROGRESS, "percentComplete": 0.0,
                                    "status": "inProgress"}}  # fmt: skip

    def _progress(self) -> Reply:
        assert self.job is not None
        self.job["polls"] += 1
        if self.job["polls"] < 3:  # the first checks find the job still running
            return 200, {}, {"result": {"percentComplete": 50.0, "status": "inProgress"}}
        result = {"percentComplete": 100.0, "status": "complete", "fileId": "FILE_synthetic"}
        if self.job["continuable"]:
            result["continuationToken"] = f"CT_{len(self.responses)}"
        return 200, {}, {"result": result}

    def _file(self) -> bytes:
        assert self.job is not None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                "SYNTHETIC NPS survey.json", json.dumps({"responses": self.job["rows"]})
            )
        return buffer.getvalue()
