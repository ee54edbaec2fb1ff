"""Typed run parameters: the form analysts fill in when they start a run from the Prefect UI."""

from __future__ import annotations

import hashlib
import re
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

    def report_scope(self) -> str | None:
        """What an ad-hoc run covers, as a folder-name suffix; None for the full scope.

        ``reports/latest/`` belongs to the full scope (every source, language and the
        configured window), the report product teams open; a run narrowed by source, language
        or window links its report as ``reports/latest-<scope>`` instead, e.g.
        ``latest-demo-nsmc_ko_2026-10-01..2026-10-31``.
        """
        parts = ["+".join(self.sources)] if self.sources else []
        parts += ["+".join(lang.value for lang in self.languages)] if self.languages else []
        if self.since or self.until:
            parts.append(f"{self.since or ''}..{self.until or ''}")
        elif self.window_days:
            parts.append(f"last-{self.window_days}d")
        if not parts:
            return None
        slug = re.sub(r"[^A-Za-z0-9._+-]+", "-", "_".join(parts)).strip("-.") or "scope"
        if len(slug) > 80:  # file-name limits; the hash keeps long scopes apart
            digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
            slug = f"{slug[:71]}-{digest}"
        return slug

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
