"""YouTube Data API contract fake: ``GET /youtube/v3/commentThreads``.

Implements, as documented by Google: ``part=snippet``, ``videoId`` or
``allThreadsRelatedToChannelId``, ``order=time`` (newest first), ``maxResults`` (max 100),
``pageToken``/``nextPageToken``, ``textFormat``; ``youtube#commentThread`` items with
``snippet.topLevelComment.snippet`` (``textOriginal``, ``authorChannelId.value``,
``publishedAt``, ``updatedAt``, ``videoId``). API key in ``key`` or ``X-Goog-Api-Key``; a bad key
is 400 ``API_KEY_INVALID``. ``quota_spent`` makes it answer 403 ``quotaExceeded``.

SYNTHETIC DATA: shaped from the YouTube Data API's documented examples, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.contract.server import Reply

VIDEO = "SynThVid001"
API_KEY = "synthetic-youtube-key"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class YouTubeApp:
    """The fake video: ``n`` synthetic top-level comments, pairs sharing a second."""

    def __init__(self, n: int = 11) -> None:
        self.threads: dict[str, dict[str, Any]] = {}
        self.clock = T0 + timedelta(hours=1)
        self.quota_spent = False
        for i in range(n):
            self._put(f"UgSynth{i:03d}", T0 + timedelta(minutes=i // 2))

    def _put(self, tid: str, when: datetime) -> None:
        self.threads[tid] = {"kind": "youtube#commentThread", "id": tid, "snippet": {
            "channelId": "UCsynthetic", "videoId": VIDEO, "canReply": True,
            "totalReplyCount": 0, "isPublic": True,
            "topLevelComment": {"kind": "youtube#comment", "id": tid, "snippet": {
                "videoId": VIDEO, "textDisplay": f"SYNTHETIC comment {tid}",
                "textOriginal": f"SYNTHETIC comment {tid}",
                "authorDisplayName": "@synthetic", "authorChannelId": {"value": f"UC{tid}"},
                "likeCount": 0, "publishedAt": _iso(when), "updatedAt": _iso(when)}}}}  # fmt: skip

    def add(self) -> str:
        self.clock += timedelta(minutes=1)
        tid = f"UgSynth{len(self.threads):03d}"
        self._put(tid, self.clock)
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
        if path != "/youtube/v3/commentThreads" or query.get("videoId") != VIDEO:
            return 404, {}, {"error": {"code": 404, "errors": [{"reason": "videoNotFound"}]}}
        size = min(int(query.get("maxResults", 20)), 100)
        start = int(query.get("pageToken") or 0)
        ordered = sorted(self.threads.values(), reverse=True, key=lambda t: (
            t["snippet"]["topLevelComment"]["snippet"]["publishedAt"], t["id"]))  # fmt: skip
        body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse",
                                "pageInfo": {"totalResults": len(ordered), "resultsPerPage": size},
                                "items": ordered[start : start + size]}  # fmt: skip
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return 200, {}, body
