"""Change since the last run: a small ``headline.json`` per bundle and the deltas against it.

Each report bundle stores its headline figures and pain-point ranks. The next run of the
same scope (same sources, languages and window rule) reads the newest earlier one and the
renderers show the change. Runs of another scope (an ad-hoc re-run for one source or a
fixed window) are never compared, since their numbers describe other customers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from outputs.report import Report

HEADLINE_FILE = "headline.json"
_SCOPE_PARAMS = ("sources", "languages", "window_days", "since", "until")


class Headline(BaseModel):
    """What a later run compares itself with."""

    run_id: str
    generated_at: AwareDatetime
    scope: dict[str, Any] = Field(default_factory=dict)
    figures: dict[str, float] = Field(default_factory=dict)
    ranks: dict[int, int] = Field(default_factory=dict)  # theme_id -> rank


class Changes(BaseModel):
    """This run against the previous run of the same scope."""

    previous_run_id: str
    previous_at: AwareDatetime
    figures: dict[str, float] = Field(default_factory=dict)  # key -> this minus previous
    previous_ranks: dict[int, int] = Field(default_factory=dict)

    def delta(self, key: str) -> float | None:
        """Change of one headline figure (None when either run lacks it)."""
        return self.figures.get(key)

    def rank_move(self, theme_id: int, rank: int) -> str:
        """Short rank movement for people: "new", "↑3", "↓1" or "=" (same rank)."""
        before = self.previous_ranks.get(theme_id)
        if before is None:
            return "new"
        if before == rank:
            return "="
        return f"↑{before - rank}" if before > rank else f"↓{rank - before}"


def scope_of(report: Report) -> dict[str, Any]:
    """The run parameters that decide which customers a report describes."""
    params = report.run_summary.get("params") or {}
    return {key: params.get(key) for key in _SCOPE_PARAMS}


def headline_figures(report: Report) -> dict[str, float]:
    """Headline figures by key: items, negative share (%), NPS and the other metrics shown."""
    k = report.kpis
    figures = {
        "items": float(k.n_items),
        "negative_pct": 100 * k.sentiment_mix.get("negative", 0.0),
        "positive_pct": 100 * k.sentiment_mix.get("positive", 0.0),
    }
    if k.nps is not None:
        figures["nps"] = k.nps
    for m in k.metrics:  # NPS above is the one the reports show in its own card
        if m.key != "nps" and m.value is not None and not m.too_few:
            figures[m.key] = m.value
    return figures


def headline(report: Report) -> Headline:
    """The headline a later run of the same scope compares itself with."""
    return Headline(
        run_id=report.run_id,
        generated_at=report.generated_at,
        scope=scope_of(report),
        figures=headline_figures(report),
        ranks={t.theme_id: t.rank for t in report.pain_points},
    )


def _read(path: Path) -> Headline | None:
    try:
        return Headline.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None  # a bundle from before this file existed, or a damaged one: no delta


def previous_headline(reports_dir: Path, report: Report) -> Headline | None:
    """The newest earlier headline of the same scope under ``reports_dir``.

    Args:
        reports_dir: Root folder of all bundles.
        report: This run's report.

    Returns:
        The headline, or None on a first run or when no earlier run had this scope.
    """
    scope = json.loads(json.dumps(scope_of(report), default=str))
    best: Headline | None = None
    for path in Path(reports_dir).glob(f"*/{HEADLINE_FILE}"):
        folder = path.parent.name
        # latest/ copies a run folder and latest-<scope> links to one: each run counts once.
        if (
            folder.startswith((".", "latest"))
            or path.parent.is_symlink()
            or (folder == report.run_id)
        ):
            continue
        found = _read(path)
        if found is None or found.generated_at >= report.generated_at or found.scope != scope:
            continue
        if best is None or found.generated_at > best.generated_at:
            best = found
    return best


def changes_since(report: Report, previous: Headline | None) -> Changes | None:
    """Deltas of the headline figures and the previous ranks, or None without a previous run."""
    if previous is None:
        return None
    now = headline_figures(report)
    deltas = {k: v - previous.figures[k] for k, v in now.items() if k in previous.figures}
    return Changes(
        previous_run_id=previous.run_id,
        previous_at=previous.generated_at,
        figures=deltas,
        previous_ranks=previous.ranks,
    )
