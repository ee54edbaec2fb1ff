"""Freshdesk tickets: ``updated_since`` keyset paging, conversations as the thread.

Reads ``/api/v2/tickets?updated_since=T&order_by=updated_at&order_type=asc&include=description``
and pages by keyset (``connectors.paging``) rather than by page number: that avoids both the
reported ~300-page cap and the rows skipped when a ticket is edited mid-sync. The list sends a
ticket's ``description``/``description_text`` only with ``include=description`` (every account
created after 2018-11-30; each include costs 2 more API credits per call): without it the
opening message, most often the customer's only one, would be missing. An edited ticket comes
back with a later ``updated_at`` and replaces the stored one.

Deleted and spam tickets leave the default list without a trace, so two more lists are read the
same way, ``filter=deleted`` and ``filter=spam`` (as singer-io/tap-freshdesk does), and their
ids go to ``Batch.deleted``: ingest erases what was stored of them. A restored ticket comes back
in the live list with a later ``updated_at``. Each list keeps its own inclusive ``updated_at``
position, all three in one JSON bookmark (``{"tickets", "deleted", "spam", "utc"}``): a
deletion list read from the live list's position would skip tickets deleted before the last
ticket edit, and a failure in one list leaves the others where they were. A bookmark of the
earlier form (the live list's ``updated_at`` alone) resumes the live list there and reads the
deletion lists from ``start_date``, once.

The thread is the ticket's description (written by the requester unless the ticket is an
outbound email) plus ``/api/v2/tickets/{id}/conversations`` (``Link``-header pages). Only
public, incoming messages are customer text; agent replies and private notes stay out of it.
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
from connectors.http import (
    ApiConnector,
    HttpBatch,
    HttpClient,
    NotFoundError,
    next_link,
    parse_time,
)
from connectors.paging import keyset_pages
from connectors.schema import (
    Channel,
    FeedbackItem,
    Message,
    QuarantinedRow,
    hash_customer,
    raw_json,
)

_OUTBOUND_EMAIL = 10  # Freshdesk ticket source code: the agent wrote the description
_STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
# The lists read, each with its own position in the bookmark: the live tickets (None: no
# filter), then those deleted and those marked spam (reported as deletions).
_LISTS: dict[str, str | None] = {"tickets": None, "deleted": "deleted", "spam": "spam"}


class FreshdeskOptions(ApiSourceOptions):
    """Options of a ``freshdesk`` source.

    Attributes:
        domain: Helpdesk name (``acme`` for acme.freshdesk.com); or set ``base_url``.
        api_key: Where the API key is (``{env: FRESHDESK_API_KEY}`` by default); the key of
            an agent with Global ticket scope, since a key lists only what its agent sees.
        start_date: Where the first run starts (UTC), for the live, deleted and spam lists.
        per_page: Tickets per request (Freshdesk allows up to 100).
    """

    domain: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    api_key: SecretRef = Field(default_factory=lambda: SecretRef(env="FRESHDESK_API_KEY"))
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    per_page: int = Field(default=100, ge=1, le=100)

    @model_validator(mode="after")
    def _host(self) -> FreshdeskOptions:
        if not self.domain and not self.base_url:
            raise ValueError("set domain (acme for acme.freshdesk.com) or base_url")
        return self

    @property
    def url(self) -> str:
        """The helpdesk's API host."""
        return (self.base_url or f"https://{self.domain}.freshdesk.com").rstrip("/")


