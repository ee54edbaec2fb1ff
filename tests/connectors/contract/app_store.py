"""App Store Connect contract fake: ``GET /v1/apps/{id}/customerReviews``.

Implements, as documented by Apple: a bearer JWT signed ES256 with the API key (``kid`` header,
``iss`` issuer id, ``aud: appstoreconnect-v1``, ``exp`` at most 20 minutes after ``iat``),
verified here against the key's public half; ``sort=-createdDate`` (newest first, the default
here too) or ``createdDate``, ``limit`` (max 200), ``include=response``; a JSON:API body of
``data`` (``type: customerReviews``, ``attributes`` ``rating``, ``title``, ``body``,
``reviewerNickname``, ``createdDate``, ``territory``; ``relationships.response``), ``included``
(``customerReviewResponses``), ``links.next`` while more exist; 401 ``NOT_AUTHORIZED`` otherwise.

SYNTHETIC DATA: shaped from Apple's documented examples, written for these tests; the key is
generated here and signs nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import jwt

from tests.connectors.contract.server import Reply

APP_ID = "1234567890"
ISSUER = "57246542-96fe-1a63-e053-0824d011072a"
KEY_ID = "2X9R4HXF34"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _key() -> tuple[str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    return private, public


PRIVATE_PEM, PUBLIC_PEM = _key()
OTHER_PEM, _ = _key()  # a key the fake does not know


def _iso(value: datetime) -> str:
    # Apple writes local offsets, e.g. 2026-03-01T02:00:00-07:00.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "-00:00"


class AppStoreApp:
    """The fake app: ``n`` synthetic reviews, pairs sharing a creation second."""

    def __init__(self, n: int = 11) -> None:
        self.reviews: dict[str, dict[str, Any]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        for i in range(n):
            self._put(f"00000{i:03d}-synthetic", T0 + timedelta(minutes=i // 2), i % 5 + 1,
                      reply=i % 2 == 0)  # fmt: skip

    def _put(self, rid: str, when: datetime, rating: int, reply: bool) -> None:
        review: dict[str, Any] = {
            "type": "customerReviews", "id": rid,
            "attributes": {"rating": rating, "title": f"SYNTHETIC title {rid}",
                           "body": f"SYNTHETIC review body {rid}", "reviewerNickname": "syn",
                           "createdDate": _iso(when), "territory": "KOR"},
            "relationships": {"response": {"data": None}},
        }  # fmt: skip
        if reply:
            response_id = f"resp-{rid}"
            review["relationships"]["response"]["data"] = {
                "type": "customerReviewResponses", "id": response_id}  # fmt: skip
            self.responses[response_id] = {
                "type": "customerReviewResponses", "id": response_id,
                "attributes": {"responseBody": f"AGENT-REPLY to {rid}",
                               "lastModifiedDate": _iso(when), "state": "PUBLISHED"},
            }  # fmt: skip
        self.reviews[rid] = review

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        rid = f"00001{len(self.reviews):03d}-synthetic"
        self._put(rid, self.clock, 4, reply=False)
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        auth = headers.get("authorization", "")
        try:
            claims = jwt.decode(auth.removeprefix("Bearer "), certs=PUBLIC_PEM,
                                audience="appstoreconnect-v1")  # fmt: skip
            header = jwt.decode_header(auth.removeprefix("Bearer "))
            valid = (claims.get("iss") == ISSUER and header.get("kid") == KEY_ID
                     and int(claims["exp"]) - int(claims["iat"]) <= 20 * 60)  # fmt: skip
        except (ValueError, KeyError):
            valid = False
        if not valid:
            return 401, {}, {"errors": [{"status": "401", "code": "NOT_AUTHORIZED",
                                         "title": "Authentication credentials are missing or "
                                                  "invalid."}]}  # fmt: skip
        if path != f"/v1/apps/{APP_ID}/customerReviews":
            return 404, {}, {"errors": [{"status": "404", "code": "NOT_FOUND"}]}
        size = min(int(query.get("limit", 50)), 200)
        offset = int(query.get("cursor", 0))
        ordered = sorted(self.reviews.values(),
                         key=lambda r: (r["attributes"]["createdDate"], r["id"]),
                         reverse=query.get("sort", "-createdDate") == "-createdDate")  # fmt: skip
        page = ordered[offset : offset + size]
        links: dict[str, Any] = {"self": f"{base}{path}"}
        if offset + size < len(ordered):
            links["next"] = f"{base}{path}?{urlencode({**query, 'cursor': offset + size})}"
        included = []
        if query.get("include") == "response":
            linked = [(r["relationships"]["response"]["data"] or {}).get("id") for r in page]
            included = [self.responses[i] for i in linked if i]
        return 200, {}, {"data": page, "included": included, "links": links,
                         "meta": {"paging": {"total": len(ordered), "limit": size}}}  # fmt: skip
