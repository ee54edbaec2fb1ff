"""Google Play reviews via the Android Publisher API (``reviews.list``), service-account auth.

The API returns only reviews created or edited in the last week, newest first, with token
pagination; there is no "since" parameter. So a read fetches pages until one reaches the
bookmark (older pages are known), then yields the reviews at or after the bookmark oldest first,
in batches, each with the ``lastModified`` it covers. Nothing is yielded before the listing is
complete: a failure mid-listing persists nothing and the next run starts from the same bookmark.
Reviews older than a week are out of the API's reach: run at least weekly (history: the monthly
review CSVs in the ``pubsite_prod_rev_*`` bucket, see docs/connectors.md). A first run, and a
run whose bookmark is older than that week (a missed run), may have missed reviews for good:
the first batch says so in ``Batch.gaps`` (and the log), so that ``run.json`` records it.

An edited review comes back with a later ``lastModified`` and replaces the stored one; the API
does not report deleted reviews. The developer's reply is kept in the thread, out of the text.
Auth: a service-account key (JSON text, or a path to the key file) from an env var or a secret
block, exchanged for an access token by google-auth.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from google.auth import exceptions as google_errors
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account
from pydantic import Field, ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import HttpBatch, HttpClient, credential_hint
from connectors.schema import (
    Channel,
    FeedbackItem,
    Message,
    QuarantinedRow,
    Score,
    ScoreType,
    raw_json,
)

_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
# reviews.list: "Only reviews from last week will be returned".
_WINDOW = timedelta(days=7)
logger = logging.getLogger(__name__)


class GooglePlayOptions(ApiSourceOptions):
    """Options of a ``google_play`` source.

    Attributes:
        package_name: The app (``com.example.app``).
        credentials: Where the service-account key is (JSON text or a key-file path).
        token_uri: Overrides the key's token endpoint (private endpoints, contract tests).
        max_results: Reviews per API page.
        batch_size: Reviews per persisted batch.
        translation_language: Ask Google to translate reviews into this language (None: as
            written, which the analysis prefers).
    """

    package_name: str = Field(pattern=r"^[A-Za-z0-9_.]+$")
    credentials: SecretRef = Field(default_factory=lambda: SecretRef(env="GOOGLE_PLAY_CREDENTIALS"))
    token_uri: str | None = None
    max_results: int = Field(default=100, ge=1, le=100)
    batch_size: int = Field(default=500, ge=1)
    translation_language: str | None = None


class _ServiceAccountAuth(httpx.Auth):
    """Bearer auth with a service-account access token, refreshed when it expires."""

    def __init__(
        self, source: str, credentials: service_account.Credentials, token_uri: str, hint: str
    ) -> None:
        self._source = source
        self._credentials = credentials
        self._token_uri = token_uri
        self._hint = hint

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._credentials.valid:
            try:
                self._credentials.refresh(GoogleRequest())
            except google_errors.TransportError as error:
                raise ConnectorError(
                    f"source {self._source!r}: cannot reach the token endpoint "
                    f"{self._token_uri} ({error}); check token_uri and the network"
                ) from error
            except google_errors.RefreshError as error:
                raise ConnectorError(
                    f"source {self._source!r}: the token endpoint refused the service-account "
                    f"key ({error}); check {self._hint}"
                ) from error
        request.headers["Authorization"] = f"Bearer {self._credentials.token}"
        yield request


class GooglePlayConnector:
    """Reads the reviews of one Google Play app.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Unused: the API gives reviewer display names only, not ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "reviewId"
    cursor_field: str | None = "lastModified"
    credential_role = (
        "a Google Cloud service account with the Google Play Android Developer API enabled, "
        "invited in Play Console (Users and permissions) with access to this app and the "
        '"Reply to reviews" permission, as Google\'s Reply to Reviews guide asks'
    )

    def __init__(
        self,
        name: str,
        options: GooglePlayOptions,
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
        return f"/androidpublisher/v3/applications/{self.options.package_name}/reviews"

    def _client(self) -> HttpClient:
        hint = f"the service-account key in {self.options.credentials.describe()}"
        secret = self.options.credentials.resolve(self.name).strip()
        try:
            text = secret if secret.startswith("{") else Path(secret).read_text("utf-8")
            info = json.loads(text)
            if self.options.token_uri:
                info["token_uri"] = self.options.token_uri
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=[_SCOPE]
            )
        except (OSError, ValueError, KeyError) as error:
            raise ConnectorError(
                f"source {self.name!r}: cannot read {hint} ({type(error).__name__}); it must "
                "be the key's JSON text or the path of the key file"
            ) from error
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://androidpublisher.googleapis.com").rstrip("/"),
            auth=_ServiceAccountAuth(self.name, credentials, str(info.get("token_uri")), hint),
            credential_hint=credential_hint(hint, self.credential_role),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Authenticates and reads one page of reviews."""
        client = self._client()
        try:
            body = client.get_json(self._path, {"maxResults": 1}).json()
        finally:
            client.close()
        found = len(body.get("reviews") or [])
        return f"{self.options.package_name}: authenticated, reviews readable ({found} on page 1)"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields the reviews modified at or after the bookmark, oldest first."""
        since = datetime.fromisoformat(bookmark.value) if bookmark else None
        client = self._client()
        try:
            rows, pages = self._list(client, since)
        finally:
            client.close()
        dated = sorted(
            ((_modified(r), r) for r in rows if _modified(r) is not None),
            key=lambda pair: (pair[0], str(pair[1].get("reviewId"))),
        )
        if since is not None:
            dated = [(m, r) for m, r in dated if m is not None and m >= since]
        gap = self._gap(since)
        if gap:
            logger.warning(gap)
        size = self.options.batch_size
        for start in range(0, max(len(dated), 1 if gap else 0), size):
            chunk = dated[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=pages if start == 0 else 0)
            batch.gaps, gap = ([gap] if gap else []), None
            if not chunk:  # nothing new, but the gap must still reach the run's record
                yield batch
                return
            for index, (_, row) in enumerate(chunk):
                outcome = self._item(row, f"review #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = chunk[-1][0]
            assert last is not None  # noqa: S101 - undated rows were filtered out above
            batch.bookmark = Bookmark("lastModified", last.isoformat())
            yield batch

    def _gap(self, since: datetime | None) -> str | None:
        """A ``Batch.gaps`` line when reviews older than the API's week may be lost."""
        oldest = datetime.now(UTC) - _WINDOW
        if since is None:
            return (
                f"source {self.name!r}: first run; reviews.list returns only the last 7 days, "
                f"so reviews last changed before {oldest:%Y-%m-%d %H:%M} UTC are not read (the "
                "monthly review CSVs in Play Console hold the history)"
            )
        if since < oldest:
            return (
                f"source {self.name!r}: the bookmark ({since.isoformat()}) is older than the 7 "
                "days reviews.list returns (a missed run); reviews changed between it and "
                f"{oldest:%Y-%m-%d %H:%M} UTC may be lost (run at least weekly; the monthly "
                "review CSVs in Play Console hold them)"
            )
        return None

    def _list(self, client: HttpClient, since: datetime | None) -> tuple[list[dict[str, Any]], int]:
        """Every review on the pages down to the bookmark (newest first), and the page count."""
        rows: list[dict[str, Any]] = []
        params: dict[str, Any] = {"maxResults": self.options.max_results}
        if self.options.translation_language:
            params["translationLanguage"] = self.options.translation_language
        pages = 0
        while True:
            body = client.get_json(self._path, params).json()
            pages += 1
            page = list(body.get("reviews") or [])
            rows.extend(page)
            token = (body.get("tokenPagination") or {}).get("nextPageToken")
            reached = since is not None and any(
                (_modified(r) or since) < since for r in page
            )  # newest first: a page reaching past the bookmark ends what is new
            if not token or reached:
                return rows, pages
            params = {**params, "token": token}

    def _item(self, row: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        try:
            comments = row.get("comments") or []
            user = next(c["userComment"] for c in comments if "userComment" in c)
            replies = [c["developerComment"] for c in comments if "developerComment" in c]
            modified = _modified(row)
            title, text = None, str(user.get("text") or "")
            if "\t" in text:  # Play sends "title<TAB>body" for reviews with a title
                title, text = (part.strip() for part in text.split("\t", 1))
            thread = [Message(author_role="customer", created_at=modified, text=text)]
            thread += [
                Message(author_role="agent", created_at=_seconds(r.get("lastModified")),
                        text=str(r.get("text") or ""))
                for r in replies if r.get("text")
            ]  # fmt: skip
            language = str(user.get("reviewerLanguage") or "").split("_")[0].lower() or None
            segment = {
                "device": user.get("device"),
                "android_os": user.get("androidOsVersion"),
                "app_version": user.get("appVersionName"),
            }
            return FeedbackItem(
                source=self.name,
                external_id=str(row["reviewId"]),
                channel=Channel.REVIEW,
                # The API gives only the last modification; a first read is the creation.
                created_at=modified,
                updated_at=modified,
                text=text,
                title=title or None,
                score=Score(type=ScoreType.STARS, value=float(user["starRating"])),
                language=language or self.options.language,
                product=self.options.product or self.options.package_name,
                segment={k: str(v) for k, v in segment.items() if v not in (None, "")},
                thread=tuple(thread),
            )
        except (ValidationError, ValueError, KeyError, TypeError, StopIteration) as error:
            return self._quarantine(row, ref, "invalid_row", str(error)[:1000] or "no review")

    def _quarantine(
        self, row: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        # authorName is a person's display name: left out of the raw row.
        keep = {k: v for k, v in row.items() if k != "authorName"}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={row.get('reviewId')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _seconds(value: Any) -> datetime | None:
    """A protobuf ``Timestamp`` JSON object (``{"seconds": "1452166656", "nanos": 0}``)."""
    if not isinstance(value, dict) or value.get("seconds") in (None, ""):
        return None
    return datetime.fromtimestamp(int(value["seconds"]) + int(value.get("nanos") or 0) / 1e9, UTC)


def _modified(row: dict[str, Any]) -> datetime | None:
    """When the reviewer last changed the review."""
    for comment in row.get("comments") or []:
        if "userComment" in comment:
            return _seconds(comment["userComment"].get("lastModified"))
    return None
