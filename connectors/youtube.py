"""YouTube comments on videos or a channel (Data API v3 ``commentThreads.list``, API key).

``commentThreads.list`` with ``order=time`` lists top-level comments newest first, paged by
``pageToken``, with no date filter. A read lists each video (or the channel) down to the
bookmark (``publishedAt``, inclusive), then yields the comments at or after it oldest first, in
batches. Nothing is yielded before the listing is complete: a failure mid-listing persists
nothing. Replies are not read (they answer the commenter, often the channel itself).

Limits, as the API has them: edits to comments older than the bookmark are not seen, and
deletions are not reported. Each call costs 1 quota unit of 10,000 a day; a spent quota fails the
read with that message and the next run resumes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, ValidationError, model_validator

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient, parse_time
from connectors.schema import Channel, FeedbackItem, QuarantinedRow, hash_customer, raw_json

_PATH = "/youtube/v3/commentThreads"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    def _client(self) -> HttpClient:
        key = self.options.api_key.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (self.options.base_url or "https://www.googleapis.com").rstrip("/"),
            # The key goes in a header, not the URL, so that it never lands in logs.
            headers={"X-Goog-Api-Key": key},
            credential_hint=f"the API key in {self.options.api_key.describe()}",
            policy=self.options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def _targets(self) -> list[dict[str, str]]:
        if self.options.channel_id:
            return [{"allThreadsRelatedToChannelId": self.options.channel_id}]
        return [{"videoId": video} for video in self.options.video_ids or []]

    def check(self) -> str:
        """Authenticates and reads one comment thread."""
        client = self._client()
        try:
            params = {"part": "snippet", "maxResults": 1, **self._targets()[0]}
            body = client.get_json(_PATH, params).json()
        finally:
            client.close()
        if "items" not in body:
            raise ConnectorError(f"source {self.name!r}: not a YouTube Data API answer")
        return "youtube: authenticated, comment threads readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields the comments published at or after the bookmark, oldest first."""
        since = parse_time(bookmark.value) if bookmark else None
        client = self._client()
        threads: dict[str, dict[str, Any]] = {}
        pages = 0
        try:
            for target in self._targets():
                for page in self._listing(client, target, since):
                    pages += 1
                    threads.update({str(t.get("id")): t for t in page})
        finally:
            client.close()
        dated = sorted(((_published(t), t) for t in threads.values()),
                       key=lambda pair: (pair[0] or _EPOCH, str(pair[1].get("id"))))  # fmt: skip
        size = self.options.batch_size
        for start in range(0, len(dated), size):
            chunk = dated[start : start + size]
            batch = HttpBatch(rows_read=len(chunk), pages=pages if start == 0 else 0)
            for index, (_, thread) in enumerate(chunk):
                outcome = self._item(thread, f"thread #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = max((when for when, _ in chunk if when is not None), default=None)
            if last is not None:
                batch.bookmark = Bookmark("publishedAt", last.isoformat())
            yield batch

    def _listing(
        self, client: HttpClient, target: dict[str, str], since: datetime | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of one target's threads at or after ``since``, newest first."""
        params: dict[str, Any] = {"part": "snippet", "order": "time", "textFormat": "plainText",
                                  "maxResults": self.options.max_results, **target}  # fmt: skip
        while True:
            body = client.get_json(_PATH, params).json()
            found = list(body.get("items") or [])
            yield [t for t in found if since is None or (_published(t) or since) >= since]
            token = body.get("nextPageToken")
            if not token or (since and any((_published(t) or since) < since for t in found)):
                return
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
