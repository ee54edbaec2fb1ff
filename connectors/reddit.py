"""Reddit posts matching brand terms (search API, app-only OAuth).

For each query, ``GET /search`` (or ``/r/{subs}/search`` with ``restrict_sr``) with
``sort=new`` lists posts newest first, paged by the ``after`` fullname. The bookmark is a JSON
map of query to the ``created_utc`` it has reached (inclusive), so a query added to the options
later is read from its own start. A read lists one query down to its cursor, yields its posts
oldest first, in batches, then goes on to the next query: a failure in one query keeps what the
queries before it stored. A post that matches two queries is yielded once per read. An old
bookmark (one timestamp shared by all queries) holds for every query it covered.

Limits, as the API has them: a listing reaches back at most about 1,000 posts per query
(``listing_cap``). A query whose listing ends there without reaching its cursor may have lost
older posts for good: the batch says so in ``Batch.gaps`` (shorten the query or run more
often). Edits to posts older than the cursor are not seen. Posts listed again as
``[deleted]``/``[removed]`` are reported in ``Batch.deleted``. The rate-limit window
(``X-Ratelimit-Remaining``/``X-Ratelimit-Reset``, 100 requests a minute per client id) is
waited out by ``HttpClient``. New API access needs Reddit's approval since November 2025.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import Field, ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.base import Batch, Bookmark, ConnectorError, cursor_limit, target_cursors
from connectors.credentials import SecretRef
from connectors.http import ApiConnector, HttpBatch, HttpClient
from connectors.schema import Channel, FeedbackItem, QuarantinedRow, hash_customer, raw_json

_GONE = {"[deleted]", "[removed]"}
# A listing that ends with at least this share of ``listing_cap`` posts ended at the cap, not
# at the end of what matches (Reddit's cap is approximate: removed posts leave holes).
_NEAR_CAP = 0.9


class RedditOptions(ApiSourceOptions):
    """Options of a ``reddit`` source.

    Attributes:
        queries: Search queries (brand terms), e.g. ``['"Acme Air"', 'acmeair']``.
        subreddits: Only these subreddits (None: all of Reddit).
        client_id: The app's client id (not secret).
        client_secret: Where the app's secret is (``{env: REDDIT_CLIENT_SECRET}`` by default).
        user_agent: Reddit asks for ``<platform>:<app id>:<version> (by /u/<name>)``.
        token_url: Overrides the OAuth token endpoint (contract tests).
        limit: Posts per request (Reddit allows up to 100).
        batch_size: Posts per persisted batch.
        listing_cap: Posts a listing reaches back at most (Reddit: about 1,000); a query whose
            listing ends near it without reaching its cursor gets a ``Batch.gaps`` line.
    """

    queries: list[str] = Field(min_length=1)
    subreddits: list[str] | None = None
    client_id: str = Field(min_length=1)
    client_secret: SecretRef = Field(default_factory=lambda: SecretRef(env="REDDIT_CLIENT_SECRET"))
    user_agent: str = Field(min_length=3)
    token_url: str = "https://www.reddit.com/api/v1/access_token"  # noqa: S105 - a URL
    limit: int = Field(default=100, ge=1, le=100)
    batch_size: int = Field(default=500, ge=1)
    listing_cap: int = Field(default=1000, ge=1)


class _AppOnlyAuth(httpx.Auth):
    """OAuth 2.0 client-credentials bearer token, fetched through the same client on demand."""

    requires_response_body = True

    def __init__(self, source: str, options: RedditOptions, secret: str, hint: str) -> None:
        self._source = source
        self._options = options
        self._secret = secret
        self._hint = hint
        self._token: str | None = None
        self._expires = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._expires:
            basic = httpx.BasicAuth(self._options.client_id, self._secret)
            token_request = httpx.Request(
                "POST",
                self._options.token_url,
                data={"grant_type": "client_credentials"},
                headers={"User-Agent": self._options.user_agent},
            )
            token_request = next(basic.auth_flow(token_request))
            response = yield token_request
            if response.status_code >= 400:
                raise ConnectorError(
                    f"source {self._source!r}: Reddit refused the client credentials "
                    f"(HTTP {response.status_code}); check {self._hint}"
                )
            body = response.json()
            self._token = str(body["access_token"])
            # Renew a minute early rather than send a request with a token about to expire.
            self._expires = time.monotonic() + float(body.get("expires_in", 3600)) - 60
        request.headers["Authorization"] = f"bearer {self._token}"
        yield request


class RedditConnector(ApiConnector[RedditOptions]):
    """Reads posts matching brand terms.

    Args:
        name: Source instance name.
        options: Validated options.
        customer_salt: Secret salt for hashing author ids.
        sleep: Sleep used between retries (tests pass a fake).
        transport: httpx transport override (tests).
    """

    primary_key = "name"
    cursor_field: str | None = "created_utc"
    credential_role = (
        "a Reddit app (script or web, reddit.com/prefs/apps) approved for API access: its "
        "client id and secret, read-only app-only OAuth"
    )

    @property
    def _path(self) -> str:
        subs = self.options.subreddits
        return f"/r/{'+'.join(subs)}/search" if subs else "/search"

    def _client(self) -> HttpClient:
        options = self.options
        hint = (
            f"client_id {options.client_id!r} and the secret in {options.client_secret.describe()}"
        )
        secret = options.client_secret.resolve(self.name)
        self.client = HttpClient(
            self.name,
            (options.base_url or "https://oauth.reddit.com").rstrip("/"),
            auth=_AppOnlyAuth(self.name, options, secret, hint),
            headers={"User-Agent": options.user_agent},
            credential_hint=self.credential_hint(hint),
            policy=options.retry.policy(),
            sleep=self._sleep,
            transport=self._transport,
        )
        return self.client

    def _params(self, query: str, after: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"q": query, "sort": "new", "limit": limit, "type": "link",
                                  "raw_json": 1}  # fmt: skip
        if self.options.subreddits:
            params["restrict_sr"] = 1
        if after:
            params["after"] = after
        return params

    def check(self) -> str:
        """Authenticates and runs the first query for one post."""
        client = self._client()
        try:
            params = self._params(self.options.queries[0], None, 1)
            body = client.get_json(self._path, params).json()
        finally:
            client.close()
        if (body.get("kind") if isinstance(body, dict) else None) != "Listing":
            raise ConnectorError(f"source {self.name!r}: not a Reddit listing")
        return f"reddit search {self.options.queries[0]!r}: authenticated, listing readable"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields, query by query, posts created at or after its cursor, oldest first."""
        cursors = target_cursors(bookmark, self.options.queries)
        client = self._client()
        yielded: set[str] = set()
        try:
            for query in self.options.queries:
                since = datetime.fromisoformat(cursors[query]) if query in cursors else None
                posts, pages, reached = self._listing(client, query, since)
                gap = self._gap(query, since, len(posts), reached)
                for batch in self._batches(query, posts, pages, cursors, yielded):
                    batch.gaps, gap = ([gap] if gap else []), None
                    yield batch
                    cursors = json.loads(batch.bookmark.value) if batch.bookmark else cursors
        finally:
            client.close()

    def _batches(
        self,
        query: str,
        posts: list[dict[str, Any]],
        pages: int,
        cursors: dict[str, str],
        yielded: set[str],
    ) -> Iterator[HttpBatch]:
        """One query's posts, oldest first, in batches; each carries the whole cursor map."""
        ordered = sorted(posts, key=lambda p: (_created(p), str(p.get("name"))))
        size = self.options.batch_size
        # A post dated past the clock (now + skew) is stored but never becomes the cursor: the
        # posts made after this run would sort below it and never be read.
        limit = cursor_limit()
        for start in range(0, len(ordered), size):
            chunk = ordered[start : start + size]
            batch = HttpBatch(pages=pages if start == 0 else 0)
            for index, post in enumerate(chunk):
                name = str(post.get("name"))
                if name in yielded:  # matched an earlier query of this read: already there
                    continue
                yielded.add(name)
                batch.rows_read += 1
                if post.get("selftext") in _GONE or post.get("author") == "[deleted]":
                    batch.deleted.append(name)
                    continue
                outcome = self._item(post, f"{query!r} post #{start + index}")
                if isinstance(outcome, FeedbackItem):
                    batch.items.append(outcome)
                else:
                    batch.quarantined.append(outcome)
            last = max((_created(p) for p in chunk if _created(p) <= limit), default=None)
            if last is not None:
                cursors = {**cursors, query: last.isoformat()}
                batch.bookmark = Bookmark("created_utc", json.dumps(cursors, sort_keys=True))
            yield batch

    def _listing(
        self, client: HttpClient, query: str, since: datetime | None
    ) -> tuple[list[dict[str, Any]], int, bool]:
        """One query's posts at or after ``since``, the pages read, and whether it got there.

        Returns:
            The posts, the page count, and True when the listing went past ``since`` (an
            older post was listed), i.e. nothing between the cursor and now was cut off.
        """
        after: str | None = None
        posts: list[dict[str, Any]] = []
        pages = 0
        while True:
            body = client.get_json(self._path, self._params(query, after, self.options.limit))
            pages += 1
            data = body.json().get("data") or {}
            found = [c.get("data") or {} for c in data.get("children") or []]
            posts += [p for p in found if since is None or _created(p) >= since]
            if since is not None and found and _created(found[-1]) < since:
                return posts, pages, True
            after = data.get("after")
            if not after or not found:
                return posts, pages, False

    def _gap(self, query: str, since: datetime | None, listed: int, reached: bool) -> str | None:
        """A ``Batch.gaps`` line when the listing ended at its cap short of the cursor."""
        cap = self.options.listing_cap
        if reached or listed < _NEAR_CAP * cap:
            return None
        where = f"its bookmark ({since.isoformat()})" if since else "its first post"
        return (
            f"source {self.name!r}: query {query!r} listed {listed} posts, Reddit's listing "
            f"cap (about {cap} posts), without reaching {where}; posts older than the oldest "
            "listed may be lost for good. Shorten the query or run more often"
        )

    def _item(self, post: dict[str, Any], ref: str) -> FeedbackItem | QuarantinedRow:
        try:
            title = str(post.get("title") or "").strip()
            body = str(post.get("selftext") or "").strip()
            edited = post.get("edited")
            author = post.get("author_fullname") or post.get("author")
            return FeedbackItem(
                source=self.name,
                external_id=str(post["name"]),
                channel=Channel.SOCIAL,
                created_at=_created(post),
                updated_at=datetime.fromtimestamp(float(edited), UTC)
                if isinstance(edited, int | float) and not isinstance(edited, bool)
                else None,
                text="\n\n".join(part for part in (title, body) if part),
                title=title or None,
                language=self.options.language,
                product=self.options.product,
                segment={"subreddit": str(post.get("subreddit") or "")},
                customer_key=hash_customer(str(author), self._salt) if author else None,
                url=f"https://www.reddit.com{post['permalink']}" if post.get("permalink") else None,
            )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            return self._quarantine(post, ref, "invalid_row", str(error)[:1000])

    def _quarantine(
        self, post: dict[str, Any], ref: str, reason: str, detail: str
    ) -> QuarantinedRow:
        keep = {k: post.get(k) for k in ("name", "created_utc", "title", "subreddit")}
        return QuarantinedRow(source=self.name, row_ref=f"{ref} id={post.get('name')}",
                              reason=reason, detail=detail, raw=raw_json(keep))  # fmt: skip


def _created(post: dict[str, Any]) -> datetime:
    """When the post was made (``created_utc``, Unix seconds); the epoch when missing."""
    try:
        return datetime.fromtimestamp(float(post.get("created_utc") or 0), UTC)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, UTC)
