"""Typed run parameters: the form analysts fill in when they start a run from the Prefect UI."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Language(StrEnum):
    """Languages vocflow analyses."""

    KO = "ko"
    EN = "en"


class RunParameters(BaseModel):
    """Parameters of one vocflow run. Empty fields fall back to configs/vocflow.yaml."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(
        default_factory=list,
        description="Source names from configs/ to ingest and analyse; empty = all enabled.",
    )
    since: date | None = Field(
        default=None, description="First day of the analysis window (UTC, inclusive)."
    )
    until: date | None = Field(
        default=None, description="Last day of the analysis window (UTC, inclusive)."
    )
    window_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Analyse the last N days up to `until` (or today) when `since` is empty.",
    )
    languages: list[Language] = Field(
        default_factory=list, description="Languages to analyse; empty = the configured ones."
    )
    min_theme_size: int | None = Field(
        default=None, ge=3, le=1000, description="Smallest theme, in items."
    )
    top_n: int | None = Field(
        default=None, ge=1, le=100, description="Pain points listed first in the report."
    )
    ingest: bool = Field(
        default=True, description="Pull new feedback from the sources before analysing."
    )
    analyse: bool = Field(
        default=True,
        description=(
            "Analyse and report after ingesting. Off = a backfill: ingest and embed only, in "
            "bounded memory; the next run analyses."
        ),
    )

    @model_validator(mode="after")
    def _window_order(self) -> RunParameters:
        if self.since and self.until and self.since > self.until:
            raise ValueError("`since` is after `until`")
        return self

    def window(self, default_days: int | None) -> tuple[datetime | None, datetime | None]:
        """Returns the UTC ``[start, end)`` of the analysis window (None = open)."""
        end = (
            datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC)
            if self.until
            else None
        )
        if self.since:
            return datetime.combine(self.since, time(), tzinfo=UTC), end
        days = self.window_days or default_days
        if days is None:
            return None, end
        anchor = end or datetime.now(UTC)
        return anchor - timedelta(days=days), end
