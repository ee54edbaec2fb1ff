"""Vendor- and client-specific behaviour beyond the shared conformance suite.

Zendesk brands and satisfaction ratings, Typeform responses without a verbatim, keyset paging
through a page that shares one timestamp, ``Retry-After`` as an HTTP date and a ``Retry-After``
longer than the configured cap. All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from connectors.base import ConnectorError
from connectors.freshdesk import FreshdeskConnector, FreshdeskOptions
from connectors.http import HttpClient, RetryPolicy
from connectors.paging import keyset_pages
from connectors.schema import ScoreType
from connectors.typeform import TypeformConnector, TypeformOptions
from connectors.zendesk import ZendeskConnector, ZendeskOptions
from tests.connectors.contract import freshdesk, typeform, zendesk
from tests.connectors.contract.kits import SALT
from tests.connectors.contract.server import ContractServer, Fault


def _zendesk(url: str, **extra: object) -> ZendeskConnector:
    opts = {"base_url": url, "email": zendesk.EMAIL, "per_page": 4, **extra}
    return ZendeskConnector("zd", ZendeskOptions.model_validate(opts), SALT, sleep=lambda s: None)


def test_zendesk_brand_filter_and_satisfaction(monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    app = zendesk.ZendeskApp()
    with ContractServer(app) as server:
        items = [i for b in _zendesk(server.url, brand_id=2).read(None) for i in b.items]
    assert {i.external_id for i in items} == {
        str(t["id"]) for t in app.tickets.values() if t["brand_id"] == 2
    }
    for item in items:
        ticket = app.tickets[int(item.external_id)]
        assert item.score is not None and item.score.type == ScoreType.CSAT
        assert item.score.value == (
            5.0 if ticket["satisfaction_rating"]["score"] == "good" else 1.0
        )
        assert item.segment["brand_id"] == "2"
        # The CC (an end user) is customer text too; comments were read over two pages.
        assert "SYNTHETIC cc follow-up" in item.text
        assert len(item.thread) == 4


def test_zendesk_ticket_without_customer_comment_is_quarantined(monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    app = zendesk.ZendeskApp(n=2)
    app.comments[100] = [c for c in app.comments[100] if c["author_id"] == zendesk.AGENT]
    with ContractServer(app) as server:
        batches = list(_zendesk(server.url).read(None))
    quarantined = [q for b in batches for q in b.quarantined]
    assert [(q.reason, "id=100" in q.row_ref) for q in quarantined] == [("no_customer_text", True)]
    assert [i.external_id for b in batches for i in b.items] == ["101"]


def test_typeform_maps_score_text_hidden_fields_and_quarantines_score_only(monkeypatch):
    monkeypatch.setenv("TYPEFORM_TOKEN", typeform.TOKEN)
    app = typeform.TypeformApp(n=3)
    app._add("scoreonly", typeform.T0 + timedelta(minutes=5), 3, None)
    opts = {"base_url": "", "form_id": typeform.FORM_ID, "score_field": "nps",
            "customer_field": "customer_id", "segment_fields": ["plan"]}  # fmt: skip
    with ContractServer(app) as server:
        opts["base_url"] = server.url
        connector = TypeformConnector("tf", TypeformOptions.model_validate(opts), SALT)
        batches = list(connector.read(None))
    items = {i.external_id: i for b in batches for i in b.items}
    assert set(items) == {"resp000", "resp001", "resp002"}
    item = items["resp002"]
    assert item.score is not None and (item.score.type, item.score.value) == (ScoreType.NPS, 2.0)
    assert item.text == "SYNTHETIC verbatim number 2"
    assert item.segment == {"plan": "pro", "platform": "mobile"}
    assert item.customer_key is not None and "cust" not in item.customer_key
    assert [q.reason for b in batches for q in b.quarantined] == ["no_verbatim"]


def test_freshdesk_steps_pages_through_a_shared_timestamp(monkeypatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", freshdesk.API_KEY)
    app = freshdesk.FreshdeskApp(n=7)
    for ticket in app.tickets.values():  # every ticket edited in the same second
        ticket["updated_at"] = "2026-03-01T10:00:00Z"
    opts = {"per_page": 3, "retry": {"backoff_base": 0.001}}
    with ContractServer(app) as server:
        connector = FreshdeskConnector(
            "fd", FreshdeskOptions.model_validate({**opts, "base_url": server.url}), SALT
        )
        ids = [i.external_id for b in connector.read(None) for i in b.items]
    assert sorted(ids) == sorted(str(i) for i in app.tickets)
    assert len(ids) == len(set(ids))


def test_keyset_pages_refuses_to_loop_when_it_cannot_step_pages():
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [{"id": str(i), "ts": t0} for i in range(3)]
    pages = keyset_pages(lambda since, page: rows, t0, source="s", page_size=3,
                         timestamp=lambda r: r["ts"], row_id=lambda r: r["id"],
                         can_step_pages=False)  # fmt: skip
    assert next(pages) == rows
    with pytest.raises(ConnectorError, match="raise the page_size option"):
        next(pages)


def _client(handler, waits: list[float], **policy: float) -> HttpClient:
    return HttpClient("s", "http://vendor.test", policy=RetryPolicy(**policy),  # type: ignore[arg-type]
                      sleep=waits.append, transport=httpx.MockTransport(handler))  # fmt: skip


def test_retry_after_as_an_http_date_is_honoured():
    later = datetime.now(UTC) + timedelta(seconds=30)
    answers = iter([httpx.Response(429, headers={"Retry-After": format_datetime(later, True)}),
                    httpx.Response(200, json={"ok": True})])  # fmt: skip
    waits: list[float] = []
    client = _client(lambda request: next(answers), waits)
    assert client.get_json("/x").json() == {"ok": True}
    assert len(waits) == 1 and 25 <= waits[0] <= 30


def test_retry_after_beyond_the_cap_fails_instead_of_stalling():
    waits: list[float] = []
    client = _client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), waits,
                     max_retry_after=60)  # fmt: skip
    with pytest.raises(ConnectorError, match="asks to wait 3600 s"):
        client.get_json("/x")
    assert waits == []


def test_not_json_is_retried_and_other_4xx_fail_at_once():
    answers = iter([httpx.Response(200, text="<html>proxy</html>"),
                    httpx.Response(200, json=[1])])  # fmt: skip
    waits: list[float] = []
    assert _client(lambda r: next(answers), waits, backoff_base=0.001).get_json("/x").json() == [1]
    assert len(waits) == 1
    gone = _client(lambda r: httpx.Response(404, json={"error": "nope"}), [])
    with pytest.raises(ConnectorError, match="HTTP 404"):
        gone.get_json("/x")
    assert gone.stats.requests == 1


def test_connect_failure_mid_stream_is_retried(monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    with ContractServer(zendesk.ZendeskApp()) as server:
        # The first run reads comments from the ticket-event export (no call per ticket).
        server.inject(Fault("drop", path="/api/v2/incremental/ticket_events.json"))
        connector = _zendesk(server.url)
        items = [i for b in connector.read(None) for i in b.items]
    assert len(items) == 11
    assert connector.client is not None and connector.client.stats.retries["connect"] == 1


def test_reddit_reports_posts_deleted_in_the_reread_window(monkeypatch):
    from connectors.base import Bookmark
    from connectors.reddit import RedditConnector, RedditOptions
    from tests.connectors.contract import reddit

    monkeypatch.setenv("REDDIT_CLIENT_SECRET", reddit.SECRET)
    app = reddit.RedditApp(n=4)
    with ContractServer(app) as server:
        opts = {"base_url": server.url, "token_url": f"{server.url}/api/v1/access_token",
                "queries": ["Acme", "acme app"], "subreddits": ["synthetic"],
                "client_id": reddit.CLIENT_ID, "user_agent": "test:vocflow:0.1"}  # fmt: skip
        connector = RedditConnector("rd", RedditOptions.model_validate(opts), SALT)
        first = list(connector.read(None))
        assert first[-1].bookmark is not None
        newest = max(app.posts, key=lambda n: app.posts[n]["created_utc"])
        app.delete(newest)
        again = list(connector.read(Bookmark("created_utc", first[-1].bookmark.value)))
        token_requests = [r for r in server.requests if r.startswith("/api/v1/access_token")]
    # Two queries over one subreddit, merged by post id: each post once.
    assert sorted(i.external_id for b in first for i in b.items) == sorted(app.posts)
    assert [d for b in again for d in getattr(b, "deleted", [])] == [newest]
    # Only the bookmark's second is read again (inclusive cursor), the deleted post excepted.
    reread = {i.external_id for b in again for i in b.items}
    at_bookmark = {n for n, p in app.posts.items()
                   if p["created_utc"] == app.posts[newest]["created_utc"]}  # fmt: skip
    assert reread == at_bookmark - {newest}
    assert len(token_requests) == 2  # one token per read, reused across its requests


def test_intercom_html_bodies_rating_and_remark(monkeypatch):
    from connectors.intercom import IntercomConnector, IntercomOptions
    from tests.connectors.contract import intercom

    monkeypatch.setenv("INTERCOM_TOKEN", intercom.TOKEN)
    app = intercom.IntercomApp(n=2)
    app.conversations["301"]["conversation_rating"]["remark"] = "SYNTHETIC remark: slow reply"
    with ContractServer(app) as server:
        opts = IntercomOptions.model_validate({"base_url": server.url})
        items = {i.external_id: i for b in IntercomConnector("ic", opts, SALT).read(None)
                 for i in b.items}  # fmt: skip
    first, second = items["300"], items["301"]
    assert first.text == "SYNTHETIC customer text of 300 & more"  # HTML stripped, unescaped
    assert first.score is not None and (first.score.type, first.score.value) == (ScoreType.CSAT, 1)
    assert second.text.endswith("SYNTHETIC remark: slow reply")
    # The bot's assignment has no body and is not a message.
    assert [(m.author_role, m.internal) for m in first.thread] == [
        ("customer", False), ("agent", False), ("agent", True)]  # fmt: skip


def test_mastodon_cursors_per_tag_and_plain_text(monkeypatch):
    import json

    from connectors.mastodon import MastodonConnector, MastodonOptions
    from tests.connectors.contract import mastodon

    monkeypatch.setenv("MASTODON_TOKEN", mastodon.TOKEN)
    app = mastodon.MastodonApp(n=3)
    with ContractServer(app) as server:
        opts = {"instance": server.url, "hashtags": [mastodon.TAG], "limit": 2,
                "token": {"env": "MASTODON_TOKEN"}}  # fmt: skip
        batches = list(
            MastodonConnector("md", MastodonOptions.model_validate(opts), SALT).read(None)
        )
    items = [i for b in batches for i in b.items]
    assert len(items) == 3  # the reblog is skipped
    assert items[0].text.startswith("SYNTHETIC post") and items[0].text.endswith("#acmeair & co")
    assert batches[-1].bookmark is not None
    assert json.loads(batches[-1].bookmark.value) == {mastodon.TAG: app.reblog["id"]}


def test_youtube_spent_quota_fails_with_what_happened_and_no_retry(monkeypatch):
    from connectors.youtube import YouTubeConnector, YouTubeOptions
    from tests.connectors.contract import youtube

    monkeypatch.setenv("YOUTUBE_API_KEY", youtube.API_KEY)
    app = youtube.YouTubeApp(n=2)
    app.quota_spent = True
    with ContractServer(app) as server:
        opts = YouTubeOptions.model_validate({"base_url": server.url, "video_ids": [youtube.VIDEO]})
        with pytest.raises(ConnectorError, match="quota is spent \\(quotaExceeded\\)"):
            list(YouTubeConnector("yt", opts, SALT).read(None))
        assert len(server.requests) == 1


def test_google_style_403_rate_limit_is_retried():
    body = {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}}
    answers = iter([httpx.Response(403, json=body), httpx.Response(200, json={"ok": 1})])
    waits: list[float] = []
    client = _client(lambda r: next(answers), waits, backoff_base=0.001)
    assert client.get_json("/x").json() == {"ok": 1}
    assert client.stats.retries["429"] == 1


def test_ticket_deleted_between_list_and_thread_is_quarantined_not_fatal(monkeypatch):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    app = zendesk.ZendeskApp(n=3)
    del app.comments[101]  # its comments now answer 404
    with ContractServer(app) as server:
        batches = list(_zendesk(server.url).read(None))
    assert [i.external_id for b in batches for i in b.items] == ["100", "102"]
    assert [q.reason for b in batches for q in b.quarantined] == ["gone"]


def _delighted_read(app, bookmark=None, **extra):
    from connectors.delighted import DelightedConnector, DelightedOptions

    with ContractServer(app) as server:
        opts = DelightedOptions.model_validate({"base_url": server.url, **extra})
        batches = list(DelightedConnector("dl", opts, SALT).read(bookmark))
        return batches, list(server.requests)


@pytest.mark.parametrize(
    ("survey_type", "score", "expected"),
    [
        ("nps", 0, (ScoreType.NPS, 0.0, None)),
        ("enps", 10, (ScoreType.NPS, 10.0, "Delighted eNPS (employee NPS, 0-10)")),
        ("csat", 4, (ScoreType.CSAT, 4.0, None)),
        ("ces", 7, (ScoreType.CES, 7.0, None)),
        ("5-star", 1, (ScoreType.STARS, 1.0, None)),
        ("smileys", 3, None),  # a scale we do not have: no score, the comment is kept
    ],
)
def test_delighted_survey_types_map_to_score_scales(monkeypatch, survey_type, score, expected):
    from tests.connectors.contract import delighted

    monkeypatch.setenv("DELIGHTED_API_KEY", delighted.API_KEY)
    app = delighted.DelightedApp(n=1, survey_type=survey_type)
    app.responses["5000"]["score"] = score
    batches, _ = _delighted_read(app)
    [item] = [i for b in batches for i in b.items]
    got = item.score and (item.score.type, item.score.value, item.score.derived_from)
    assert got == expected
    assert item.segment["survey_type"] == survey_type


def test_delighted_score_out_of_its_scale_is_quarantined(monkeypatch):
    from tests.connectors.contract import delighted

    monkeypatch.setenv("DELIGHTED_API_KEY", delighted.API_KEY)
    app = delighted.DelightedApp(n=2, survey_type="csat")
    app.responses["5000"]["score"] = 4
    app.responses["5001"]["score"] = 9  # CSAT is 1-5
    batches, _ = _delighted_read(app)
    assert [i.external_id for b in batches for i in b.items] == ["5000"]
    [row] = [q for b in batches for q in b.quarantined]
    assert row.reason == "invalid_row" and "outside 1-5" in row.detail


def test_delighted_maps_person_properties_permalink_and_keeps_pii_out(monkeypatch):
    from connectors.schema import hash_customer
    from tests.connectors.contract import delighted

    monkeypatch.setenv("DELIGHTED_API_KEY", delighted.API_KEY)
    app = delighted.DelightedApp(n=3)
    batches, requests = _delighted_read(app, segment_properties=["plan", "missing"])
    items = {i.external_id: i for b in batches for i in b.items}
    item, row = items["5002"], app.responses["5002"]
    assert item.text == "SYNTHETIC comment number 2" and "INTERNAL-NOTE" not in item.text
    assert item.url == row["permalink"]
    assert item.created_at.timestamp() == row["created_at"]
    assert item.updated_at is not None and item.updated_at.timestamp() == row["updated_at"]
    # Only allow-listed properties become segments: the Email property is never stored.
    assert item.segment == {"plan": "pro", "survey_type": "nps"}
    # Without customer_property the Delighted person id is the customer, hashed.
    assert item.customer_key == hash_customer(row["person"], SALT)
    assert row["person"] not in item.customer_key
    # The cursor is updated_at, sorted by it; persons are never expanded.
    first = requests[0]
    assert "order=asc%3Aupdated_at" in first and "updated_since=946684800" in first
    assert all("expand" not in r for r in requests)
    _, requests = _delighted_read(app, trend="42")
    assert all("trend=42" in r for r in requests)


def test_delighted_score_only_is_quarantined_until_a_comment_is_added(monkeypatch):
    from connectors.base import Bookmark
    from tests.connectors.contract import delighted

    monkeypatch.setenv("DELIGHTED_API_KEY", delighted.API_KEY)
    app = delighted.DelightedApp(n=3)
    app.responses["5001"]["comment"] = None
    batches, _ = _delighted_read(app, customer_property="customer_id")
    assert sorted(i.external_id for b in batches for i in b.items) == ["5000", "5002"]
    [row] = [q for b in batches for q in b.quarantined]
    assert row.reason == "no_verbatim" and "id=5001" in row.row_ref
    # The person, its id and properties (an email among them) stay out of the raw row.
    assert "person" not in row.raw and "example.invalid" not in row.raw
    assert batches[-1].bookmark is not None
    # The person adds a comment later: the response is re-read with its new updated_at.
    app.edit("5001", "SYNTHETIC comment added later")
    again, _ = _delighted_read(app, Bookmark("updated_at", batches[-1].bookmark.value))
    items = {i.external_id: i for b in again for i in b.items}
    assert items["5001"].text == "SYNTHETIC comment added later"
    assert items["5001"].score is not None and items["5001"].score.value == 3.0
    assert items["5001"].customer_key is not None and "cust" not in items["5001"].customer_key


def test_delighted_pages_through_one_second_and_a_never_edited_response(monkeypatch):
    from tests.connectors.contract import delighted

    monkeypatch.setenv("DELIGHTED_API_KEY", delighted.API_KEY)
    app = delighted.DelightedApp(n=7)
    for row in app.responses.values():  # every response updated in the same second
        row["updated_at"] = delighted._unix(delighted.T0 + timedelta(minutes=30))
    batches, requests = _delighted_read(app, per_page=3)
    ids = [i.external_id for b in batches for i in b.items]
    assert sorted(ids) == sorted(app.responses) and len(ids) == len(set(ids))
    assert any("page=3" in r for r in requests)  # stepped pages within the second
    # The documented example has "updated_at": null: the creation time stands in for it.
    never = delighted.DelightedApp(n=1)
    never.responses["5000"]["updated_at"] = None
    never_batches, _ = _delighted_read(never)
    [item] = [i for b in never_batches for i in b.items]
    assert item.updated_at == item.created_at
    assert never_batches[-1].bookmark is not None
    assert never_batches[-1].bookmark.value == item.created_at.isoformat()
