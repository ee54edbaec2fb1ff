"""Mastodon posts under brand hashtags on one instance (tag timelines, ``min_id`` paging).

``GET /api/v1/timelines/tag/{tag}?min_id=X`` returns the statuses immediately newer than ``X``
(at most 40), so each tag is read forward, oldest first, page by page. The bookmark is a JSON
map of tag to the highest status id persisted; each batch carries the whole map, so a failure
in one tag never advances another. Reblogs are skipped (the original is the feedback).

A tag without a cursor (a first run, or a tag added later) starts at ``start_date`` (default:
``lookback_days`` = 30 days before the run), not at the tag's first status: Mastodon ids are
snowflakes (since 2.0, the creation time in milliseconds shifted left 16 bits), so the date
becomes ``min_id``. Statuses older than the start date that still come back (a server whose
ids are not snowflakes) are left out. The rate-limit window (300 requests per 5 minutes by
default, ``X-RateLimit-Reset`` an ISO timestamp) is waited out by ``HttpClient``.

Limits, as the API has them: edits to statuses older than the bookmark are not seen, and
deletions are not reported (only the streaming API announces them). Remote statuses get ids from
their creation time, so one that reaches the instance late, with an id below the bookmark, is
missed.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import Field, ValidationError, field_validator

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient, parse_time
from connectors.schema import Channel, FeedbackItem, QuarantinedRow, hash_customer, raw_json

_BREAKS = re.compile(r"<\s*(br|/p)\s*/?\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


class MastodonOptions(ApiSourceOptions):
    """Options of a ``mastodon`` source.

    Attributes:
        instance: The instance's base URL, e.g. ``https://mastodon.social``.
        hashtags: Tags to follow, without ``#``.
        token: Where an access token is, if the instance requires one for tag timelines.
        limit: Statuses per request (Mastodon allows up to 40).
        start_date: Where a tag without a cursor starts (a date is midnight UTC; a time
            without a zone is UTC). None: ``lookback_days`` before the run.
        lookback_days: Days back a tag without a cursor starts when ``start_date`` is None.
    """

    instance: str = Field(pattern=r"^https?://")
    hashtags: list[str] = Field(min_length=1)
    token: SecretRef | None = None
    limit: int = Field(default=40, ge=1, le=40)
    start_date: datetime | None = None
    lookback_days: int = Field(default=30, ge=1)

    @field_validator("start_date", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time(), UTC)
        if isinstance(value, str) and len(value) == 10:  # "2026-01-01", as YAML may quote it
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        return value

    @field_validator("start_date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


class MastodonConnector(ApiConnector[MastodonOptions]):
    """Reads statuses under hashtags on one Mastodon instance.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing account handles.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "id"
    credential_role = (
        "an access token of an app on that instance with the read:statuses scope, only where "
        "the instance requires login for tag timelines (public by default)"
    )

    def _client(self) -> HttpClient:
        options = self.options
        headers: dict[str, str] = {}
        hint = "the instance's access rules (tag timelines may need a token)"
        if options.token is not None:
            headers["Authorization"] = f"Bearer {options.token.resolve(self.name)}"
            hint = f"the access token in {options.token.describe()}"
        self.client = HttpClient(
            self.name,
            (options.base_url or options.instance).rstrip("/"),
            headers=headers,
            credential_hint=self.credential_hint(hint),
            policy=options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def check(self) -> str:
        """Reads one status of the first hashtag."""
        client = self._client()
        try:
            tag = self.options.hashtags[0]
            body = client.get_json(f"/api/v1/timelines/tag/{tag}", {"limit": 1}).json()
        finally:
            client.close()
        if not isinstance(body, list):
            raise ConnectorError(f"source {self.name!r}: not a Mastodon timeline")
        auth = "authenticated, " if self.options.token is not None else ""
        return f"{self.options.instance} #{self.options.hashtags[0]}: {auth}timeline readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields one batch per page, tag by tag, oldest first."""
        cursors: dict[str, str] = json.loads(bookmark.value) if bookmark else {}
        start = self._start()
        client = self._client()
        try:
            for tag in self.options.hashtags:
                page = 0
                # Only a tag read from the start date is cut at it: a cursor older than that
                # (runs missed for longer than the lookback) must not lose what lies between.
                floor = None if tag in cursors else start
                while True:
                    params: dict[str, Any] = {"limit": self.options.limit}
                    params["min_id"] = cursors.get(tag, str(_snowflake(start)))
                    found = client.get_json(f"/api/v1/timelines/tag/{tag}", params).json()
                    page += 1
                    if not found:
                        break
                    found = sorted(found, key=lambda s: int(s["id"]))
                    batch = HttpBatch(pages=1, rows_read=len(found))
                    for index, status in enumerate(found):
                        if status.get("reblog") or (floor and self._too_old(status, floor)):
                            continue
                        outcome = self._item(status, tag, f"#{tag} page {page} #{index}")
                        if isinstance(outcome, FeedbackItem):
                            batch.items.append(outcome)
                        else:
                            batch.quarantined.append(outcome)
                    cursors = {**cursors, tag: str(found[-1]["id"])}
                    batch.bookmark = Bookmark("id", json.dumps(cursors, sort_keys=True))
                    yield batch
                    if len(found) < self.options.limit:
                        break
        finally:
            client.close()

    def _start(self) -> datetime:
        """Where a tag without a cursor starts."""
        configured = self.options.start_date
        return configured or datetime.now(UTC) - timedelta(days=self.options.lookback_days)

    def _too_old(self, status: dict[str, Any], floor: datetime | None = None) -> bool:
        """True for a status created before ``floor`` (default: the start date); undated: no."""
        try:
            created = parse_time(status.get("created_at"))
        except ValueError:
            return False
        return created is not None and created < (floor or self._start())

    def _item(self, status: dict[str, Any], tag: str, ref: str) -> FeedbackItem | QuarantinedRow:
        try:
            account = status.get("account") or {}
            handle = account.get("acct")
            text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", str(status.get("content") or ""))))
            return FeedbackItem(
                source=self.name,
                external_id=str(status["id"]),
                channel=Channel.SOCIAL,
                created_at=parse_time(status.get("created_at")),
                updated_at=parse_time(status.get("edited_at")),
                text=text.strip(),
                title=status.get("spoiler_text") or None,
                language=status.get("language") or self.options.language,
                product=self.options.product,
                segment={"hashtag": tag, "bot": str(bool(account.get("bot"))).lower()},
                customer_key=hash_customer(str(handle), self._salt) if handle else None,
                url=status.get("url") or None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(status, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, status: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {k: status.get(k) for k in ("id", "created_at", "content", "language")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={status.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _snowflake(when: datetime) -> int:
    """The lowest Mastodon status id of ``when``: milliseconds since 1970 shifted 16 bits."""
    return int(when.timestamp() * 1000) << 16
