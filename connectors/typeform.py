"""Typeform survey responses: the score and the verbatim of one response in one item.

Reads ``/forms/{form_id}/responses`` sorted by ``submitted_at`` ascending with an inclusive
``since`` (Typeform's timestamps are to the second), paging by keyset (``connectors.paging``).
The bookmark is the last ``submitted_at`` persisted; responses read again at that second are
absorbed by the store's upsert. Typeform responses are not edited after submission and the
list does not report deletions.

Mapping: ``score_field`` (ref or id of an NPS / opinion-scale / rating question) gives the score;
the text answers of ``text_fields`` (default: every text answer) joined make the text;
``customer_field`` names a hidden field with a customer id (hashed), ``segment_fields`` hidden
fields kept as segments. A response with a score but no text is quarantined as
``no_verbatim`` (the item shape needs text).
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
from connectors.paging import keyset_pages
from connectors.schema import (
    Channel,
    FeedbackItem,
    QuarantinedRow,
    Score,
    ScoreType,
    hash_customer,
    raw_json,
)


class TypeformOptions(ApiSourceOptions):
    """Options of a ``typeform`` source.

    Attributes:
        form_id: The form (``u6nXL7`` in https://x.typeform.com/to/u6nXL7).
        token: Where the personal access token is (``{env: TYPEFORM_TOKEN}`` by default).
        score_field: Ref or id of the scored question (None: no score).
        score_type: Scale of that question.
        text_fields: Refs or ids of the open-ended questions (None: every text answer).
        customer_field: Hidden field with a customer id, hashed before it is stored.
        segment_fields: Hidden fields kept as segments (plan, country, ...).
        start_date: Where the first run starts (UTC).
        page_size: Responses per request (Typeform allows up to 1000).
    """

    form_id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    token: SecretRef = Field(default_factory=lambda: SecretRef(env="TYPEFORM_TOKEN"))
    score_field: str | None = None
    score_type: ScoreType = ScoreType.NPS
    text_fields: list[str] | None = None
    customer_field: str | None = None
    segment_fields: list[str] = Field(default_factory=list)
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    page_size: int = Field(default=1000, ge=1, le=1000)


class TypeformConnector(ApiConnector[TypeformOptions]):
    """Reads the responses of one Typeform form.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing customer ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "response_id"
    cursor_field: str | None = "submitted_at"
    credential_role = "Typeform personal access token with the responses:read scope"

    @property
    def _path(self) -> str:
        return f"/forms/{self.options.form_id}/responses"

    def _client(self) -> HttpClient:
        token = self.options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://api.typeform.com").rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            credential_hint=self.credential_hint(
                f"the personal access token in {self.options.token.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one response of the form."""
        client = self._client()
        try:
            body = client.get_json(self._path, {"page_size": 1}).json()
        finally:
            client.close()
        if "items" not in body:
            raise ConnectorError(f"source {self.name!r}: not a Typeform responses API answer")
        return f"form {self.options.form_id}: authenticated, {body.get('total_items')} responses"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per page of responses submitted at or after the bookmark."""
        since = parse_time(bookmark.value) if bookmark else self.options.start_date
        assert since is not None  # noqa: S101 - a saved bookmark is always a timestamp
        client = self._client()

        def fetch(lower: datetime, page: int) -> list[dict[str, Any]]:
            params = {
                "page_size": self.options.page_size,
                "since": lower.strftime("%Y-%m-%dT%H:%M:%S"),
                "sort": "submitted_at,asc",
            }
            return list(client.get_json(self._path, params).json().get("items") or [])

        try:
            pages = keyset_pages(
                fetch,
                since,
                source=self.name,
                page_size=self.options.page_size,
                timestamp=lambda r: parse_time(r.get("submitted_at")) or since,
                row_id=lambda r: str(r.get("response_id") or r.get("token")),
                can_step_pages=False,
            )
            for number, rows in enumerate(pages, start=1):
                batch = HttpBatch(pages=1, rows_read=len(rows))
                for index, row in enumerate(rows):
                    outcome = self._item(row, f"page {number} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                last = parse_time(rows[-1].get("submitted_at"))
                if last is not None:
                    batch.bookmark = Bookmark("submitted_at", last.isoformat())
                yield batch
        finally:
            client.close()

    def _item(self, row: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        options = self.options
        try:
            texts: list[str] = []
            score: Score | None = None
            for answer in row.get("answers") or []:
                field = answer.get("field") or {}
                names = {field.get("ref"), field.get("id")}
                if options.score_field and options.score_field in names:
                    value = answer.get("number")
                    if value is not None:
                        score = Score(type=options.score_type, value=float(value))
                elif answer.get("type") == "text" and (
                    options.text_fields is None or names & set(options.text_fields)
                ):
                    if str(answer.get("text") or "").strip():
                        texts.append(str(answer["text"]))
            hidden = row.get("hidden") or {}
            if not texts:
                return self._quarantine(row, ref, "no_verbatim", "no text answer")
            customer = hidden.get(options.customer_field) if options.customer_field else None
            metadata = row.get("metadata") or {}
            segment = {f: str(hidden[f]) for f in options.segment_fields if hidden.get(f)}
            if metadata.get("platform"):
                segment["platform"] = str(metadata["platform"])
            return FeedbackItem(
                source=self.name,
                external_id=str(row.get("response_id") or row["token"]),
                channel=Channel.SURVEY,
                created_at=parse_time(row.get("submitted_at")),
                text="\n\n".join(texts),
                score=score,
                language=options.language,
                product=options.product,
                segment=segment,
                customer_key=hash_customer(str(customer), self._salt) if customer else None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        # Answers may hold PII; the store redacts raw rows, but the hidden fields (customer ids)
        # are left out altogether.
        keep = {k: row.get(k) for k in ("response_id", "submitted_at", "answers")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('response_id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip
