"""Google Play contract fake: OAuth 2.0 token endpoint and ``reviews.list``.

Implements, as documented by Google: ``POST /token`` with
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and a JWT ``assertion`` signed by
the service-account key (verified here against the key's public half; ``invalid_grant``
otherwise), answering ``access_token``/``expires_in``/``token_type``.
``GET /androidpublisher/v3/applications/{packageName}/reviews`` with ``maxResults`` and
``token``, newest first, a body of ``reviews`` (``reviewId``, ``authorName``, ``comments`` with a
``userComment`` and an optional ``developerComment``, times as ``{seconds, nanos}``),
``tokenPagination.nextPageToken`` and ``pageInfo``; 401 without a valid bearer token. As
documented ("only reviews from last week will be returned"), a review modified more than 7 days
before ``now`` is no longer listed; ``now`` is None by default (every review is listed), and
tests that need the window set it.

SYNTHETIC DATA: shaped from the Android Publisher API's documented examples, written for these
tests; the service-account key is generated here and signs nothing else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from tests.connectors.contract.server import Reply

PACKAGE = "com.example.synthetic"
ACCESS_TOKEN = "synthetic-access-token"  # noqa: S105 - a test fixture, not a secret
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)  # reviews.list: "Only reviews from last week will be returned"


def _key_json(email: str) -> tuple[str, bytes]:
    """A freshly generated synthetic service-account key and its public key (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    info = {"type": "service_account", "project_id": "synthetic", "private_key_id": "k1",
            "private_key": private, "client_email": email, "client_id": "1",
            "token_uri": "http://127.0.0.1:9/token"}  # fmt: skip
    return json.dumps(info), public


KEY_JSON, PUBLIC_PEM = _key_json("reader@synthetic.iam.gserviceaccount.com")
OTHER_KEY_JSON, _ = _key_json("reader@synthetic.iam.gserviceaccount.com")  # not accepted


def _ts(value: datetime) -> dict[str, Any]:
    return {"seconds": str(int(value.timestamp())), "nanos": 0}


class GooglePlayApp:
    """The fake app: ``n`` synthetic reviews, pairs sharing a modification second."""

    def __init__(self, n: int = 11) -> None:
        self.reviews: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        self.now: datetime | None = None  # the API's clock, for its 7-day window
        for i in range(n):
            self._put(f"gp:{i:03d}", T0 + timedelta(minutes=i // 2), i % 5 + 1,
                      f"SYNTHETIC title {i}\tSYNTHETIC review body {i}", reply=i % 2 == 0)  # fmt: skip

    def _put(self, rid: str, when: datetime, stars: int, text: str, reply: bool) -> None:
        comments: list[dict[str, Any]] = [{"userComment": {
            "text": text, "lastModified": _ts(when), "starRating": stars,
            "reviewerLanguage": "en_US", "device": "synthetic-phone", "androidOsVersion": 34,
            "appVersionCode": 120, "appVersionName": "1.2.0", "thumbsUpCount": 0,
        }}]  # fmt: skip
        if reply:
            comments.append({"developerComment": {"text": f"AGENT-REPLY to {rid}",
                                                  "lastModified": _ts(when)}})  # fmt: skip
        self.reviews[rid] = {"reviewId": rid, "authorName": "SYNTHETIC reviewer",
                             "comments": comments}  # fmt: skip

    def edit(self, rid: str, text: str) -> None:
        self.clock += timedelta(minutes=1)
        self._put(rid, self.clock, 2, text, reply=False)

    def add(self, when: datetime | None = None) -> str:
        """Adds a review (a minute after the last change, or at ``when``); returns its id."""
        self.clock = when or self.clock + timedelta(minutes=1)
        rid = f"gp:{len(self.reviews):03d}"
        self._put(rid, self.clock, 4, f"SYNTHETIC late review {rid}", reply=False)
        return rid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if path == "/token":
            return self._token(query)
        if headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return 401, {}, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                       "message": "Request had invalid credentials."}}  # fmt: skip
        if path != f"/androidpublisher/v3/applications/{PACKAGE}/reviews":
            return 404, {}, {"error": {"code": 404, "message": "Package not found"}}
        ordered = sorted(self.reviews.values(), reverse=True, key=lambda r: (
            int(r["comments"][0]["userComment"]["lastModified"]["seconds"]), r["reviewId"]))  # fmt: skip
        if self.now is not None:
            oldest = (self.now - WINDOW).timestamp()
            ordered = [r for r in ordered if int(
                r["comments"][0]["userComment"]["lastModified"]["seconds"]) >= oldest]  # fmt: skip
        size = min(int(query.get("maxResults", 100)), 100)
        start = int(query.get("token") or 0)
        page = ordered[start : start + size]
        body: dict[str, Any] = {
            "pageInfo": {"totalResults": len(ordered), "resultPerPage": size, "startIndex": start},
            "reviews": page,
        }
        if start + size < len(ordered):
            body["tokenPagination"] = {"nextPageToken": str(start + size)}
        return 200, {}, body

    @staticmethod
    def _token(form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {}, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(form.get("assertion", ""), certs=PUBLIC_PEM, verify=True)
        except ValueError:
            return (
                400,
                {},
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            )
        if "androidpublisher" not in str(claims.get("scope")):
            return 400, {}, {"error": "invalid_scope"}
        return 200, {}, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
