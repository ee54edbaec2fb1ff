"""YouTube comments on videos or a channel (Data API v3 ``commentThreads.list``, API key).

``commentThreads.list`` with ``order=time`` lists top-level comments newest first, paged by
``pageToken``, with no date filter. The bookmark is a JSON map of video id (or
``channel:<id>``) to the ``publishedAt`` it has reached (inclusive), so a video added to the
options later is read from its own start. A read lists one video down to its cursor, yields its
comments oldest first, in batches, then goes on to the next video: a failure mid-listing
persists nothing of that video and keeps what the videos before it stored. An old bookmark (one
timestamp shared by all videos) holds for every video it covered. Replies are not read (they
answer the commenter, often the channel itself).

A video whose owner turned comments off (403 ``commentsDisabled``) or that is gone (404
``videoNotFound``: deleted, private or a wrong id) is skipped with a warning and a
``Batch.gaps`` line; the other videos are read. Any other refusal (a bad key, an API not
enabled) still fails the source, and so does an unknown channel.

Limits, as the API has them: edits to comments older than the cursor are not seen, and
deletions are not reported. Each call costs 1 quota unit of 10,000 a day; a spent quota fails the
read with that message and the next run resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError, model_validator

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError, cursor_limit, target_cursors
from connectors.credentials import SecretRef
from connectors.http import (
    ApiConnector,
    HttpBatch,
    HttpClient,
    NotFoundError,
    RefusedError,
    parse_time,
)
from connectors.schema import Channel, FeedbackItem, QuarantinedRow, hash_customer, raw_json

_PATH = "/youtube/v3/commentThreads"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
logger = logging.getLogger(__name__)


class YouTubeOptions(ApiSourceOptions):
    """Options of a ``youtube`` source.

    Attributes:
        video_ids: Videos whose comments to read; or
        channel_id: A channel: comments on all its videos (``allThreadsRelatedToChannelId``).
        api_key: Where the API key is (``{env: YOUTUBE_API_KEY}`` by default).
        max_results: Threads per request (YouTube allows up to 100).
        batch_size: Comments per persisted batch.
    """

    video_ids: list[str] | None = None
    channel_id: str | None = None
    api_key: SecretRef = Field(default_factory=lambda: SecretRef(env="YOUTUBE_API_KEY"))
    max_results: int = Field(default=100, ge=1, le=100)
    batch_size: int = Field(default=500, ge=1)

    @model_validator(mode="after")
    def _one_target(self) -> YouTubeOptions:
        if bool(self.video_ids) == bool(self.channel_id):
            raise ValueError("set either video_ids or channel_id")
        return self


class YouTubeConnector(ApiConnector[YouTubeOptions]):
    """Reads top-level YouTube comments.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing commenter channel ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "id"
    cursor_field: str | None = "publishedAt"
    credential_role = (
        "an API key of a Google Cloud project with the YouTube Data API v3 enabled (public "
        "comments need no OAuth consent)"
    )

    def _client(self) -> HttpClient:
        key = self.options.api_key.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://www.googleapis.com").rstrip("/"),
            # The key goes in a header, not the URL, so that it never lands in logs.
            headers={"X-Goog-Api-Key": key},
            credential_hint=self.credential_hint(
                f"the API key in {self.options.api_key.describe()}"
            ),
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def _targets(self) -> list[tuple[str, dict[str, str]]]:
        """Each target's key in the cursor map and its filter parameter."""
        if self.options.channel_id:
            channel = self.options.channel_id
            return [(f"channel:{channel}", {"allThreadsRelatedToChannelId": channel})]
        return [(video, {"videoId": video}) for video in self.options.video_ids or []]

    def check(self) -> str:
        """Authenticates and reads one comment thread of the first readable target."""
        client = self._client()
        skipped: list[str] = []
        try:
            for key, target in self._targets():
                try:
                    body = client.get_json(_PATH, {"part": "snippet", "maxResults": 1, **target})
                except (NotFoundError, RefusedError) as error:
                    if self._skip_reason(target, error) is None:
                        raise
                    skipped.append(f"{key} ({error.reason or error.status})")
                    continue
                if "items" not in body.json():
                    raise ConnectorError(f"source {self.name!r}: not a YouTube Data API answer")
                note = f"; skipped {', '.join(skipped)}" if skipped else ""
                return f"youtube: authenticated, comment threads readable{note}"
        finally:
            client.close()
        raise ConnectorError(
            f"source {self.name!r}: no video in video_ids can be read ({', '.join(skipped)}); "
            "check the ids and that their comments are on"
        )

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields, video by video, the comments published at or after its cursor, oldest first."""
        targets = self._targets()
        cursors = target_cursors(bookmark, [key for key, _ in targets])
        client = self._client()
        try:
            for key, target in targets:
                since = parse_time(cursors.get(key))
                try:
                    threads, pages = self._listing(client, target, since)
                except (NotFoundError, RefusedError) as error:
                    why = self._skip_reason(target, error)
                    if why is None:
                        raise
                    code = " ".join(str(c) for c in (error.status, error.reason) if c)
                    line = (
                        f"source {self.name!r}: video {key} skipped: {why} (HTTP {code}); its "
                        "comments are not read, the other videos are"
                    )
                    logger.warning(line)
                    yield HttpBatch(gaps=[line])
                    continue
                for batch in self._batches(key, threads, pages, cursors):
                    yield batch
                    cursors = json.loads(batch.bookmark.value) if batch.bookmark else cursors
        finally:
            client.close()

    @staticmethod
    def _skip_reason(target: dict[str, str], error: NotFoundError | RefusedError) -> str | None:
        """Why one video cannot be read, when that is the video's and not the source's."""
        if "videoId" not in target:
            return None  # a wrong channel id is the source's configuration
        if isinstance(error, NotFoundError):
            return "the video is not found (deleted, private or a wrong id)"
        if error.reason == "commentsDisabled":
            return "its owner turned comments off"
        return None

    def _batches(
        self, key: str, threads: dict[str, dict[str, Any]], pages: int, cursors: dict[str, str]
    ) -> Iterator[HttpBatch]:
        """One target's threads, oldest first, in batches; each carries the whole cursor map."""
        dated = sorted(((_published(t), t) for t in threads.values()),
                       key=lambda pair: (pair[0] or _EPOCH, str(pair[1].get("id"))))  # fmt: skip
        size = self.options.batch_size
        # A comment dated past the clock (now + skew) is stored but never becomes the cursor:
        # the comments published after this run would sort below it and never be read.
        limit = cursor_limit()
        for start in range(0, len(dated), size):
            chunk = dated[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=pages if start == 0 else 0)
            for index, (_, thread) in enumerate(chunk):
                outcome = self._item(thread, f"{key} thread #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = max((w for w, _ in chunk if w is not None and w <= limit), default=None)
            if last is not None:
                cursors = {**cursors, key: last.isoformat()}
                batch.bookmark = Bookmark("publishedAt", json.dumps(cursors, sort_keys=True))
            yield batch

    def _listing(
        self, client: HttpClient, target: dict[str, str], since: datetime | None
    ) -> tuple[dict[str, dict[str, Any]], int]:
        """One target's threads at or after ``since`` by id, and the pages read."""
        params: dict[str, Any] = {"part": "snippet", "order": "time", "textFormat": "plainText",
                                  "maxResults": self.options.max_results, **target}  # fmt: skip
        threads: dict[str, dict[str, Any]] = {}
        pages = 0
        while True:
            body = client.get_json(_PATH, params).json()
            pages += 1
            found = list(body.get("items") or [])
            threads.update({str(t.get("id")): t for t in found
                            if since is None or (_published(t) or since) >= since})  # fmt: skip
            token = body.get("nextPageToken")
            if not token or (since and any((_published(t) or since) < since for t in found)):
                return threads, pages
            params = {**params, "pageToken": token}

    def _item(self, thread: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        try:
            comment = thread["snippet"]["topLevelComment"]
            snippet = comment["snippet"]
            author = (snippet.get("authorChannelId") or {}).get("value")
            video = snippet.get("videoId") or thread["snippet"].get("videoId")
            return FeedbackItem(
                source=self.name,
                external_id=str(thread["id"]),
                channel=Channel.SOCIAL,
                created_at=parse_time(snippet.get("publishedAt")),
                updated_at=parse_time(snippet.get("updatedAt")),
                text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
                language=self.options.language,
                product=self.options.product,
                segment={"video_id": str(video)} if video else {},
                customer_key=hash_customer(str(author), self._salt) if author else None,
                url=f"https://www.youtube.com/watch?v={video}&lc={comment.get('id')}"
                if video
                else None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(thread, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, thread: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {"id": thread.get("id"), "publishedAt": str(_published(thread))}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={thread.get('id')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _published(thread: dict[str, Any]) -> datetime | None:
    try:
        snippet = thread["snippet"]["topLevelComment"]["snippet"]
        return parse_time(snippet.get("publishedAt"))
    except (KeyError, TypeError, ValueError):
        return None
