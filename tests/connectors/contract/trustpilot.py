"""Trustpilot contract fake: public ``GET /v1/business-units/{id}/reviews``.

Implements, as documented by Trustpilot: API-key auth (``apikey`` header or query parameter),
``page`` (from 1; past the last page an empty array), ``perPage`` (1-100, default 20),
``orderBy`` (``createdat.desc`` by default, or ``createdat.asc``); a body of ``reviews`` (``id``,
``stars``, ``title``, ``text``, ``language``, ``createdAt``, ``updatedAt``, ``consumer``,
``companyReply``) and ``links`` with ``rel: "next-page"`` while more pages exist; 401 otherwise.

SYNTHETIC DATA: shaped from Trustpilot's documented examples, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.connectors.contract.server import Reply

UNIT = "507f191e810c19729de860ea"
API_KEY = "synthetic-trustpilot-key"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class TrustpilotApp:
    """The fake business unit: ``n`` synthetic reviews, pairs sharing a creation second."""

    def __init__(self, n: int = 11) -> None:
        self.reviews: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        for i in range(n):
            self._put(f"5e3de1b45fb06f00017{i:05d}", T0 + timedelta(minutes=i // 2), i % 5 + 1,
                      reply=i % 2 == 0)  # fmt: skip

    def _put(self, rid: str, when: datetime, stars: int, reply: bool) -> None:
        self.reviews[rid] = {
            "id": rid, "stars": stars, "title": f"SYNTHETIC title {rid}",
            "text": f"SYNTHETIC review text {rid}", "language": "en",
            "createdAt": _iso(when), "updatedAt": _iso(when),
            "consumer": {"id": f"c{rid}", "displayName": "SYNTHETIC consumer"},
            "businessUnit": {"id": UNIT}, "status": "active", "verificationLevel": "verified",
            "companyReply": {"text": f"AGENT-REPLY to {rid}", "createdAt": _iso(when)}
            if reply else None,
        }  # fmt: skip

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        rid = f"5e3de1b45fb06f00018{len(self.reviews):05d}"
        self._put(rid, self.clock, 4, reply=False)
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if API_KEY not in (headers.get("apikey"), query.get("apikey")):
            return 401, {}, {"message": "Unauthorized", "errorCode": 401}
        if path != f"/v1/business-units/{UNIT}/reviews":
            return 404, {}, {"message": "Business unit not found", "errorCode": 404}
        size = min(max(int(query.get("perPage", 20)), 1), 100)
        page = int(query.get("page", 1))
        ordered = sorted(self.reviews.values(), key=lambda r: (r["createdAt"], r["id"]),
                         reverse=query.get("orderBy", "createdat.desc") == "createdat.desc")  # fmt: skip
        chunk = ordered[(page - 1) * size : page * size]
        links = []
        if page * size < len(ordered):
            href = f"{base}{path}?{urlencode({**query, 'page': page + 1})}"
            links.append({"href": href, "method": "GET", "rel": "next-page"})
        return 200, {}, {"reviews": [dict(r) for r in chunk], "links": links}
