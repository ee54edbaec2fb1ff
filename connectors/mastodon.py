"""Mastodon posts under brand hashtags on one instance (tag timelines, ``min_id`` paging).

``GET /api/v1/timelines/tag/{tag}?min_id=X`` returns the statuses immediately newer than ``X``
(at most 40), so each tag is read forward, oldest first, page by page. The bookmark is a JSON
map of tag to the highest status id persisted; each batch carries the whole map, so a failure
in one tag never advances another. Reblogs are skipped (the original is the feedback).

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
from typing import Any

from pydantic import Field, ValidationError

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
    """

    instance: str = Field(pattern=r"^https?://")
    hashtags: list[str] = Field(min_length=1)
    token: SecretRef | None = None
    limit: int = Field(default=40, ge=1, le=40)


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
            credential_hint=hint,
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
        client = self._client()
        try:
            for tag in self.options.hashtags:
                page = 0
                while True:
                    params: dict[str, Any] = {"limit": self.options.limit}
                    params["min_id"] = cursors.get(tag, "0")
                    found = client.get_json(f"/api/v1/timelines/tag/{tag}", params).json()
                    page += 1
                    if not found:
                        break
                    found = sorted(found, key=lambda s: int(s["id"]))
                    batch = HttpBatch(pages=1, rows_read=len(found))
                    for index, status in enumerate(found):
                        if status.get("reblog"):
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
