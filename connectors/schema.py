"""The one feedback shape every connector produces, and the quarantine record for bad rows."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Channel(StrEnum):
    """Where the feedback was written."""

    REVIEW = "review"
    SOCIAL = "social"
    TICKET = "ticket"
    SURVEY = "survey"


class ScoreType(StrEnum):
    """Kind of numeric score attached to a feedback item."""

    NPS = "nps"  # 0-10 likelihood to recommend
    CSAT = "csat"  # 1-5 satisfaction
    CES = "ces"  # 1-7 customer effort (CES 2.0 agreement scale)
    STARS = "stars"  # 1-5 star rating


SCORE_SCALES: dict[ScoreType, tuple[float, float]] = {
    ScoreType.NPS: (0.0, 10.0),
    ScoreType.CSAT: (1.0, 5.0),
    ScoreType.CES: (1.0, 7.0),
    ScoreType.STARS: (1.0, 5.0),
}


class Score(BaseModel):
    """A numeric score on a known scale.

    Attributes:
        type: Which scale the value is on.
        value: The value, inside the scale's bounds.
        derived_from: Set when the value was derived from another measure (e.g. an NPS
            score taken from a 1-10 rating); reports state it.
    """

    model_config = ConfigDict(frozen=True)

    type: ScoreType
    value: float
    derived_from: str | None = None

    @model_validator(mode="after")
    def _check_range(self) -> Score:
        low, high = SCORE_SCALES[self.type]
        if math.isnan(self.value) or not low <= self.value <= high:
            raise ValueError(f"{self.type.value} score {self.value} outside {low:g}-{high:g}")
        return self


class Message(BaseModel):
    """One message of a ticket thread.

    Attributes:
        author_role: "customer", "agent" or "system"; only customer text is analysed.
        created_at: When it was written (UTC).
        text: Message body.
        internal: True for internal notes, which never count as customer text.
    """

    model_config = ConfigDict(frozen=True)

    author_role: str
    created_at: datetime
    text: str
    internal: bool = False

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return ensure_utc(value)


class FeedbackItem(BaseModel):
    """One piece of customer feedback, whatever system it came from.

    Attributes:
        source: Configured source instance name (e.g. "zendesk-eu", "demo-skytrax").
        external_id: The item's id in the source system (primary key within the source).
        channel: Review, social post, support ticket or survey response.
        created_at: When the customer wrote it (UTC-aware).
        updated_at: Last change in the source (UTC-aware); later wins on re-ingest.
        text: Customer-written text (for tickets: the customer messages joined).
        title: Optional title/subject.
        score: Optional numeric score with its scale.
        language: ISO 639-1 code if the source knows it; detected later otherwise.
        product: Product, app or brand the feedback is about.
        segment: Free metadata usable as segments (country, plan, platform, ...).
        customer_key: Hashed customer identifier (never the raw id), see ``hash_customer``.
        url: Link back to the item in the source system.
        thread: Ticket messages, customer and agent, in order.
    """

    model_config = ConfigDict(frozen=True)

    source: str = Field(min_length=1)
    external_id: str = Field(min_length=1)
    channel: Channel
    created_at: datetime
    updated_at: datetime | None = None
    text: str
    title: str | None = None
    score: Score | None = None
    language: str | None = None
    product: str | None = None
    segment: dict[str, str] = Field(default_factory=dict)
    customer_key: str | None = None
    url: str | None = None
    thread: tuple[Message, ...] = ()

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else ensure_utc(value)

    @field_validator("text")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError("empty text")
        return value

    @property
    def item_key(self) -> str:
        """Stable key for deduplication: the same source item always maps to the same key."""
        return item_key(self.source, self.external_id)

    @property
    def effective_updated_at(self) -> datetime:
        """``updated_at`` if the source reports edits, else ``created_at``."""
        return self.updated_at or self.created_at


class QuarantinedRow(BaseModel):
    """A source row that could not become a ``FeedbackItem``, kept with the reason.

    Attributes:
        source: Source instance name.
        row_ref: Where the row was (file and line, API page and index, ...).
        reason: Machine-readable reason code, e.g. "invalid_date".
        detail: Human-readable detail of the reason.
        raw: The raw row as JSON text (kept in the store only, never in reports).
    """

    source: str
    row_ref: str
    reason: str
    detail: str
    raw: str

    @property
    def row_hash(self) -> str:
        """Content hash so re-reading the same bad row does not quarantine it twice."""
        digest = hashlib.sha256(f"{self.source}\x1f{self.row_ref}\x1f{self.raw}".encode())
        return digest.hexdigest()[:32]


def item_key(source: str, external_id: str) -> str:
    """Derives the stable item key from a source name and the item's id in that source."""
    return hashlib.sha256(f"{source}\x1f{external_id}".encode()).hexdigest()[:32]


def hash_customer(raw_customer_id: str, salt: str) -> str:
    """Hashes a customer identifier with a secret salt (HMAC-SHA256, 32 hex chars).

    The same customer maps to the same key across sources and runs, without the raw id
    (an email, a user name) ever being stored.
    """
    normalized = raw_customer_id.strip().lower()
    return hmac.new(salt.encode(), normalized.encode(), hashlib.sha256).hexdigest()[:32]


def ensure_utc(value: datetime) -> datetime:
    """Returns an aware UTC datetime; naive values are rejected, not guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime (no timezone): declare the timezone in the mapping")
    return value.astimezone(UTC)


def raw_json(row: dict[str, Any]) -> str:
    """Serialises a raw source row for the quarantine table."""
    return json.dumps(row, ensure_ascii=False, default=str, sort_keys=True)
