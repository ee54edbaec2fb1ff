"""Zendesk Support tickets: cursor-based incremental export, comments as the thread.

Reads ``/api/v2/incremental/tickets/cursor.json`` (``start_time`` on the first run, then the
saved ``after_cursor``) until ``end_of_stream``. Each page is one batch; an edited ticket comes
back in the export with a later ``updated_at`` and replaces the stored one. Tickets with status
``deleted`` are reported in ``Batch.deleted`` (ingest removes them). Both incremental exports
are admin-only ("Allowed for: Admins"): the email and token must be an admin's, and a 403 says
so.

The thread is every comment of the ticket. Rather than one ``/tickets/{id}/comments.json`` call
per ticket (1,000 per export page), comments come from the incremental ticket-event export
(``/api/v2/incremental/ticket_events.json?include=comment_events``, the sideload Zendesk
documents for comment text; Airbyte's ``ticket_comments`` stream reads the same), read from the
bookmark's time alongside the ticket pages and only as far as they need. Events give the
comments a ticket received within the read, not its whole history, so a ticket takes its thread
from them only when that is provably the whole thread (``EventComments``): it was created at
or after the events' start, the events read reach past its ``updated_at`` and stop short of
the last minute (Zendesk refuses a ``start_time`` that recent; the stream may still be filling
there), it was not handed out already in this run, and at least one comment was seen (every
ticket has one: its description). Every other ticket, typically an older one updated since the
last run, reads its own comments as before; so does every ticket when the events cannot page
on (more than a page of events in one second). Authors' roles come from
``/api/v2/users/show_many.json`` (100 ids a call, once per author and run) or the comments'
sideloaded users. Only public comments by end users (the requester and CCs) make the item's
text; agent replies and internal notes stay in the thread, marked, out of the analysed text.

The bookmark is ``{"cursor": after_cursor, "utc": updated_at of the last exported ticket}``
(JSON); ``utc`` is where the next run's event read starts. A bookmark of the earlier form (the
cursor alone) resumes there and reads every comment per ticket until a page sets ``utc``.
"""

from __future__ import annotations

import json
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
from connectors.zendesk_events import EventComments, safe_time

_EXPORT = "/api/v2/incremental/tickets/cursor.json"
# Zendesk's binary satisfaction rating on the 1-5 CSAT scale: "good" counts as satisfied under
# the top-2-box convention, "bad" as not; "offered"/"unoffered" carry no rating.
_SATISFACTION = {"good": 5.0, "bad": 1.0}


