"""App Store customer reviews via the App Store Connect API (ES256 JWT auth).

``GET /v1/apps/{id}/customerReviews?sort=-createdDate`` lists reviews newest first, paged by
``links.next``, with no date filter. A read lists down to the bookmark (``createdDate``,
inclusive), then yields the reviews at or after it oldest first, in batches. Nothing is yielded
before the listing is complete: a failure mid-listing persists nothing. Reviews have no
``updated_at``, and the list reports neither edits nor deletions. The developer's published
response (``include=response``) is kept in the thread, out of the text.

Auth: a JWT signed with the team's ``.p8`` key (ES256; ``kid`` = key id, ``iss`` = issuer id,
``aud`` = ``appstoreconnect-v1``), valid for 20 minutes at most, renewed before it expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from google.auth import jwt
from google.auth.crypt import Signer, es256
from pydantic import Field, ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import HttpBatch, HttpClient, credential_hint, parse_time
from connectors.schema import (
    Channel,
    FeedbackItem,
    Message,
    QuarantinedRow,
    Score,
    ScoreType,
    raw_json,
)

_TOKEN_LIFETIME = 15 * 60  # Apple rejects tokens valid for more than 20 minutes
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AppStoreOptions(ApiSourceOptions):
    """Options of an ``app_store`` source.

    Attributes:
        app_id: The app's Apple id (digits).
        issuer_id: The API key's issuer id (not secret).
        key_id: The API key's id (not secret).
        private_key: Where the ``.p8`` key is: its PEM text or its file path
            (``{env: APP_STORE_CONNECT_KEY}`` by default).
        territory: Only reviews from this territory (ISO 3166-1 alpha-3, e.g. "KOR").
        limit: Reviews per request (Apple allows up to 200).
        batch_size: Reviews per persisted batch.
    """

    app_id: str = Field(pattern=r"^\d+$")
    issuer_id: str = Field(min_length=1)
    key_id: str = Field(min_length=1)
    private_key: SecretRef = Field(default_factory=lambda: SecretRef(env="APP_STORE_CONNECT_KEY"))
    territory: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    limit: int = Field(default=200, ge=1, le=200)
    batch_size: int = Field(default=500, ge=1)


class _JwtAuth(httpx.Auth):
    """Bearer auth with a self-signed ES256 JWT, renewed before it expires."""

    def __init__(self, signer: Signer, issuer: str) -> None:
        self._signer = signer
        self._issuer = issuer
        self._token = ""
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = time.time()
        if now >= self._expires - 60:
            claims = {"iss": self._issuer, "iat": int(now), "exp": int(now) + _TOKEN_LIFETIME,
                      "aud": "appstoreconnect-v1"}  # fmt: skip
            self._token = jwt.encode(self._signer, claims, header={"typ": "JWT"}).decode()
            self._expires = now + _TOKEN_LIFETIME
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class AppStoreConnector:
    """Reads the customer reviews of one App Store app.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Unused: reviewers are nicknames, not ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "createdDate"
    # Apple: the Customer Support role "analyzes and responds to customer reviews"; Admin keys
    # reach all apps. A key whose role cannot read reviews gets 403.
    credential_role = "App Store Connect API key with the Customer Support or Admin role"

    def __init__(
        self,
        name: str,
        options: AppStoreOptions,
        customer_salt: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self._sleep = sleep
        self._transport = transport
        self.client: HttpClient | None = None

    @property
    def _path(self) -> str:
        return f"/v1/apps/{self.options.app_id}/customerReviews"

    def _client(self) -> HttpClient:
        options = self.options
        hint = f"the .p8 key in {options.private_key.describe()}, key_id and issuer_id"
        secret = options.private_key.resolve(self.name).strip()
        try:
            pem = secret if secret.startswith("-----BEGIN") else Path(secret).read_text("utf-8")
            signer = es256.ES256Signer.from_string(pem, options.key_id)
        except (OSError, ValueError, TypeError) as error:
            raise ConnectorError(
                f"source {self.name!r}: cannot read {hint} ({type(error).__name__}); it must be "
                "the key's PEM text or the path of the .p8 file"
            ) from error
        self.client = HttpClient(
            self.name,
            (options.base_url or "https://api.appstoreconnect.apple.com").rstrip("/"),
            auth=_JwtAuth(signer, options.issuer_id),
            credential_hint=credential_hint(hint, self.credential_role),
            policy=options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def _params(self, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"sort": "-createdDate", "limit": limit, "include": "response"}
        if self.options.territory:
            params["filter[territory]"] = self.options.territory
        return params

    def check(self) -> str:
        """Authenticates and reads one review."""
        client = self._client()
        try:
            body = client.get_json(self._path, self._params(1)).json()
        finally:
            client.close()
        if "data" not in body:
            raise ConnectorError(f"source {self.name!r}: not an App Store Connect answer")
        return f"app {self.options.app_id}: authenticated, customer reviews readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields the reviews created at or after the bookmark, oldest first."""
        since = parse_time(bookmark.value) if bookmark else None
        client = self._client()
        try:
            rows, responses, pages = self._list(client, since)
        finally:
            client.close()
        dated = sorted(((_created(r), r) for r in rows),
                       key=lambda pair: (pair[0] or _EPOCH, str(pair[1].get("id"))))  # fmt: skip
        size = self.options.batch_size
        for start in range(0, len(dated), size):
            chunk = dated[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=pages if start == 0 else 0)
            for index, (_, row) in enumerate(chunk):
                outcome = self._item(row, responses, f"review #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = max((when for when, _ in chunk if when is not None), default=None)
            if last is not None:
                batch.bookmark = Bookmark("createdDate", last.isoformat())
            yield batch

    def _list(
        self, client: HttpClient, since: datetime | None
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], int]:
        """Reviews at or after ``since`` (newest first), their responses by id, and pages read."""
        rows: list[dict[str, Any]] = []
        responses: dict[str, dict[str, Any]] = {}
        url: str | None = self._path
        params: dict[str, Any] | None = self._params(self.options.limit)
        pages = 0
        while url:
            body = client.get_json(url, params).json()
            pages += 1
            found = list(body.get("data") or [])
            for included in body.get("included") or []:
                if included.get("type") == "customerReviewResponses":
                    responses[str(included.get("id"))] = included.get("attributes") or {}
            rows += [r for r in found if since is None or (_created(r) or since) >= since]
            if since is not None and any((_created(r) or since) < since for r in found):
                break  # newest first: this page reached reviews the bookmark already covers
            url, params = (body.get("links") or {}).get("next"), None
        return rows, responses, pages

    def _item(
        self, row: dict[str, Any], responses: dict[str, dict[str, Any]], ref: str
    ) -> FeedbackItem | QuarantinedRow:
        try:
            attributes = row.get("attributes") or {}
            created = parse_time(attributes.get("createdDate"))
            body = str(attributes.get("body") or "")
            thread = [Message(author_role="customer", created_at=created, text=body)]
            link = ((row.get("relationships") or {}).get("response") or {}).get("data") or {}
            response = responses.get(str(link.get("id")))
            if response and response.get("responseBody"):
                when = parse_time(response.get("lastModifiedDate")) or created
                thread.append(Message(author_role="agent", created_at=when,
                                      text=str(response["responseBody"])))  # fmt: skip
            territory = attributes.get("territory")
            return FeedbackItem(
                source=self.name,
                external_id=str(row["id"]),
                channel=Channel.REVIEW,
                created_at=created,
                text=body,
                title=attributes.get("title") or None,
                score=Score(type=ScoreType.STARS, value=float(attributes["rating"])),
                language=self.options.language,
                product=self.options.product or self.options.app_id,
                segment={"territory": str(territory)} if territory else {},
                thread=tuple(thread),
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        attributes = dict(row.get("attributes") or {})
        attributes.pop("reviewerNickname", None)  # a person's handle: not kept
        keep = {"id": row.get("id"), "attributes": attributes}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _created(row: dict[str, Any]) -> datetime | None:
    try:
        return parse_time((row.get("attributes") or {}).get("createdDate"))
    except ValueError:
        return None
