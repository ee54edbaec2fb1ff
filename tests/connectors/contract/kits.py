"""One kit per HTTP connector: its contract fake, how to build it against the fake, what to expect.

The conformance suite (tests/connectors/test_conformance.py) runs every kit through the same
tests; ``figures.py`` prints what a run shows. All data is synthetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.app_store import AppStoreConnector, AppStoreOptions
from connectors.base import Connector
from connectors.delighted import DelightedConnector, DelightedOptions
from connectors.freshdesk import FreshdeskConnector, FreshdeskOptions
from connectors.google_play import GooglePlayConnector, GooglePlayOptions
from connectors.intercom import IntercomConnector, IntercomOptions
from connectors.mastodon import MastodonConnector, MastodonOptions
from connectors.qualtrics import QualtricsConnector, QualtricsOptions
from connectors.reddit import RedditConnector, RedditOptions
from connectors.schema import Channel
from connectors.surveymonkey import SurveyMonkeyConnector, SurveyMonkeyOptions
from connectors.trustpilot import TrustpilotConnector, TrustpilotOptions
from connectors.typeform import TypeformConnector, TypeformOptions
from connectors.youtube import YouTubeConnector, YouTubeOptions
from connectors.zendesk import ZendeskConnector, ZendeskOptions
from tests.connectors.contract import (
    app_store,
    delighted,
    freshdesk,
    google_play,
    intercom,
    mastodon,
    qualtrics,
    reddit,
    surveymonkey,
    trustpilot,
    typeform,
    youtube,
    zendesk,
)

PAGE_SIZE = 3
N_RECORDS = 11
SALT = "synthetic-salt"
# Tests never wait for real: backoff is tiny, and the clock is a fake that records the waits.
FAST_RETRY = {"max_attempts": 4, "backoff_base": 0.001, "backoff_max": 0.01, "timeout": 2.0}


@dataclass(frozen=True)
class Kit:
    """How to run one connector against its contract fake.

    Attributes:
        kind: Connector kind in ``connectors.registry``.
        make_app: Builds a fresh fake with ``N_RECORDS`` synthetic records.
        options: Source options pointing at a base URL, with a page size of ``PAGE_SIZE``.
        make: Builds the connector from options, a fake sleep and a name.
        stream_path: Path of the paged list endpoint (where mid-stream faults go).
        env_var: Environment variable the credential is read from, and its right value.
        channel: Channel of every item.
        expected_ids: External ids a full read yields, given the fake.
        edit: Changes one record so that it must be re-read and replace the stored one.
        delete: Deletes one record so that the API reports it (None: the API cannot).
        thread: Whether items carry a thread with agent and internal messages.
        wrong_secret: A credential the fake refuses, and what the error must say.
        buffered: The API lists newest first, so a read yields only once the listing is
            complete: a failure mid-listing persists nothing.
        customer_ids: Whether the API identifies customers (hashed into ``customer_key``).
        why_no_edit: Why ``edit`` is None (shown when the edit test is skipped).
        why_no_delete: Why ``delete`` is None.
        bookmark_on_last_only: One export yields several batches and only its last carries the
            bookmark (the export's continuation token).
        preamble_requests: Requests a read makes before the first one to ``stream_path``.
    """

    kind: str
    make_app: Callable[[], Any]
    options: Callable[[str], dict[str, Any]]
    make: Callable[[str, dict[str, Any], Callable[[float], None]], Connector]
    stream_path: str
    env_var: tuple[str, str]
    channel: Channel
    expected_ids: Callable[[Any], set[str]]
    edit: Callable[[Any, str], str] | None
    delete: Callable[[Any], str] | None
    add: Callable[[Any], str]
    thread: bool
    wrong_secret: tuple[str, str] = ("wrong-token", "HTTP 401")
    buffered: bool = False
    customer_ids: bool = True
    why_no_edit: str = ""
    bookmark_on_last_only: bool = False
    preamble_requests: int = 0
    why_no_delete: str = "the API does not report deletions"


def _zendesk_edit(app: Any, text: str) -> str:
    app.edit(104, text)
    return "104"


def _zendesk_delete(app: Any) -> str:
    app.delete(105)
    return "105"


def _freshdesk_edit(app: Any, text: str) -> str:
    app.edit(204, text)
    return "204"


def _freshdesk_delete(app: Any) -> str:
    app.delete(205)
    return "205"


def _google_play_edit(app: Any, text: str) -> str:
    app.edit("gp:004", text)
    return "gp:004"


def _intercom_edit(app: Any, text: str) -> str:
    app.edit("304", text)
    return "304"


def _surveymonkey_edit(app: Any, text: str) -> str:
    app.edit("11400000004", text)
    return "11400000004"


def _delighted_edit(app: Any, text: str) -> str:
    app.edit("5004", text)
    return "5004"


KITS = [
    Kit(
        kind="zendesk",
        make_app=zendesk.ZendeskApp,
        options=lambda url: {
            "base_url": url,
            "email": zendesk.EMAIL,
            "per_page": PAGE_SIZE,
            "retry": FAST_RETRY,
            "product": "synthetic-app",
        },  # fmt: skip
        make=lambda name, opts, sleep: ZendeskConnector(
            name, ZendeskOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path="/api/v2/incremental/tickets/cursor.json",
        env_var=("ZENDESK_API_TOKEN", zendesk.TOKEN),
        channel=Channel.TICKET,
        expected_ids=lambda app: {
            str(i) for i, t in app.tickets.items() if t["status"] != "deleted"
        },
        edit=_zendesk_edit,
        delete=_zendesk_delete,
        add=lambda app: str(app.add()),
        thread=True,
    ),
    Kit(
        kind="typeform",
        make_app=typeform.TypeformApp,
        options=lambda url: {
            "base_url": url,
            "form_id": typeform.FORM_ID,
            "score_field": "nps",
            "customer_field": "customer_id",
            "segment_fields": ["plan"],
            "page_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: TypeformConnector(
            name, TypeformOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"/forms/{typeform.FORM_ID}/responses",
        env_var=("TYPEFORM_TOKEN", typeform.TOKEN),
        channel=Channel.SURVEY,
        expected_ids=lambda app: set(app.responses),
        edit=None,
        delete=None,
        why_no_edit="Typeform responses are not edited after submission",
        why_no_delete="the responses list does not report deletions",
        add=lambda app: app.add(),
        thread=False,
    ),
    Kit(
        kind="freshdesk",
        make_app=freshdesk.FreshdeskApp,
        options=lambda url: {"base_url": url, "per_page": PAGE_SIZE, "retry": FAST_RETRY},
        make=lambda name, opts, sleep: FreshdeskConnector(
            name, FreshdeskOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path="/api/v2/tickets",
        env_var=("FRESHDESK_API_KEY", freshdesk.API_KEY),
        channel=Channel.TICKET,
        expected_ids=lambda app: {
            str(i) for i, t in app.tickets.items() if not t["deleted"] and not t["spam"]
        },
        edit=_freshdesk_edit,
        delete=_freshdesk_delete,
        add=lambda app: str(app.add()),
        thread=True,
    ),
    Kit(
        kind="google_play",
        make_app=google_play.GooglePlayApp,
        options=lambda url: {
            "base_url": url,
            "token_uri": f"{url}/token",
            "package_name": google_play.PACKAGE,
            "max_results": PAGE_SIZE,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: GooglePlayConnector(
            name, GooglePlayOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"/androidpublisher/v3/applications/{google_play.PACKAGE}/reviews",
        env_var=("GOOGLE_PLAY_CREDENTIALS", google_play.KEY_JSON),
        channel=Channel.REVIEW,
        expected_ids=lambda app: set(app.reviews),
        edit=_google_play_edit,
        delete=None,
        why_no_delete="reviews.list does not report deleted reviews",
        add=lambda app: app.add(),
        thread=True,
        wrong_secret=(google_play.OTHER_KEY_JSON, "refused the service-account key"),
        buffered=True,
        customer_ids=False,  # reviewers are display names only
    ),
    Kit(
        kind="trustpilot",
        make_app=trustpilot.TrustpilotApp,
        options=lambda url: {
            "base_url": url,
            "business_unit_id": trustpilot.UNIT,
            "per_page": PAGE_SIZE,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: TrustpilotConnector(
            name, TrustpilotOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"/v1/business-units/{trustpilot.UNIT}/reviews",
        env_var=("TRUSTPILOT_API_KEY", trustpilot.API_KEY),
        channel=Channel.REVIEW,
        expected_ids=lambda app: set(app.reviews),
        edit=None,
        delete=None,
        why_no_edit="the list is ordered by creation: edits to older reviews are not seen",
        why_no_delete="deleted reviews are not reported",
        add=lambda app: app.add(),
        thread=True,
        buffered=True,
    ),
    Kit(
        kind="reddit",
        make_app=reddit.RedditApp,
        options=lambda url: {
            "base_url": url,
            "token_url": f"{url}/api/v1/access_token",
            "queries": ["Acme"],
            "client_id": reddit.CLIENT_ID,
            "user_agent": "test:vocflow:0.1 (by /u/synthetic)",
            "limit": PAGE_SIZE,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: RedditConnector(
            name, RedditOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path="/search",
        env_var=("REDDIT_CLIENT_SECRET", reddit.SECRET),
        channel=Channel.SOCIAL,
        expected_ids=lambda app: set(app.posts),
        edit=None,
        delete=None,
        why_no_edit="search is ordered by creation: edits to older posts are not seen",
        why_no_delete="seen only for posts re-read at the bookmark (test_conformance_details.py)",
        add=lambda app: app.add(),
        thread=False,
        buffered=True,
    ),
    Kit(
        kind="intercom",
        make_app=intercom.IntercomApp,
        options=lambda url: {"base_url": url, "per_page": PAGE_SIZE, "retry": FAST_RETRY},
        make=lambda name, opts, sleep: IntercomConnector(
            name, IntercomOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path="/conversations/search",
        env_var=("INTERCOM_TOKEN", intercom.TOKEN),
        channel=Channel.TICKET,
        expected_ids=lambda app: set(app.conversations),
        edit=_intercom_edit,
        delete=None,
        add=lambda app: app.add(),
        thread=True,
        why_no_delete="the conversation search does not report deletions",
    ),
    Kit(
        kind="app_store",
        make_app=app_store.AppStoreApp,
        options=lambda url: {
            "base_url": url,
            "app_id": app_store.APP_ID,
            "issuer_id": app_store.ISSUER,
            "key_id": app_store.KEY_ID,
            "limit": PAGE_SIZE,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: AppStoreConnector(
            name, AppStoreOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"/v1/apps/{app_store.APP_ID}/customerReviews",
        env_var=("APP_STORE_CONNECT_KEY", app_store.PRIVATE_PEM),
        channel=Channel.REVIEW,
        expected_ids=lambda app: set(app.reviews),
        edit=None,
        delete=None,
        add=lambda app: app.add(),
        thread=True,
        wrong_secret=(app_store.OTHER_PEM, "HTTP 401"),
        buffered=True,
        customer_ids=False,  # reviewers are nicknames only
        why_no_edit="customer reviews have no updated date: edits are not reported",
        why_no_delete="the list does not report deleted reviews",
    ),
    Kit(
        kind="mastodon",
        make_app=mastodon.MastodonApp,
        options=lambda url: {
            "instance": url,
            "hashtags": [mastodon.TAG],
            "limit": PAGE_SIZE,
            "token": {"env": "MASTODON_TOKEN"},
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: MastodonConnector(
            name, MastodonOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"/api/v1/timelines/tag/{mastodon.TAG}",
        env_var=("MASTODON_TOKEN", mastodon.TOKEN),
        channel=Channel.SOCIAL,
        expected_ids=lambda app: {i for i, s in app.statuses.items() if not s["reblog"]},
        edit=None,
        delete=None,
        add=lambda app: app.add(),
        thread=False,
        why_no_edit="read forward by id: edits to older statuses are not seen",
        why_no_delete="only the streaming API announces deletions",
    ),
    Kit(
        kind="youtube",
        make_app=youtube.YouTubeApp,
        options=lambda url: {
            "base_url": url,
            "video_ids": [youtube.VIDEO],
            "max_results": PAGE_SIZE,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: YouTubeConnector(
            name, YouTubeOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path="/youtube/v3/commentThreads",
        env_var=("YOUTUBE_API_KEY", youtube.API_KEY),
        channel=Channel.SOCIAL,
        expected_ids=lambda app: set(app.threads),
        edit=None,
        delete=None,
        add=lambda app: app.add(),
        thread=False,
        wrong_secret=("wrong-key", "refused the credentials (HTTP 400)"),
        buffered=True,
        why_no_edit="listed by publication time: edits to older comments are not seen",
        why_no_delete="deleted comments are not reported",
    ),
    Kit(
        kind="qualtrics",
        make_app=qualtrics.QualtricsApp,
        options=lambda url: {
            "base_url": url,
            "survey_id": qualtrics.SURVEY,
            "score_field": "QID1",
            "text_fields": ["QID2_TEXT"],
            "customer_field": "customer_id",
            "segment_fields": ["plan"],
            "poll_interval": 0.005,
            "batch_size": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: QualtricsConnector(
            name, QualtricsOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=f"{qualtrics.EXPORTS}/{qualtrics.PROGRESS}",
        env_var=("QUALTRICS_API_TOKEN", qualtrics.TOKEN),
        channel=Channel.SURVEY,
        expected_ids=lambda app: {r["responseId"] for r in app.responses},
        edit=None,
        delete=None,
        add=lambda app: app.add(),
        thread=False,
        buffered=True,
        bookmark_on_last_only=True,
        preamble_requests=1,  # the POST that starts the export
        why_no_edit="not documented whether continuation exports carry edited responses",
        why_no_delete="exports do not report deleted responses",
    ),
    Kit(
        kind="surveymonkey",
        make_app=surveymonkey.SurveyMonkeyApp,
        options=lambda url: {
            "base_url": url,
            "survey_id": surveymonkey.SURVEY,
            "score_question": "q_nps",
            "customer_variable": "customer_id",
            "segment_variables": ["plan"],
            "per_page": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: SurveyMonkeyConnector(
            name, SurveyMonkeyOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=surveymonkey.BULK,
        env_var=("SURVEYMONKEY_TOKEN", surveymonkey.TOKEN),
        channel=Channel.SURVEY,
        expected_ids=lambda app: set(app.responses),
        edit=_surveymonkey_edit,
        delete=None,
        add=lambda app: app.add(),
        thread=False,
        preamble_requests=1,  # the survey details
        why_no_delete="bulk responses do not report deleted responses",
    ),
    Kit(
        kind="delighted",
        make_app=delighted.DelightedApp,
        options=lambda url: {
            "base_url": url,
            "customer_property": "customer_id",
            "segment_properties": ["plan"],
            "per_page": PAGE_SIZE,
            "retry": FAST_RETRY,
        },  # fmt: skip
        make=lambda name, opts, sleep: DelightedConnector(
            name, DelightedOptions.model_validate(opts), SALT, sleep=sleep
        ),
        stream_path=delighted.PATH,
        env_var=("DELIGHTED_API_KEY", delighted.API_KEY),
        channel=Channel.SURVEY,
        expected_ids=lambda app: set(app.responses),
        edit=_delighted_edit,
        delete=None,
        add=lambda app: app.add(),
        thread=False,
        why_no_delete="the survey responses list does not report deleted responses",
    ),
]
