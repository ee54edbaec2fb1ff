"""Trustpilot service reviews of one business unit (public Business Units API, API key).

``GET /v1/business-units/{id}/reviews`` lists reviews by ``createdAt`` with ``page``/``perPage``
(at most 100) and no date filter, so a read lists newest first (``orderBy=createdat.desc``)
until a page reaches the bookmark, then yields the reviews created at or after it, oldest first,
in batches. Nothing is yielded before the listing is complete: a failure mid-listing persists
nothing. A review posted mid-listing shifts later pages down: some are read twice (absorbed by
the store's upsert), none are skipped.

Limits, as the public endpoint has them: edits to reviews older than the bookmark are not seen
(the list is ordered by creation), and deleted reviews are not reported. The private endpoint
(business-user OAuth) has ``startDateTime`` and would lift the first limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient, parse_time
from connectors.schema import (
    Channel,
    FeedbackItem,
    Message,
    QuarantinedRow,
    Score,
    ScoreType,
    hash_customer,
    raw_json,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TrustpilotOptions(ApiSourceOptions):
    """Options of a ``trustpilot`` source.

    Attributes:
        business_unit_id: The business unit (find it with ``/v1/business-units/find``).
        api_key: Where the API key is (``{env: TRUSTPILOT_API_KEY}`` by default).
        per_page: Reviews per request (Trustpilot allows up to 100).
        batch_size: Reviews per persisted batch.
    """

    business_unit_id: str = Field(pattern=r"^[A-Za-z0-9]+$")
    api_key: SecretRef = Field(default_factory=lambda: SecretRef(env="TRUSTPILOT_API_KEY"))
    per_page: int = Field(default=100, ge=1, le=100)
    batch_size: int = Field(default=500, ge=1)


class TrustpilotConnector(ApiConnector[TrustpilotOptions]):
    """Reads the reviews of one Trustpilot business unit.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing consumer ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "createdAt"
    # The API is part of Trustpilot Business (the Connect module); the public reviews
    # endpoint needs only the key, no business-user OAuth.
    credential_role = "API key of a Trustpilot Business account with the Connect (API) module"

    @property
    def _path(self) -> str:
        return f"/v1/business-units/{self.options.business_unit_id}/reviews"

    def _client(self) -> HttpClient:
        key = self.options.api_key.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://api.trustpilot.com").rstrip("/"),
            headers={"apikey": key},
            credential_hint=self.credential_hint(
                f"the API key in {self.options.api_key.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one review."""
        client = self._client()
        try:
            body = client.get_json(self._path, {"perPage": 1}).json()
        finally:
            client.close()
        if "reviews" not in body:
            raise ConnectorError(f"source {self.name!r}: not a Trustpilot reviews answer")
        return f"business unit {self.options.business_unit_id}: authenticated, reviews readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields the reviews created at or after the bookmark, oldest first."""
        since = parse_time(bookmark.value) if bookmark else None
        client = self._client()
        try:
            rows, pages = self._list(client, since)
        finally:
            client.close()
        # Undated rows sort first and are quarantined by the mapping.
        dated = sorted(((_created(r), r) for r in rows),
                       key=lambda pair: (pair[0] or _EPOCH, str(pair[1].get("id"))))  # fmt: skip
        size = self.options.batch_size
        for start in range(0, len(dated), size):
            chunk = dated[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=pages if start == 0 else 0)
            for index, (_, row) in enumerate(chunk):
                outcome = self._item(row, f"review #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = max((when for when, _ in chunk if when is not None), default=None)
            if last is not None:
                batch.bookmark = Bookmark("createdAt", last.isoformat())
            yield batch

    def _list(self, client: HttpClient, since: datetime | None) -> tuple[list[dict[str, Any]], int]:
        """Reviews created at or after ``since`` (or undated), read newest first."""
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        page = 0
        while True:
            page += 1
            params = {"perPage": self.options.per_page, "page": page, "orderBy": "createdat.desc"}
            found = list(client.get_json(self._path, params).json().get("reviews") or [])
            for row in found:
                created = _created(row)
                if str(row.get("id")) in seen or (since and created and created < since):
                    continue  # a repeat from a shifted page, or older than the bookmark
                seen.add(str(row.get("id")))
                rows.append(row)
            reached = since is not None and any((_created(r) or since) < since for r in found)
            if reached or len(found) < self.options.per_page:
                return rows, page

    def _item(self, row: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        try:
            created = parse_time(row.get("createdAt"))
            thread = [Message(author_role="customer", created_at=created, text=str(row["text"]))]
            reply = row.get("companyReply") or {}
            if reply.get("text"):
                thread.append(
                    Message(
                        author_role="agent",
                        created_at=parse_time(reply.get("createdAt")) or created,
                        text=str(reply["text"]),
                    )
                )
            consumer = (row.get("consumer") or {}).get("id")
            return FeedbackItem(
                source=self.name,
                external_id=str(row["id"]),
                channel=Channel.REVIEW,
                created_at=created,
                updated_at=parse_time(row.get("updatedAt")),
                text=str(row["text"]),
                title=row.get("title") or None,
                score=Score(type=ScoreType.STARS, value=float(row["stars"])),
                language=row.get("language") or self.options.language,
                product=self.options.product,
                segment={k: str(row[k]) for k in ("verificationLevel",) if row.get(k)},
                customer_key=hash_customer(str(consumer), self._salt) if consumer else None,
                url=f"https://www.trustpilot.com/reviews/{row['id']}",
                thread=tuple(thread),
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        # The consumer's display name is personal data: left out of the raw row.
        keep = {k: v for k, v in row.items() if k != "consumer"}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _created(row: dict[str, Any]) -> datetime | None:
    try:
        return parse_time(row.get("createdAt"))
    except ValueError:
        return None
