"""Delighted survey responses: the score and the comment of one response in one item.

Reads ``GET /v1/survey_responses.json`` with ``updated_since`` (Unix seconds, "on or after":
inclusive) and ``order=asc:updated_at``, and pages by keyset (``connectors.paging``): each
request asks again from the last ``updated_at`` seen and drops the ids already returned at it,
stepping the ``page`` number only while a whole page shares one second. The plain ``order=asc``
sorts by ``created_at``, which would break a cursor on ``updated_at``. Each page is one batch
whose bookmark is its latest ``updated_at``; responses read again at the bookmark are absorbed
by the store's upsert. A response whose comment or score changes comes back with a later
``updated_at`` and replaces the stored one. Deleted responses are not reported. Auth is HTTP
Basic with the API key as user name and an empty password; a Delighted API key belongs to one
project, so one source reads one project (optionally one ``trend``).

Mapping: ``comment`` is the text; ``score`` on the scale of ``survey_type`` (``SURVEY_SCALES``:
nps 0-10, enps 0-10 as NPS with ``derived_from``, csat 1-5, ces 1-7, 5-star as stars 1-5; other
types such as smileys, thumbs or pmf keep no score, since their scales are not ours). A response
with a score and no comment is quarantined as ``no_verbatim``, as Typeform and SurveyMonkey do;
if a comment is added later the response is re-read and stored. ``person`` (an id, never
expanded, so no email or name is requested) or ``customer_property`` gives the customer key
(hashed); only the ``person_properties`` named in ``segment_properties`` become segments, since
properties are free-form and often hold names or emails. ``permalink`` is the url. Team
``notes``, ``tags`` and ``additional_answers`` are not read.
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

PATH = "/v1/survey_responses.json"

# Delighted survey_type -> our scale, and what to state when the scale is borrowed.
SURVEY_SCALES: dict[str, tuple[ScoreType, str | None]] = {
    "nps": (ScoreType.NPS, None),
    "enps": (ScoreType.NPS, "Delighted eNPS (employee NPS, 0-10)"),
    "csat": (ScoreType.CSAT, None),
    "ces": (ScoreType.CES, None),
    "5-star": (ScoreType.STARS, None),
}


class DelightedOptions(ApiSourceOptions):
    """Options of a ``delighted`` source.

    Attributes:
        api_key: Where the project's API key is (``{env: DELIGHTED_API_KEY}`` by default).
        trend: Only responses of this trend (a Delighted trend id); None: the whole project.
        customer_property: Person property holding a customer id, hashed before it is stored
            (None: the Delighted person id, hashed).
        segment_properties: Person properties kept as segments (plan, country, ...); the others
            are never stored, as they may hold names or emails.
        start_date: Where the first run starts (UTC).
        per_page: Responses per request (Delighted allows up to 100).
    """

    api_key: SecretRef = Field(default_factory=lambda: SecretRef(env="DELIGHTED_API_KEY"))
    trend: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    customer_property: str | None = None
    segment_properties: list[str] = Field(default_factory=list)
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    per_page: int = Field(default=100, ge=1, le=100)


class DelightedConnector(ApiConnector[DelightedOptions]):
    """Reads the survey responses of one Delighted project.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing customer ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "updated_at"
    # Delighted has no user roles on the API: a key belongs to one project and reads it all.
    credential_role = "Delighted project API key (a key reads only its own project)"

    def _client(self) -> HttpClient:
        key = self.options.api_key.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://api.delighted.com").rstrip("/"),
            auth=(key, ""),  # Delighted: the API key as user name, an empty password
            credential_hint=self.credential_hint(
                f"the project's API key in {self.options.api_key.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one survey response."""
        client = self._client()
        try:
            body = client.get_json(PATH, {"per_page": 1}).json()
        finally:
            client.close()
        if not isinstance(body, list):
            raise ConnectorError(f"source {self.name!r}: not a Delighted survey responses answer")
        return f"Delighted project: authenticated, survey responses readable ({len(body)} read)"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per page of responses updated at or after the bookmark."""
        since = parse_time(bookmark.value) if bookmark else self.options.start_date
        assert since is not None  # noqa: S101 - a saved bookmark is always a timestamp
        client = self._client()

        def fetch(lower: datetime, page: int) -> list[dict[str, Any]]:
            params: dict[str, Any] = {
                "updated_since": int(lower.timestamp()),  # "on or after": inclusive
                "order": "asc:updated_at",
                "per_page": self.options.per_page,
                "page": page,
            }
            if self.options.trend:
                params["trend"] = self.options.trend
            body = client.get_json(PATH, params).json()
            if not isinstance(body, list):
                raise ConnectorError(f"source {self.name!r}: {PATH} did not answer a list")
            return list(body)

        def updated(row: dict[str, Any]) -> datetime:
            # The documented list example has "updated_at": null (never edited): fall back to
            # the creation time, the response's last change.
            return parse_time(row.get("updated_at")) or parse_time(row.get("created_at")) or since

        try:
            pages = keyset_pages(
                fetch,
                since,
                source=self.name,
                page_size=self.options.per_page,
                timestamp=updated,
                row_id=lambda r: str(r.get("id")),
            )
            for number, rows in enumerate(pages, start=1):
                batch = HttpBatch(pages=1, rows_read=len(rows))
                for index, row in enumerate(rows):
                    outcome = self._item(row, f"page {number} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                batch.bookmark = Bookmark("updated_at", max(map(updated, rows)).isoformat())
                yield batch
        finally:
            client.close()

    def _item(self, row: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        options = self.options
        try:
            comment = str(row.get("comment") or "").strip()
            if not comment:
                return self._quarantine(row, ref, "no_verbatim", "no comment")
            survey_type = str(row.get("survey_type") or "")
            score: Score | None = None
            scale = SURVEY_SCALES.get(survey_type)
            if scale is not None and row.get("score") is not None:
                score = Score(type=scale[0], value=float(row["score"]), derived_from=scale[1])
            properties = row.get("person_properties") or {}
            if options.customer_property:
                customer = properties.get(options.customer_property)
            else:
                person = row.get("person")
                customer = person.get("id") if isinstance(person, dict) else person
            segment = {
                p: str(properties[p]) for p in options.segment_properties if properties.get(p)
            }
            if survey_type:
                segment["survey_type"] = survey_type
            created = parse_time(row.get("created_at"))
            return FeedbackItem(
                source=self.name,
                external_id=str(row["id"]),
                channel=Channel.SURVEY,
                created_at=created,
                updated_at=parse_time(row.get("updated_at")) or created,
                text=comment,
                score=score,
                language=options.language,
                product=options.product,
                segment=segment,
                customer_key=hash_customer(str(customer), self._salt) if customer else None,
                url=row.get("permalink") or None,
            )
        except (ValidationError, ValueError, KeyError, TypeError, AttributeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        # The person and their properties (ids, names, emails) are left out altogether.
        keep = {k: row.get(k) for k in ("id", "survey_type", "score", "comment", "created_at",
                                        "updated_at")}  # fmt: skip
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip
