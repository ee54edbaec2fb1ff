"""SurveyMonkey survey responses: bulk responses by ``date_modified``, keyset-paged.

Reads ``/v3/surveys/{id}/details`` once (to turn choice ids into score values), then
``/v3/surveys/{id}/responses/bulk`` with ``sort_by=date_modified&sort_order=ASC`` and
``start_modified_at``. SurveyMonkey documents that bound as "modified after", so the connector
asks from one second before the bookmark and pages by keyset (``connectors.paging``). Responses
read again at the bookmark are absorbed by the store's upsert. Each page is one batch whose
bookmark is its last ``date_modified``; an edited response comes back with a later
``date_modified`` and replaces the stored one. Deleted responses are not reported.

Mapping: ``score_question`` (a question id) gives the score, from the chosen choice's text
("0".."10" for NPS); the answers to ``text_questions`` (default: every open-ended question)
joined give the text; ``customer_variable`` and ``segment_variables`` name custom variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


class SurveyMonkeyOptions(ApiSourceOptions):
    """Options of a ``surveymonkey`` source.

    Attributes:
        survey_id: The survey.
        token: Where the access token is (``{env: SURVEYMONKEY_TOKEN}`` by default).
        score_question: Id of the scored question (None: no score).
        score_type: Scale of that question.
        text_questions: Ids of the open-ended questions (None: every open-ended question).
        customer_variable: Custom variable with a customer id, hashed before it is stored.
        segment_variables: Custom variables kept as segments.
        start_date: Where the first run starts (UTC).
        per_page: Responses per request (SurveyMonkey allows up to 100).
    """

    survey_id: str = Field(pattern=r"^\d+$")
    token: SecretRef = Field(default_factory=lambda: SecretRef(env="SURVEYMONKEY_TOKEN"))
    score_question: str | None = None
    score_type: ScoreType = ScoreType.NPS
    text_questions: list[str] | None = None
    customer_variable: str | None = None
    segment_variables: list[str] = Field(default_factory=list)
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    per_page: int = Field(default=100, ge=1, le=100)


class SurveyMonkeyConnector(ApiConnector[SurveyMonkeyOptions]):
    """Reads the completed responses of one SurveyMonkey survey.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing customer ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "date_modified"
    # /details needs surveys_read; /responses/bulk returns answers only with
    # responses_read_detail (a private app also needs a paid plan with API access).
    credential_role = (
        "SurveyMonkey app token with the surveys_read, responses_read and "
        "responses_read_detail scopes"
    )

    @property
    def _survey(self) -> str:
        return f"/v3/surveys/{self.options.survey_id}"

    def _client(self) -> HttpClient:
        token = self.options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://api.surveymonkey.com").rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            credential_hint=self.credential_hint(
                f"the access token in {self.options.token.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads the survey's details."""
        client = self._client()
        try:
            body = client.get_json(f"{self._survey}/details").json()
        finally:
            client.close()
        return f"survey {self.options.survey_id} ({body.get('title')}): authenticated, readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per page of responses modified at or after the bookmark."""
        since = parse_time(bookmark.value) if bookmark else self.options.start_date
        assert since is not None  # noqa: S101 - a saved bookmark is always a timestamp
        client = self._client()
        try:
            choices, open_ended = _questions(client.get_json(f"{self._survey}/details").json())

            def fetch(lower: datetime, page: int) -> list[dict[str, Any]]:
                # "Modified after": one second earlier makes the bound inclusive.
                start = (lower - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
                params = {"start_modified_at": start, "sort_by": "date_modified",
                          "sort_order": "ASC", "status": "completed",
                          "per_page": self.options.per_page, "page": page}  # fmt: skip
                body = client.get_json(f"{self._survey}/responses/bulk", params).json()
                return list(body.get("data") or [])

            pages = keyset_pages(
                fetch,
                since,
                source=self.name,
                page_size=self.options.per_page,
                timestamp=lambda r: parse_time(r.get("date_modified")) or since,
                row_id=lambda r: str(r.get("id")),
            )
            wanted = set(self.options.text_questions or open_ended)
            for number, rows in enumerate(pages, start=1):
                batch = HttpBatch(pages=1, rows_read=len(rows))
                for index, row in enumerate(rows):
                    outcome = self._item(row, choices, wanted, f"page {number} #{index}")
                    if isinstance(outcome, FeedbackItem):
                        batch.items.append(outcome)
                    else:
                        batch.quarantined.append(outcome)
                last = max(parse_time(r.get("date_modified")) or since for r in rows)
                batch.bookmark = Bookmark("date_modified", last.isoformat())
                yield batch
        finally:
            client.close()

    def _item(
        self, row: dict[str, Any], choices: dict[str, str], wanted: set[str], ref: str
    ) -> FeedbackItem | QuarantinedRow:
        options = self.options
        try:
            texts: list[str] = []
            score: Score | None = None
            for page in row.get("pages") or []:
                for question in page.get("questions") or []:
                    qid = str(question.get("id"))
                    for answer in question.get("answers") or []:
                        if qid == options.score_question and answer.get("choice_id"):
                            text = choices[str(answer["choice_id"])]
                            score = Score(type=options.score_type, value=float(text))
                        elif qid in wanted and str(answer.get("text") or "").strip():
                            texts.append(str(answer["text"]).strip())
            if not texts:
                return self._quarantine(row, ref, "no_verbatim", "no open-ended answer")
            variables = row.get("custom_variables") or {}
            customer = (
                variables.get(options.customer_variable) if options.customer_variable else None
            )
            return FeedbackItem(
                source=self.name,
                external_id=str(row["id"]),
                channel=Channel.SURVEY,
                created_at=parse_time(row.get("date_created")),
                updated_at=parse_time(row.get("date_modified")),
                text="\n\n".join(texts),
                score=score,
                language=options.language,
                product=options.product,
                segment={
                    v: str(variables[v]) for v in options.segment_variables if variables.get(v)
                },  # fmt: skip
                customer_key=hash_customer(str(customer), self._salt) if customer else None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {k: row.get(k) for k in ("id", "date_created", "date_modified", "pages")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _questions(details: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Choice id to choice text, and the open-ended question ids, from survey details."""
    choices: dict[str, str] = {}
    open_ended: list[str] = []
    for page in details.get("pages") or []:
        for question in page.get("questions") or []:
            if question.get("family") == "open_ended":
                open_ended.append(str(question.get("id")))
            for choice in (question.get("answers") or {}).get("choices") or []:
                choices[str(choice.get("id"))] = str(choice.get("text"))
    if not details.get("pages"):
        raise ConnectorError("survey details have no pages: check survey_id")
    return choices, open_ended