class FreshdeskConnector(ApiConnector[FreshdeskOptions]):
    """Reads the tickets of one Freshdesk helpdesk.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing requester ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "updated_at"
    # The key acts as its agent: an agent with Group or Restricted scope lists only some
    # tickets, and the rest are never read (no error says so).
    credential_role = (
        "Freshdesk agent with Global ticket scope (a key lists only the tickets its agent sees)"
    )

    def _client(self) -> HttpClient:
        key = self.options.api_key.resolve(self.name)
        self.client = HttpClient(
            self.name,
            self.options.url,
            auth=(key, "X"),  # Freshdesk: the API key as user name, any password
            credential_hint=self.credential_hint(
                f"the API key in {self.options.api_key.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one ticket."""
        client = self._client()
        try:
            body = client.get_json("/api/v2/tickets", {"per_page": 1}).json()
        finally:
            client.close()
        if not isinstance(body, list):
            raise ConnectorError(f"source {self.name!r}: {self.options.url} is not Freshdesk")
        return f"{self.options.url}: authenticated, tickets readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per page of each list, from that list's position in the bookmark.

        Raises:
            ConnectorError: The API failed, or the saved bookmark is not one this connector
                wrote.
        """
        positions = self._positions(bookmark)
        client = self._client()
        try:
            for name, chosen in _LISTS.items():
                yield from self._list(client, name, chosen, positions)
        finally:
            client.close()

    def _positions(self, bookmark: Bookmark | None) -> dict[str, datetime]:
        """Where each list resumes: the bookmark's positions, else ``start_date``."""
        positions = dict.fromkeys(_LISTS, self.options.start_date)
        if bookmark is None:
            return positions
        try:
            if bookmark.value.lstrip().startswith("{"):
                token = json.loads(bookmark.value)
                for name in _LISTS:
                    positions[name] = parse_time(token.get(name)) or positions[name]
            else:  # the earlier form: the live list's position alone
                positions["tickets"] = parse_time(bookmark.value) or positions["tickets"]
        except (ValueError, AttributeError) as error:
            raise ConnectorError(
                f"source {self.name!r}: the saved bookmark {bookmark.value[:80]!r} is not a "
                "Freshdesk position; reset the source's state to read from start_date"
            ) from error
        return positions

    def _list(
        self,
        client: HttpClient,
        name: str,
        chosen: str | None,
        positions: dict[str, datetime],
    ) -> Iterator[Batch]:
        """One list's pages: tickets as items (live list) or their ids as deletions."""

        def fetch(lower: datetime, page: int) -> list[dict[str, Any]]:
            params: dict[str, Any] = {
                "updated_since": lower.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "order_by": "updated_at",
                "order_type": "asc",
                "per_page": self.options.per_page,
                "page": page,
            }
            if chosen is None:
                params["include"] = "description"  # deleted/spam tickets need no text
            else:
                params["filter"] = chosen
            return list(client.get_json("/api/v2/tickets", params).json())

        start = positions[name]
        pages = keyset_pages(
            fetch,
            start,
            source=self.name,
            page_size=self.options.per_page,
            timestamp=lambda r: parse_time(r.get("updated_at")) or start,
            row_id=lambda r: str(r.get("id")),
        )
        for number, rows in enumerate(pages, start=1):
            batch = HttpBatch(pages=1, rows_read=len(rows))
            if chosen is not None:
                batch.deleted = [str(row["id"]) for row in rows if row.get("id") is not None]
            else:
                for index, row in enumerate(rows):
                    outcome = self._item(client, row, f"page {number} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
            last = parse_time(rows[-1].get("updated_at"))
            if last is not None:
                positions[name] = max(positions[name], last)
            batch.bookmark = _bookmark(positions)
            yield batch

    def _conversations(self, client: HttpClient, ticket_id: int) -> list[dict[str, Any]]:
        url: str | None = f"/api/v2/tickets/{ticket_id}/conversations"
        params: dict[str, Any] | None = {"per_page": 100}
        found: list[dict[str, Any]] = []
        while url:
            response = client.get_json(url, params)
            found.extend(response.json())
            url, params = next_link(response), None  # the next link carries every parameter
        return found

    def _item(
        self, client: HttpClient, ticket: dict[str, Any], ref: str
    ) -> FeedbackItem | QuarantinedRow:
        try:
            created = parse_time(ticket.get("created_at"))
            opener = "agent" if ticket.get("source") == _OUTBOUND_EMAIL else "customer"
            messages = [
                Message(author_role=opener, created_at=created,
                        text=str(ticket.get("description_text") or ""))
            ]  # fmt: skip
            for conv in self._conversations(client, int(ticket["id"])):
                messages.append(
                    Message(
                        author_role="customer" if conv.get("incoming") else "agent",
                        created_at=parse_time(conv.get("created_at")),
                        text=str(conv.get("body_text") or ""),
                        internal=bool(conv.get("private")),
                    )
                )
            thread = tuple(m for m in messages if m.text.strip())
            text = "\n\n".join(
                m.text for m in thread if m.author_role == "customer" and not m.internal
            )
            if not text.strip():
                return self._quarantine(ticket, ref, "no_customer_text",
                                        "no public incoming message")  # fmt: skip
            requester = ticket.get("requester_id")
            segment = {"priority": ticket.get("priority"), "type": ticket.get("type"),
                       "status": _STATUS.get(ticket.get("status") or 0)}  # fmt: skip
            return FeedbackItem(
                source=self.name,
                external_id=str(ticket["id"]),
                channel=Channel.TICKET,
                created_at=created,
                updated_at=parse_time(ticket.get("updated_at")),
                text=text,
                title=ticket.get("subject") or None,
                language=self.options.language,
                product=self.options.product,
                segment={k: str(v) for k, v in segment.items() if v is not None},
                customer_key=hash_customer(str(requester), self._salt) if requester else None,
                url=f"{self.options.url}/a/tickets/{ticket['id']}",
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
        keep = {k: ticket.get(k) for k in ("id", "created_at", "updated_at", "subject")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={ticket.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _bookmark(positions: dict[str, datetime]) -> Bookmark:
    """All lists' positions in one token; ``utc`` (the latest) is what ingest holds to the clock."""
    token = {name: when.isoformat() for name, when in positions.items()}
    token["utc"] = max(positions.values()).isoformat()
    return Bookmark("updated_at", json.dumps(token, sort_keys=True))
