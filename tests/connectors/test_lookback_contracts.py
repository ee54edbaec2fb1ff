"""Where a source's reach begins: Mastodon's start date and Google Play's 7-day window.

Mastodon ids are snowflakes (creation time in milliseconds, shifted 16 bits), so a first run
starts at ``min_id`` of the start date (30 days back by default) instead of crawling the tag's
history from ``min_id=0``. Google Play's ``reviews.list`` returns only the last week: a first
run, or a bookmark older than that (a missed run), says in ``Batch.gaps`` that reviews may
have been dropped. All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.base import Bookmark
from connectors.google_play import GooglePlayConnector, GooglePlayOptions
from connectors.mastodon import MastodonConnector, MastodonOptions
from tests.connectors.contract import google_play, mastodon
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer

# --- Mastodon ------------------------------------------------------------------------------


@pytest.fixture
def md(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[mastodon.MastodonApp, ContractServer]]:
    monkeypatch.setenv("MASTODON_TOKEN", mastodon.TOKEN)
    app = mastodon.MastodonApp(n=3)
    with ContractServer(app) as server:
        yield app, server


def _mastodon(url: str, **extra: Any) -> MastodonConnector:
    opts = {"instance": url, "hashtags": [mastodon.TAG], "limit": 2,
            "token": {"env": "MASTODON_TOKEN"}, **extra}  # fmt: skip
    return MastodonConnector("md", MastodonOptions.model_validate(opts), SALT)


def _min_ids(server: ContractServer) -> list[int]:
    return [int(parse_qs(urlsplit(r).query)["min_id"][0]) for r in server.requests]


def test_mastodon_first_run_starts_30_days_back_not_at_the_tag_s_first_status(md):
    app, server = md
    ancient = [app.add(when=datetime.now(UTC) - timedelta(days=400 + i)) for i in range(3)]
    items = [i for b in _mastodon(server.url).read(None) for i in b.items]
    assert {i.external_id for i in items} == {
        s for s, status in app.statuses.items() if not status["reblog"] and s not in ancient
    }
    first = _min_ids(server)[0]
    month_ago = datetime.now(UTC) - timedelta(days=30)
    assert mastodon.snowflake(month_ago - timedelta(minutes=5)) < first
    assert first <= mastodon.snowflake(month_ago)


def test_mastodon_start_date_option_reaches_further_back(md):
    app, server = md
    ancient = app.add(when=datetime.now(UTC) - timedelta(days=400))
    start = (datetime.now(UTC) - timedelta(days=500)).date().isoformat()  # a date, as in YAML
    items = [i for b in _mastodon(server.url, start_date=start).read(None) for i in b.items]
    assert ancient in {i.external_id for i in items} and len(items) == 4


def test_mastodon_tag_cursor_wins_over_the_start_date(md):
    app, server = md
    ids = sorted(int(s) for s, status in app.statuses.items() if not status["reblog"])
    cursor = {mastodon.TAG: str(ids[0])}
    batches = list(_mastodon(server.url).read(Bookmark("id", json.dumps(cursor))))
    assert _min_ids(server)[0] == ids[0]
    assert [i.external_id for b in batches for i in b.items] == [str(i) for i in ids[1:]]


def test_mastodon_statuses_older_than_the_start_date_are_left_out():
    # Remote statuses keep the id of their creation time; a server whose ids are not
    # snowflakes still must not hand back what is older than the start date.
    options = MastodonOptions.model_validate({"instance": "https://x.example", "hashtags": ["a"],
                                              "start_date": "2026-01-01T00:00:00Z"})  # fmt: skip
    connector = MastodonConnector("md", options, SALT)
    old = {"id": "5", "created_at": "2025-12-31T23:59:59.000Z", "content": "x", "account": {}}
    assert connector._too_old(old) and not connector._too_old({**old, "created_at": None})


# --- Google Play ---------------------------------------------------------------------------


@pytest.fixture
def gp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[google_play.GooglePlayApp, str]]:
    monkeypatch.setenv("GOOGLE_PLAY_CREDENTIALS", google_play.KEY_JSON)
    app = google_play.GooglePlayApp()
    with ContractServer(app) as server:
        yield app, server.url


def _play(url: str) -> GooglePlayConnector:
    opts = {"base_url": url, "token_uri": f"{url}/token", "package_name": google_play.PACKAGE,
            "max_results": 3, "batch_size": 3}  # fmt: skip
    return GooglePlayConnector("gp", GooglePlayOptions.model_validate(opts), SALT,
                               sleep=lambda s: None)  # fmt: skip


def test_google_play_first_run_says_older_reviews_are_out_of_reach(gp):
    _, url = gp
    batches = list(_play(url).read(None))
    assert sum(len(b.items) for b in batches) == 11
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and "first run" in gaps[0] and "7 days" in gaps[0]


def _at(when: datetime) -> Bookmark:
    return Bookmark("lastModified", when.replace(microsecond=0).isoformat())


def test_google_play_missed_run_beyond_the_week_is_a_gap(gp):
    app, url = gp
    app.now = datetime.now(UTC)  # the API's week ends now; the fake's older reviews drop out
    added = app.add(when=app.now - timedelta(hours=1))
    missed = _at(app.now - timedelta(days=9))  # the last run was nine days ago
    batches = list(_play(url).read(missed))
    assert [i.external_id for b in batches for i in b.items] == [added]
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and missed.value in gaps[0] and "missed run" in gaps[0]


def test_google_play_nothing_new_after_a_missed_run_still_reports_the_gap(gp):
    app, url = gp
    app.now = datetime.now(UTC)
    batches = list(_play(url).read(_at(app.now - timedelta(days=8))))
    assert [b.items for b in batches] == [[]]
    assert len(batches[0].gaps) == 1 and batches[0].bookmark is None


def test_google_play_weekly_runs_have_no_gap(gp):
    app, url = gp
    app.now = datetime.now(UTC)
    added = app.add(when=app.now - timedelta(hours=1))
    batches = list(_play(url).read(_at(app.now - timedelta(days=6))))
    assert added in {i.external_id for b in batches for i in b.items}
    assert [g for b in batches for g in b.gaps] == []


def test_credential_roles_say_what_each_vendor_needs():
    assert "Reply to reviews" in GooglePlayConnector.credential_role
    assert "read:statuses" in MastodonConnector.credential_role
