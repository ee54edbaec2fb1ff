"""Intercom conversations: search by ``updated_at``, conversation parts as the thread.

``POST /conversations/search`` with ``updated_at > bookmark - 1`` (Intercom has no ``>=``;
timestamps are whole seconds, so this is an inclusive bound), sorted by ``updated_at``
ascending, paged by ``pages.next.starting_after``. Each page is one batch whose bookmark is its
last ``updated_at``; an edited conversation comes back with a later ``updated_at`` and replaces
the stored one. The search does not report deleted conversations.

The thread is the conversation's source message plus its parts (``GET /conversations/{id}``;
Intercom returns the 500 most recent parts). Customer text is what users and leads wrote
publicly, plus the rating remark; admin and bot replies and notes stay in the thread, out of
the text. Bodies are HTML and are turned into plain text here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError

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

_CUSTOMER_AUTHORS = {"user", "lead", "contact"}
# Parts that carry a message; assignments, state changes and the like carry none.
_MESSAGE_PARTS = {"comment", "note", "open", "close", "conversation_rating_remark_added"}
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


class IntercomOptions(ApiSourceOptions):
    """Options of an ``intercom`` source.

    Attributes:
        token: Where the access token is (``{env: INTERCOM_TOKEN}`` by default).
        api_version: ``Intercom-Version`` header.
        start_date: Where the first run starts (UTC).
        per_page: Conversations per search page (Intercom allows up to 150).
    """

    token: SecretRef = Field(default_factory=lambda: SecretRef(env="INTERCOM_TOKEN"))
    api_version: str = "2.11"
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    per_page: int = Field(default=150, ge=1, le=150)


class IntercomConnector(ApiConnector[IntercomOptions]):
    """Reads the conversations of one Intercom workspace.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing contact ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "updated_at"
    # Developer Hub > Authentication: the app's token can read only what its scopes allow.
    credential_role = "Intercom app access token with the Read conversations permission"

    def _client(self) -> HttpClient:
        token = self.options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://api.intercom.io").rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Intercom-Version": self.options.api_version,
            },  # fmt: skip
            credential_hint=self.credential_hint(
                f"the access token in {self.options.token.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def _query(self, since: datetime, starting_after: str | None, per_page: int) -> dict[str, Any]:
        pagination: dict[str, Any] = {"per_page": per_page}
        if starting_after:
            pagination["starting_after"] = starting_after
        return {
            "query": {"field": "updated_at", "operator": ">", "value": int(since.timestamp()) - 1},
            "sort": {"field": "updated_at", "order": "ascending"},
            "pagination": pagination,
        }

    def check(self) -> str:
        """Authenticates and runs the search for one conversation."""
        client = self._client()
        try:
            query = self._query(self.options.start_date, None, 1)
            body = client.post_json("/conversations/search", query).json()
        finally:
            client.close()
        if body.get("type") != "conversation.list":
            raise ConnectorError(f"source {self.name!r}: not an Intercom search answer")
        return f"intercom: authenticated, {body.get('total_count')} conversations found"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per search page, from the bookmark or ``start_date``."""
        since = parse_time(bookmark.value) if bookmark else self.options.start_date
        assert since is not None  # noqa: S101 - a saved bookmark is always a timestamp
        client = self._client()
        try:
            after: str | None = None
            page = 0
            while True:
                query = self._query(since, after, self.options.per_page)
                body = client.post_json("/conversations/search", query).json()
                page += 1
                rows = list(body.get("conversations") or [])
                batch = HttpBatch(pages=1, rows_read=len(rows))
                for index, row in enumerate(rows):
                    outcome = self._item(client, row, f"page {page} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                if rows and (last := parse_time(rows[-1].get("updated_at"))) is not None:
                    batch.bookmark = Bookmark("updated_at", last.isoformat())
                yield batch
                after = ((body.get("pages") or {}).get("next") or {}).get("starting_after")
                if not after or not rows:
                    return
        finally:
            client.close()

    def _item(
        self, client: HttpClient, row: dict[str, Any], ref: str
    ) -> FeedbackItem | QuarantinedRow:
        try:
            full = client.get_json(f"/conversations/{row['id']}").json()
            source = full.get("source") or {}
            created = parse_time(full.get("created_at"))
            thread = [_message(source.get("author"), source.get("body"), created, "comment")]
            for part in (full.get("conversation_parts") or {}).get("conversation_parts") or []:
                if part.get("part_type") in _MESSAGE_PARTS and part.get("body"):
                    thread.append(_message(part.get("author"), part.get("body"),
                                           parse_time(part.get("created_at")),
                                           str(part.get("part_type"))))  # fmt: skip
            rating = full.get("conversation_rating") or {}
            if rating.get("remark"):
                when = parse_time(rating.get("created_at")) or created
                remark = str(rating["remark"])
                thread.append(Message(author_role="customer", created_at=when, text=remark))
            messages = tuple(m for m in thread if m.text.strip())
            text = "\n\n".join(
                m.text for m in messages if m.author_role == "customer" and not m.internal
            )
            if not text.strip():
                return self._quarantine(row, ref, "no_customer_text", "no message by a contact")
            score = None
            if rating.get("rating") is not None:
                score = Score(type=ScoreType.CSAT, value=float(rating["rating"]))
            contacts = (full.get("contacts") or {}).get("contacts") or []
            contact = contacts[0].get("id") if contacts else None
            return FeedbackItem(
                source=self.name,
                external_id=str(row["id"]),
                channel=Channel.TICKET,
                created_at=created,
                updated_at=parse_time(full.get("updated_at")),
                text=text,
                title=full.get("title") or source.get("subject") or None,
                score=score,
                language=self.options.language,
                product=self.options.product,
                segment={k: str(full[k]) for k in ("state", "priority") if full.get(k)},
                customer_key=hash_customer(str(contact), self._salt) if contact else None,
                thread=messages,
            )
        except NotFoundError as error:
            # Deleted between the list and this read: the next run's list no longer has it.
            return self._quarantine(row, ref, "gone", str(error)[:1000])
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {k: row.get(k) for k in ("id", "created_at", "updated_at", "state")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _message(author: Any, body: Any, created: datetime | None, part_type: str) -> Message:
    """A thread message; contacts (users, leads) are the customer, notes are internal."""
    kind = (author or {}).get("type")
    return Message(
        author_role="customer" if kind in _CUSTOMER_AUTHORS else "agent",
        created_at=created,
        text=_plain(body),
        internal=part_type == "note",
    )


def _plain(body: Any) -> str:
    """Intercom's HTML message body as plain text."""
    text = _BREAKS.sub("\n", str(body or ""))
    return html.unescape(_TAGS.sub("", text)).strip()
