"""Qualtrics survey responses: asynchronous exports with continuation tokens.

One read is one export job: ``POST /API/v3/surveys/{id}/export-responses`` (JSON, with
``allowContinuation`` on the first run and the saved ``continuationToken`` afterwards), poll
``.../export-responses/{progressId}`` until ``complete``, download ``.../{fileId}/file`` (a zip
holding one JSON file). The export's new ``continuationToken`` is the bookmark, and it rides on
the last batch only: the earlier batches of the same export carry none, so a failure part-way
re-exports from the previous token and the store's upsert absorbs what was already stored.

Mapping: ``score_field`` (e.g. ``QID1``) gives the score, the ``text_fields`` (e.g.
``QID2_TEXT``) joined give the text, ``customer_field`` and ``segment_fields`` name embedded
data (or other ``values`` keys). A response with no text is quarantined as ``no_verbatim``.
Whether continuation exports include edited responses is not documented; deletions are not
reported.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient, parse_time
from connectors.schema import (
    Channel,
    FeedbackItem,
    QuarantinedRow,
    Score,
    ScoreType,
    hash_customer,
    raw_json,
)


class QualtricsOptions(ApiSourceOptions):
    """Options of a ``qualtrics`` source.

    Attributes:
        datacenter: Data-centre id (``iad1`` for iad1.qualtrics.com); or set ``base_url``.
        survey_id: The survey (``SV_...``).
        token: Where the API token is (``{env: QUALTRICS_API_TOKEN}`` by default).
        score_field: ``values`` key of the scored question (e.g. ``QID1``).
        score_type: Scale of that question.
        text_fields: ``values`` keys of the open-ended answers (e.g. ``QID2_TEXT``).
        customer_field: ``values`` key with a customer id (embedded data), hashed.
        segment_fields: ``values`` keys kept as segments.
        start_date: Where the first export starts (None: every response).
        poll_interval: Seconds between export progress checks.
        max_polls: Progress checks before the export is given up.
        batch_size: Responses per persisted batch.
    """

    datacenter: str | None = Field(default=None, pattern=r"^[a-z0-9]+$")
    survey_id: str = Field(pattern=r"^SV_[A-Za-z0-9]+$")
    token: SecretRef = Field(default_factory=lambda: SecretRef(env="QUALTRICS_API_TOKEN"))
    score_field: str | None = None
    score_type: ScoreType = ScoreType.NPS
    text_fields: list[str] = Field(min_length=1)
    customer_field: str | None = None
    segment_fields: list[str] = Field(default_factory=list)
    start_date: datetime | None = None
    poll_interval: float = Field(default=2.0, ge=0)
    max_polls: int = Field(default=300, ge=1)
    batch_size: int = Field(default=500, ge=1)


class QualtricsConnector(ApiConnector[QualtricsOptions]):
    """Reads the responses of one Qualtrics survey.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing customer ids.
        sleep: Sleep between retries and export polls (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "responseId"
    cursor_field: str | None = "continuationToken"
    # A token acts as its user: the account needs API access, and the survey must be the
    # user's own or shared with permission to view its results.
    credential_role = (
        "Qualtrics user with the Access API permission who may view the survey's results"
    )

    @property
    def _exports(self) -> str:
        return f"/API/v3/surveys/{self.options.survey_id}/export-responses"

    def _client(self) -> HttpClient:
        options = self.options
        if not options.datacenter and not options.base_url:
            raise ConnectorError(f"source {self.name!r}: set datacenter (e.g. iad1) or base_url")
        token = options.token.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (options.base_url or f"https://{options.datacenter}.qualtrics.com").rstrip("/"),
            headers={"X-API-TOKEN": token},
            credential_hint=self.credential_hint(f"the API token in {options.token.describe()}"),
            policy=options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads the survey's definition (no export is started)."""
        client = self._client()
        try:
            body = client.get_json(f"/API/v3/surveys/{self.options.survey_id}").json()
        finally:
            client.close()
        name = (body.get("result") or {}).get("name")
        return f"survey {self.options.survey_id} ({name}): authenticated, readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Runs one export from the bookmark's continuation token and yields its responses."""
        client = self._client()
        try:
            responses, token = self._export(client, bookmark.value if bookmark else None)
        finally:
            client.close()
        size = self.options.batch_size
        starts = range(0, len(responses), size) if responses else range(1)
        for start in starts:
            chunk = responses[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=1 if start == 0 else 0)
            for index, row in enumerate(chunk):
                outcome = self._item(row, f"export #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            if start == starts[-1] and token:  # valid only once the whole export is stored
                batch.bookmark = Bookmark("continuationToken", token)
            yield batch

    def _export(
        self, client: HttpClient, continuation: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Runs an export job to the end; returns its responses and its continuation token."""
        request: dict[str, Any] = {"format": "json"}
        if continuation:
            request["continuationToken"] = continuation
        else:
            request["allowContinuation"] = True
            if self.options.start_date:
                request["startDate"] = self.options.start_date.strftime("%Y-%m-%dT%H:%M:%SZ")
        started = client.post_json(self._exports, request).json()
        progress_id = (started.get("result") or {}).get("progressId")
        for _ in range(self.options.max_polls):
            result = client.get_json(f"{self._exports}/{progress_id}").json().get("result") or {}
            status = result.get("status")
            if status == "complete":
                data = client.get_file(f"{self._exports}/{result['fileId']}/file")
                return _responses(data), result.get("continuationToken")
            if status == "failed":
                raise ConnectorError(f"source {self.name!r}: the Qualtrics export failed")
            self._sleep(self.options.poll_interval)
        raise ConnectorError(
            f"source {self.name!r}: the export did not finish after {self.options.max_polls} "
            "checks; raise max_polls or poll_interval"
        )

    def _item(self, row: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        options = self.options
        values = row.get("values") or {}
        try:
            texts = [str(values[f]).strip() for f in options.text_fields if values.get(f)]
            texts = [t for t in texts if t]
            if not texts:
                return self._quarantine(row, ref, "no_verbatim", "no text answer")
            score = None
            if options.score_field and values.get(options.score_field) not in (None, ""):
                score = Score(type=options.score_type, value=float(values[options.score_field]))
            customer = values.get(options.customer_field) if options.customer_field else None
            return FeedbackItem(
                source=self.name,
                external_id=str(row["responseId"]),
                channel=Channel.SURVEY,
                created_at=parse_time(values.get("recordedDate") or values.get("endDate")),
                text="\n\n".join(texts),
                score=score,
                language=str(values.get("userLanguage") or "").lower()[:2] or options.language,
                product=options.product,
                segment={f: str(values[f]) for f in options.segment_fields if values.get(f)},
                customer_key=hash_customer(str(customer), self._salt) if customer else None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        values = row.get("values") or {}
        keep = {"responseId": row.get("responseId"),
                "recordedDate": values.get("recordedDate"),
                "answers": {f: values.get(f) for f in self.options.text_fields}}  # fmt: skip
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('responseId')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _responses(data: bytes) -> list[dict[str, Any]]:
    """The responses in an export download (a zip holding one JSON file), oldest first."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".json")]
        if not names:
            raise ConnectorError("the Qualtrics export holds no JSON file")
        payload = json.loads(archive.read(names[0]).decode("utf-8-sig"))
    rows = list(payload.get("responses") or [])
    return sorted(rows, key=lambda r: str((r.get("values") or {}).get("recordedDate") or ""))
