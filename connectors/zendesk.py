"""Zendesk Support tickets: cursor-based incremental export, comments as the thread.

Reads ``/api/v2/incremental/tickets/cursor.json`` (``start_time`` on the first run, then the
saved ``after_cursor``) until ``end_of_stream``. Each page is one batch whose bookmark is that
page's ``after_cursor``; an edited ticket comes back in the export with a later ``updated_at``
and replaces the stored one. Tickets with status ``deleted`` are reported in
``Batch.deleted`` (ingest removes them).

The thread comes from ``/api/v2/tickets/{id}/comments.json`` (cursor pages, users sideloaded
for their role). Only public comments by end users (the requester and CCs) make the item's
text; agent replies and internal notes stay in the thread, marked, out of the analysed text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError, model_validator

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient, NotFoundError, parse_time
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

_EXPORT = "/api/v2/incremental/tickets/cursor.json"
# Zendesk's binary satisfaction rating on the 1-5 CSAT scale: "good" counts as satisfied under
# the top-2-box convention, "bad" as not; "offered"/"unoffered" carry no rating.
_SATISFACTION = {"good": 5.0, "bad": 1.0}


class ZendeskOptions(ApiSourceOptions):
    """Options of a ``zendesk`` source.

    Attributes:
        subdomain: Account subdomain (``acme`` for acme.zendesk.com); or set ``base_url``.
        email: Agent email the API token belongs to (not secret).
        token: Where the API token is: ``{env: ZENDESK_API_TOKEN}`` or ``{block: NAME}``.
        brand_id: Only tickets of this brand (one account, several brands: one source each).
        start_date: Where the first run starts (UTC); later runs resume from the bookmark.
        per_page: Tickets per export page (Zendesk allows up to 1000).
    """

    subdomain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    email: str = Field(min_length=3)
    token: SecretRef = Field(default_factory=lambda: SecretRef(env="ZENDESK_API_TOKEN"))
    brand_id: int | None = None
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    per_page: int = Field(default=1000, ge=1, le=1000)

    @model_validator(mode="after")
    def _host(self) -> ZendeskOptions:
        if not self.subdomain and not self.base_url:
            raise ValueError("set subdomain (acme for acme.zendesk.com) or base_url")
        if self.start_date.tzinfo is None:
            self.start_date = self.start_date.replace(tzinfo=UTC)
        return self

    @property
    def url(self) -> str:
        """The account's API host."""
        return (self.base_url or f"https://{self.subdomain}.zendesk.com").rstrip("/")