class ZendeskOptions(ApiSourceOptions):
    """Options of a ``zendesk`` source.

    Attributes:
        subdomain: Account subdomain (``acme`` for acme.zendesk.com); or set ``base_url``.
        email: Email of a Zendesk admin, whom the API token acts as (not secret); the
            incremental exports are admin-only, an agent's email is refused with 403.
        token: Where the API token is: ``{env: ZENDESK_API_TOKEN}`` or ``{block: NAME}``.
        comment_events: Take comments from the ticket-event export where that is provably
            complete (False: one comment call per ticket, as before).
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
    comment_events: bool = True

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
    credential_role = "Zendesk admin (incremental exports are admin-only)"

    def _client(self) -> HttpClient:
        token = self.options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            self.options.url,
            auth=(f"{self.options.email}/token", token),
            credential_hint=self.credential_hint(
                f"the API token in {self.options.token.describe()} and the email "
                f"{self.options.email!r}"
            ),
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
        """Yields one batch per export page, from the bookmark's cursor or ``start_date``.

        Raises:
            ConnectorError: The API failed (403: the user is not an admin), or the saved
                bookmark is not one this connector wrote.
        """
        cursor, since = self._resume(bookmark)
        client = self._client()
        roles: dict[Any, str] = {}
        events = None
        if self.options.comment_events and since is not None:
            now = int(_utc_now().timestamp())
            events = EventComments(client, int(since.timestamp()), now)
        try:
            params: dict[str, Any] = {"per_page": self.options.per_page}
            if cursor is not None:
                params["cursor"] = cursor
            else:
                params["start_time"] = int(self.options.start_date.timestamp())
            page = 0
            while True:
                body = client.get_json(_EXPORT, params).json()
                page += 1
                tickets = list(body.get("tickets") or [])
                batch = HttpBatch(pages=1, rows_read=len(tickets))
                wanted = []
                brand = self.options.brand_id
                for index, ticket in enumerate(tickets):
                    other_brand = brand is not None and ticket.get("brand_id") != brand
                    if not other_brand and ticket.get("status") != "deleted":
                        wanted.append((index, ticket))
                        continue
                    if not other_brand:
                        batch.deleted.append(str(ticket["id"]))
                    if events is not None:
                        events.forget(ticket)  # not built in this run: hold none of it
                threads = self._event_threads(client, events, [t for _, t in wanted], roles)
                for index, ticket in wanted:
                    ref = f"export page {page} #{index}"
                    thread = threads.get(ticket.get("id"))
                    outcome = self._item(client, ticket, ref, thread, roles)
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                latest = [safe_time(t.get("updated_at")) for t in tickets]
                since = max([d for d in [since, *latest] if d is not None], default=None)
                cursor = body.get("after_cursor")
                if cursor:
                    token = {"cursor": str(cursor)}
                    if since is not None:
                        token["utc"] = since.isoformat()
                    batch.bookmark = Bookmark("after_cursor", json.dumps(token, sort_keys=True))
                yield batch
                if body.get("end_of_stream") or not cursor:
                    return
                params = {"per_page": self.options.per_page, "cursor": cursor}
        finally:
            client.close()

    def _resume(self, bookmark: Bookmark | None) -> tuple[str | None, datetime | None]:
        """The export cursor to resume from, and where the event read starts (None: unknown)."""
        if bookmark is None:
            return None, self.options.start_date
        if not bookmark.value.lstrip().startswith("{"):
            return bookmark.value, None  # the earlier form: the cursor alone
        try:
            token = json.loads(bookmark.value)
            return str(token["cursor"]), parse_time(token.get("utc"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConnectorError(
                f"source {self.name!r}: the saved bookmark {bookmark.value[:80]!r} is not a "
                "Zendesk position; reset the source's state to read from start_date"
            ) from error

    def _event_threads(
        self,
        client: HttpClient,
        events: EventComments | None,
        tickets: list[dict[str, Any]],
        roles: dict[Any, str],
    ) -> dict[Any, list[dict[str, Any]]]:
        """The page's tickets whose whole thread the events hold, and their authors' roles."""
        if events is None:
            return {}
        events.read_for(tickets)
        taken = {t["id"]: events.take(t) for t in tickets if t.get("id") is not None}
        threads = {key: comments for key, comments in taken.items() if comments is not None}
        authors = {c.get("author_id") for comments in threads.values() for c in comments}
        unknown = sorted(a for a in authors if a is not None and a not in roles)
        for start in range(0, len(unknown), 100):  # show_many takes at most 100 ids
            ids = ",".join(str(a) for a in unknown[start : start + 100])
            found = client.get_json("/api/v2/users/show_many.json", {"ids": ids}).json()
            roles.update({u.get("id"): str(u.get("role")) for u in found.get("users") or []})
        return threads

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
        self,
        client: HttpClient,
        ticket: dict[str, Any],
        ref: str,
        comments: list[dict[str, Any]] | None,
        roles: dict[Any, str],
    ) -> FeedbackItem | QuarantinedRow:
        try:
            if comments is None:  # not provably whole from the events: read them
                comments, found = self._comments(client, int(ticket["id"]))
                roles.update(found)
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


def _utc_now() -> datetime:
    """The time now (a function, so that tests can move the clock)."""
    return datetime.now(UTC)
