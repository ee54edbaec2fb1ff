"""YouTube as the Data API documents it: one video's trouble stays that video's.

``commentThreads.list`` answers 403 ``commentsDisabled`` for a video whose owner turned comments
off and 404 ``videoNotFound`` for a deleted one: that video is skipped with a gap line, the
others are read. Each video (or the channel) keeps its own cursor in the bookmark, so a video
added to the options later is read from its own start, and a failure on one video keeps what
the videos before it stored. Channel mode (``allThreadsRelatedToChannelId``) is read through
the same contract fake. All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Bookmark, ConnectorError
from connectors.youtube import YouTubeConnector, YouTubeOptions
from tests.connectors.contract import youtube
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer, Fault
from vocflow.ingest import ingest_source
from vocflow.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "v.duckdb") as opened:
        yield opened


def _stored(store: Store, source: str) -> set[str]:
    rows = store.con.execute("SELECT external_id FROM items WHERE source = ?", [source])
    return {r[0] for r in rows.fetchall()}


@pytest.fixture
def yt(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[youtube.YouTubeApp, ContractServer]]:
    monkeypatch.setenv("YOUTUBE_API_KEY", youtube.API_KEY)
    app = youtube.YouTubeApp()
    with ContractServer(app) as server:
        yield app, server


def _youtube(url: str, **target: Any) -> YouTubeConnector:
    opts = {"base_url": url, "max_results": 3, "batch_size": 3, **target}
    return YouTubeConnector("yt", YouTubeOptions.model_validate(opts), SALT, sleep=lambda s: None)


@pytest.mark.parametrize(
    ("video", "reason"),
    [(youtube.NO_COMMENTS, "commentsDisabled"), ("SynThGone01", "videoNotFound")],
)
def test_youtube_skips_a_video_it_cannot_read_and_reads_the_others(yt, video, reason):
    app, server = yt
    connector = _youtube(server.url, video_ids=[video, youtube.VIDEO])
    batches = list(connector.read(None))
    assert {i.external_id for b in batches for i in b.items} == set(app.threads)
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and video in gaps[0] and reason in gaps[0]
    assert "skipped" in gaps[0]


def test_youtube_a_refused_key_still_fails_the_source(yt, monkeypatch):
    _, server = yt
    monkeypatch.setenv("YOUTUBE_API_KEY", "wrong-key")
    with pytest.raises(ConnectorError, match="refused the credentials.*needs: an API key"):
        list(_youtube(server.url, video_ids=[youtube.NO_COMMENTS, youtube.VIDEO]).read(None))


def test_youtube_video_added_later_is_read_from_its_own_start(yt, store):
    app, server = yt
    first = ingest_source(_youtube(server.url, video_ids=[youtube.VIDEO]), store, "run-1")
    assert first.new == 11
    # Comments on a second video, older than everything the first run saw.
    older = [app.add(youtube.VIDEO_2, when=youtube.T0 - timedelta(days=3 + i)) for i in range(2)]
    both = _youtube(server.url, video_ids=[youtube.VIDEO, youtube.VIDEO_2])
    second = ingest_source(both, store, "run-2")
    assert second.new == 2 and set(older) <= _stored(store, "yt")
    saved = store.get_bookmark("yt")
    assert saved is not None and set(json.loads(saved[1])) == {
        youtube.VIDEO,
        youtube.VIDEO_2,
    }
    assert ingest_source(both, store, "run-3").new == 0


def test_youtube_an_old_plain_timestamp_bookmark_holds_for_every_video(yt):
    app, server = yt
    at = (youtube.T0 + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    app.add(youtube.VIDEO_2, when=youtube.T0)  # before the old bookmark: read before
    later = app.add(youtube.VIDEO_2, when=youtube.T0 + timedelta(minutes=4))
    connector = _youtube(server.url, video_ids=[youtube.VIDEO, youtube.VIDEO_2])
    batches = list(connector.read(Bookmark("publishedAt", at)))
    read = {i.external_id for b in batches for i in b.items}
    # Threads 6..10 of VIDEO are at or after minute 3, and the later one on VIDEO_2.
    assert read == {f"UgSynth{i:03d}" for i in range(6, 11)} | {later}
    assert batches[-1].bookmark is not None and json.loads(batches[-1].bookmark.value)


def test_youtube_channel_mode_reads_every_video_of_the_channel(yt, store):
    app, server = yt
    on_second = app.add(youtube.VIDEO_2)
    connector = _youtube(server.url, channel_id=youtube.CHANNEL)
    first = ingest_source(connector, store, "run-1")
    assert first.new == 12 and on_second in _stored(store, "yt")
    assert ingest_source(connector, store, "run-2").new == 0
    added = app.add(youtube.VIDEO)
    assert ingest_source(connector, store, "run-3").new == 1
    assert added in _stored(store, "yt")
    requests = [r for r in server.requests if "allThreadsRelatedToChannelId" in r]
    assert requests and all(youtube.CHANNEL in r for r in requests)


def test_youtube_unknown_channel_fails_with_what_to_fix(yt):
    _, server = yt
    with pytest.raises(ConnectorError, match="HTTP 404"):
        list(_youtube(server.url, channel_id="UCnobody").read(None))


def test_youtube_failure_on_one_video_keeps_what_the_others_stored(yt, store):
    app, server = yt
    app.add(youtube.VIDEO_2)
    # VIDEO's 11 threads take 4 pages; then VIDEO_2's listing fails for good.
    server.inject(Fault("500", path="/youtube/v3/commentThreads", nth=5, times=-1))
    connector = _youtube(server.url, video_ids=[youtube.VIDEO, youtube.VIDEO_2],
                         retry={"max_attempts": 2, "backoff_base": 0.001})  # fmt: skip
    with pytest.raises(ConnectorError, match="still failing"):
        ingest_source(connector, store, "run-1")
    assert len(_stored(store, "yt")) == 11
    saved = store.get_bookmark("yt")
    assert saved is not None and set(json.loads(saved[1])) == {youtube.VIDEO}


def test_youtube_check_passes_over_a_video_without_comments(yt):
    _, server = yt
    message = _youtube(server.url, video_ids=[youtube.NO_COMMENTS, youtube.VIDEO]).check()
    assert "authenticated" in message and f"skipped {youtube.NO_COMMENTS}" in message
    with pytest.raises(ConnectorError, match="no video in video_ids can be read"):
        _youtube(server.url, video_ids=[youtube.NO_COMMENTS]).check()


def test_youtube_credential_role_names_the_api_to_enable():
    assert "YouTube Data API v3" in YouTubeConnector.credential_role


def test_youtube_a_comment_dated_in_the_future_does_not_move_the_cursor_past_now(yt, store):
    app, server = yt
    app.add(youtube.VIDEO, when=datetime(2099, 1, 1, tzinfo=UTC))  # a clock gone wrong
    connector = _youtube(server.url, video_ids=[youtube.VIDEO])
    assert ingest_source(connector, store, "run-1").new == 12
    saved = store.get_bookmark("yt")
    assert saved is not None and json.loads(saved[1])[youtube.VIDEO] < "2099"
    later = app.add(youtube.VIDEO)  # published after every real comment of run 1
    assert ingest_source(connector, store, "run-2").new == 1
    assert later in _stored(store, "yt")