class ZendeskConnector(ApiConnector[ZendeskOptions]):
    """Reads one Zendesk account (optionally one brand of it).

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing requester ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "after_cursor"

    def _client(self) -> HttpClient:
        token = self.options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            self.options.url,
            auth=(f"{self.options.email}/token", token),
            credential_hint=f"the API token in {self.options.token.describe()} and the "
            f"email {self.options.email!r}",
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one export page of one ticket."""
        client = self._client()
        try:
            start = int(self.options.start_date.timestamp())
            body = client.get_json(_EXPORT, {"start_time": start, "per_page": 1}).json()
        finally:
            client.close()
        if "tickets" not in body:
            raise ConnectorError(f"source {self.name!r}: {self.options.url} is not a Zendesk API")
        return f"{self.options.url}: authenticated, incremental export readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per export page, from the bookmark's cursor or ``start_date``."""
        client = self._client()
        try:
            params: dict[str, Any] = {"per_page": self.options.per_page}
            if bookmark is not None:
                params["cursor"] = bookmark.value
            else:
                params["start_time"] = int(self.options.start_date.timestamp())
            page = 0
            while True:
                body = client.get_json(_EXPORT, params).json()
                page += 1
                batch = HttpBatch(pages=1)
                for index, ticket in enumerate(body.get("tickets") or []):
                    batch.rows_read += 1
                    if self.options.brand_id is not None and ticket.get("brand_id") != (
                        self.options.brand_id
                    ):
                        continue
                    if ticket.get("status") == "deleted":
                        batch.deleted.append(str(ticket["id"]))
                        continue
                    outcome = self._item(client, ticket, f"export page {page} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                cursor = body.get("after_cursor")
                if cursor:
                    batch.bookmark = Bookmark("after_cursor", str(cursor))
                yield batch
                if body.get("end_of_stream") or not cursor:
                    return
                params = {"per_page": self.options.per_page, "cursor": cursor}
        finally:
            client.close()

    def _comments(self, client: HttpClient, ticket_id: int) -> tuple[list[Any], dict[Any, str]]:
        """All comments of a ticket and the roles of their authors."""
        comments: list[Any] = []
        roles: dict[Any, str] = {}
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments.json"
        params: dict[str, Any] | None = {"include": "users", "page[size]": 100}
        while url:
            body = client.get_json(url, params).json()
            comments.extend(body.get("comments") or [])
            roles.update({u.get("id"): str(u.get("role")) for u in body.get("users") or []})
            more = (body.get("meta") or {}).get("has_more")
            url = (body.get("links") or {}).get("next") if more else None
            params = None  # the next link carries every parameter
        return comments, roles

    def _item(
        self, client: HttpClient, ticket: dict[str, Any], ref: str
    ) -> FeedbackItem | QuarantinedRow:
        try:
            comments, roles = self._comments(client, int(ticket["id"]))
            requester = ticket.get("requester_id")
            thread = tuple(
                Message(
                    author_role=_role(c.get("author_id"), requester, roles),
                    created_at=parse_time(c.get("created_at")),
                    text=str(c.get("plain_body") or c.get("body") or ""),
                    internal=not c.get("public", True),
                )
                for c in comments
            )
            text = "\n\n".join(
                m.text for m in thread if m.author_role == "customer" and not m.internal
            )
            if not text.strip():
                return self._quarantine(ticket, ref, "no_customer_text",
                                        "no public comment by an end user")  # fmt: skip
            rating = (ticket.get("satisfaction_rating") or {}).get("score")
            score = None
            if rating in _SATISFACTION:
                score = Score(type=ScoreType.CSAT, value=_SATISFACTION[rating],
                              derived_from="Zendesk satisfaction good/bad as CSAT 5/1")  # fmt: skip
            segment = {
                "brand_id": ticket.get("brand_id"),
                "priority": ticket.get("priority"),
                "type": ticket.get("type"),
                "via": (ticket.get("via") or {}).get("channel"),
                "status": ticket.get("status"),
            }
            return FeedbackItem(
                source=self.name,
                external_id=str(ticket["id"]),
                channel=Channel.TICKET,
                created_at=parse_time(ticket.get("created_at")),
                updated_at=parse_time(ticket.get("updated_at")),
                text=text,
                title=ticket.get("subject") or None,
                score=score,
                language=self.options.language,
                product=self.options.product,
                segment={k: str(v) for k, v in segment.items() if v is not None},
                customer_key=hash_customer(str(requester), self._salt) if requester else None,
                url=f"{self.options.url}/agent/tickets/{ticket['id']}",
                thread=thread,
            )
        except NotFoundError as error:
            # Deleted between the list and this read: the next run's list no longer has it.
            return self._quarantine(ticket, ref, "gone", str(error)[:1000])
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(ticket, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, ticket: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {k: ticket.get(k) for k in ("id", "created_at", "updated_at", "subject", "status")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={ticket.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _role(author: Any, requester: Any, roles: dict[Any, str]) -> str:
    """Customer for end users (requester or CC), agent for agents and admins."""
    role = roles.get(author)
    if role is None:
        # Users not sideloaded: only the requester is known to be the customer.
        return "customer" if author == requester else "agent"
    return "customer" if role == "end-user" else "agent"
