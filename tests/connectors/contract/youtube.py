"""YouTube Data API contract fake: ``GET /youtube/v3/commentThreads``.

Implements, as documented by Google: ``part=snippet``, ``videoId`` or
``allThreadsRelatedToChannelId``, ``order=time`` (newest first), ``maxResults`` (max 100),
``pageToken``/``nextPageToken``, ``textFormat``; ``youtube#commentThread`` items with
``snippet.topLevelComment.snippet`` (``textOriginal``, ``authorChannelId.value``,
``publishedAt``, ``updatedAt``, ``videoId``). API key in ``key`` or ``X-Goog-Api-Key``; a bad key
is 400 ``API_KEY_INVALID``. ``quota_spent`` makes it answer 403 ``quotaExceeded``.

The errors ``commentThreads.list`` documents for one video or channel: a video whose owner
turned comments off answers 403 ``commentsDisabled`` (domain ``youtube.commentThread``,
location ``videoId``); an unknown or deleted video 404 ``videoNotFound``; an unknown channel
404 ``channelNotFound``. ``allThreadsRelatedToChannelId`` lists the threads of every video of
the channel (``CHANNEL``), newest first.

SYNTHETIC DATA: shaped from the YouTube Data API's documented examples, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

VIDEO = "SynThVid001"
VIDEO_2 = "SynThVid002"  # a second video of the channel, with no comments until ``add``
NO_COMMENTS = "SynThVidOff"  # comments turned off by the owner
CHANNEL = "UCsynthetic"
API_KEY = "synthetic-youtube-key"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(code: int, reason: str, message: str, location: str) -> Reply:
    entry = {"message": message, "domain": "youtube.commentThread", "reason": reason,
             "location": location, "locationType": "parameter"}  # fmt: skip
    return code, {}, {"error": {"code": code, "message": message, "errors": [entry]}}


class YouTubeApp:
    """The fake channel: ``n`` synthetic top-level comments on ``VIDEO``, pairs sharing a second."""

    def __init__(self, n: int = 11) -> None:
        self.threads: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        self.quota_spent = False
        self.videos = {VIDEO, VIDEO_2, NO_COMMENTS}
        for i in range(n):
            self._put(f"UgSynth{i:03d}", T0 + timedelta(minutes=i // 2), VIDEO)

    def _put(self, tid: str, when: datetime, video: str) -> None:
        self.threads[tid] = {"kind": "youtube#commentThread", "id": tid, "snippet": {
            "channelId": CHANNEL, "videoId": video, "canReply": True,
            "totalReplyCount": 0, "isPublic": True,
            "topLevelComment": {"kind": "youtube#comment", "id": tid, "snippet": {
                "videoId": video, "textDisplay": f"SYNTHETIC comment {tid}",
                "textOriginal": f"SYNTHETIC comment {tid}",
                "authorDisplayName": "@synthetic", "authorChannelId": {"value": f"UC{tid}"},
                "likeCount": 0, "publishedAt": _iso(when), "updatedAt": _iso(when)}}}}  # fmt: skip

    def add(self, video: str = VIDEO, when: datetime | None = None) -> str:
        """Adds a comment (a minute after the last one, or at ``when``); returns its id."""
        self.clock += timedelta(minutes=1)
        tid = f"UgSynth{len(self.threads):03d}"
        self._put(tid, when or self.clock, video)
        return tid

    def handle(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Reply:
        if API_KEY not in (headers.get("x-goog-api-key"), query.get("key")):
            return 400, {}, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                       "message": "API key not valid. Please pass a valid API key.",
                                       "details": [{"reason": "API_KEY_INVALID"}]}}  # fmt: skip
        if self.quota_spent:
            return 403, {}, {"error": {"code": 403, "message": "quota exceeded",
                                       "errors": [{"reason": "quotaExceeded",
                                                   "domain": "youtube.quota"}]}}  # fmt: skip
        if path != "/youtube/v3/commentThreads":
            return 404, {}, {"error": {"code": 404, "message": "Not Found"}}
        channel, video = query.get("allThreadsRelatedToChannelId"), query.get("videoId")
        if channel is not None and channel != CHANNEL:
            return _error(404, "channelNotFound", "The channel identified by the "
                          "allThreadsRelatedToChannelId parameter could not be found.",
                          "allThreadsRelatedToChannelId")  # fmt: skip
        if channel is None and video not in self.videos:
            return _error(404, "videoNotFound", "The video identified by the videoId "
                          "parameter could not be found.", "videoId")  # fmt: skip
        if channel is None and video == NO_COMMENTS:
            return _error(403, "commentsDisabled", "The video identified by the videoId "
                          "parameter has disabled comments.", "videoId")  # fmt: skip
        size = min(int(query.get("maxResults", 20)), 100)
        start = int(query.get("pageToken") or 0)
        listed = [t for t in self.threads.values()
                  if channel is not None or t["snippet"]["videoId"] == video]  # fmt: skip
        ordered = sorted(listed, reverse=True, key=lambda t: (
            t["snippet"]["topLevelComment"]["snippet"]["publishedAt"], t["id"]))  # fmt: skip
        body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse",
                                "pageInfo": {"totalResults": len(ordered), "resultsPerPage": size},
                                "items": ordered[start : start + size]}  # fmt: skip
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return 200, {}, body
