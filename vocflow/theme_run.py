"""One run's theme step: refit or assign incrementally, stable IDs, curation, areas, clauses.

``run_themes`` is what ``vocflow.analysis.fit_themes`` calls when it is given a store:

1. Refit rule (``nlp.theme_matching.RefitRule``): refit on the first run, on schedule, on
   drift or volume; otherwise only items no earlier run saw are assigned, to the nearest known
   theme centroid, and every other item keeps its theme (its stored stable ID).
2. After a refit, ``match_themes`` maps the fit's themes onto the registry: matched themes
   keep their stable ID and label, the rest get new IDs; lineage events are stored.
3. The taxonomy file (``nlp.taxonomy``) is applied to the stable-ID result, every run.
4. Areas (``nlp.theme_hierarchy``) group the final themes.
5. Clause-level themes (``nlp.theme_clauses``): the clauses the sentiment step stored
   (``vocflow.clause_store``), each with its own sentiment, are assigned to themes.

What the report needs is in ``ThemeResult.info``: ``lineage`` (stable ID → event dict),
``changes`` (all events of the run, retired and merged themes included, with labels),
``areas`` (list of area dicts) and ``area_of`` (stable ID → area label), ``theme_mode``
and ``theme_mode_reason``, and ``clauses`` (per theme: mentions, items, sentiment mix).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from nlp.protocols import Embedder, Theme, ThemeModel, ThemeResult
from nlp.taxonomy import Taxonomy, load_taxonomy
from nlp.theme_hierarchy import area_of, build_areas_by_group
from nlp.theme_labels import select_representatives
from nlp.theme_matching import (
    LineageEvent,
    MatchSettings,
    RefitRule,
    ThemeSignature,
    assign_to_known,
    match_themes,
    refit_decision,
    sticky_assignments,
)
from nlp.theme_refine import theme_centroids
from vocflow.settings import Settings
from vocflow.store import Store
from vocflow.theme_curation import apply_curation
from vocflow.theme_state import ACTIVE, RegistryTheme, ThemeState, clause_themes


@dataclass
class ThemeRunConfig:
    """Settings of one theme step (from ``ThemeSettings``).

    Attributes:
        run_id: Current run.
        refit_rule: When to refit.
        match: Matching thresholds.
        taxonomy: Curation to apply.
        incremental_similarity: Cosine a new item needs to join a known theme.
        sticky_margin: After a refit, an item keeps its previous theme when that theme's
            centroid is within this cosine of the chosen one (``sticky_assignments``);
            None = no stickiness.
        force_refit: Refit whatever the rule says.
        clause_version: Version the sentiment step stored clauses under
            (``vocflow.clause_store.clause_version``); None = no clause-level themes.
        clause_similarity: Cosine a clause needs to join a theme.
        max_clauses: Most clauses kept per item (the rest are ignored).
        quotes_per_theme: Representative quotes per theme.
        now: Current time (tests pass a fixed one).
    """

    run_id: str
    refit_rule: RefitRule = field(default_factory=RefitRule)
    match: MatchSettings = field(default_factory=MatchSettings)
    taxonomy: Taxonomy = field(default_factory=Taxonomy)
    incremental_similarity: float = 0.92
    sticky_margin: float | None = 0.02
    force_refit: bool = False
    clause_version: str | None = None
    clause_similarity: float = 0.9
    max_clauses: int = 8
    quotes_per_theme: int = 3
    now: datetime | None = None


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _centroids(
    assignments: np.ndarray, emb: np.ndarray, ids: Sequence[int]
) -> dict[int, np.ndarray]:
    ids = [t for t in ids if (assignments == t).any()]
    if not ids:
        return {}
    return dict(zip(ids, theme_centroids(assignments, emb, ids), strict=True))


def run_themes(
    store: Store,
    model: ThemeModel,
    items: pd.DataFrame,
    embeddings: np.ndarray,
    config: ThemeRunConfig,
    embedder: Embedder | None = None,
) -> ThemeResult:
    """Runs the theme step for one run (see module docstring).

    Args:
        store: Open, writable store (theme state lives there).
        model: Theme model used when refitting.
        items: Items with ``item_key``, ``text_clean`` and ``language``.
        embeddings: Their embeddings.
        config: Settings of the step.
        embedder: Embeds taxonomy seed examples and clauses (cached in the store).

    Returns:
        The curated result with stable theme IDs; see the module docstring for ``info``.
    """
    state = ThemeState(store)
    keys = items["item_key"].astype(str).tolist()
    emb = _normalise(embeddings)
    known, previous, new_idx, probe, refit, reason = _decide(state, keys, emb, config)
    if refit:
        base, events = _refit(state, model, items, emb, known, previous, config)
    else:
        base, events = _incremental(state, items, emb, known, previous, new_idx, probe, config)
    state.save_item_state(config.run_id, keys, base.assignments)

    result, centroids = apply_curation(
        state, base, items["text_clean"].tolist(), emb, config.taxonomy, embedder,
        config.run_id, config.quotes_per_theme,
    )  # fmt: skip
    info = dict(result.info)
    info.update(_describe(state, result, centroids, events, items["language"].tolist()))
    info.update(theme_mode="refit" if refit else "incremental", theme_mode_reason=reason)
    if config.clause_version is not None and embedder is not None:
        info["clauses"] = clause_themes(
            store, config.run_id, result.assignments, items, centroids, embedder,
            config.clause_version, config.clause_similarity, config.max_clauses,
        )  # fmt: skip
    state.save_lineage(config.run_id, events)
    state.record_fit(
        config.run_id, "refit" if refit else "incremental", reason, len(keys), len(new_idx),
        {"n_themes": len(result.themes), "outlier_share": result.outlier_share}, config.now,
    )  # fmt: skip
    return replace(result, info=info)


def _decide(
    state: ThemeState, keys: list[str], emb: np.ndarray, config: ThemeRunConfig
) -> tuple[list[RegistryTheme], np.ndarray, np.ndarray, np.ndarray, bool, str]:
    """Loads the known themes and applies the refit rule."""
    known = [
        r for r in state.registry(status=ACTIVE, origin="fitted")
        if r.centroid is not None and len(r.centroid) == emb.shape[1]
    ]  # fmt: skip
    previous = state.previous_assignments(keys)
    new_idx = np.flatnonzero(~state.known_items(keys))
    vectors = [np.asarray(r.centroid) for r in known]
    matrix = np.vstack(vectors) if vectors else np.zeros((0, emb.shape[1]))
    ids = [r.theme_id for r in known]
    probe, _ = assign_to_known(emb[new_idx], matrix, ids, config.incremental_similarity)
    # The yardstick of the drift test: how often the items already known miss every centroid.
    known_idx = np.setdiff1d(np.arange(len(keys)), new_idx)
    known_probe, _ = assign_to_known(emb[known_idx], matrix, ids, config.incremental_similarity)
    last = state.last_refit()
    days = None
    if last is not None:
        age = (config.now or datetime.now(UTC)) - pd.Timestamp(last["created_at"]).to_pydatetime()
        days = age.total_seconds() / 86400
    refit, reason = refit_decision(
        config.refit_rule,
        forced=config.force_refit,
        n_known_themes=len(known),
        days_since_refit=days,
        n_new=len(new_idx),
        n_at_last_refit=int(last["n_items"]) if last is not None else 0,
        new_outlier_share=float((probe < 0).mean()) if len(new_idx) else 0.0,
        known_outlier_share=float((known_probe < 0).mean()) if len(known_idx) else 0.0,
        n_known_items=len(known_idx),
    )
    return known, previous, new_idx, probe, refit, reason


def _describe(
    state: ThemeState, result: ThemeResult, centroids: dict[int, np.ndarray],
    events: list[LineageEvent], languages: list[str],
) -> dict[str, Any]:  # fmt: skip
    """What the report needs: lineage per theme, all changes, and the areas."""
    votes: dict[int, Counter[str]] = {}
    for theme_id, language in zip(result.assignments.tolist(), languages, strict=True):
        votes.setdefault(int(theme_id), Counter())[str(language)] += 1
    group_of = {t: c.most_common(1)[0][0] for t, c in votes.items() if t >= 0}
    areas = build_areas_by_group(result.themes, centroids, group_of)
    labels = {r.theme_id: r.label for r in state.registry(status=None)}
    labels.update({t.theme_id: t.label for t in result.themes})
    gone = ("retired", "merged")
    return {
        "lineage": {e.theme_id: _event_dict(e, labels) for e in events if e.event not in gone},
        "changes": [_event_dict(e, labels) for e in events],
        "areas": [
            {"area_id": a.area_id, "label": a.label, "theme_ids": list(a.theme_ids), "size": a.size}
            for a in areas
        ],
        "area_of": {t: a.label for t, a in area_of(areas).items()},
    }


def _event_dict(event: LineageEvent, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "theme_id": event.theme_id,
        "label": labels.get(event.theme_id, f"theme {event.theme_id}"),
        "event": event.event,
        "related": [{"theme_id": r, "label": labels.get(r, f"theme {r}")} for r in event.related],
        "size_before": event.size_before,
        "size_after": event.size_after,
    }


def _unique_label(label: str, keywords: Sequence[str], taken: set[str], theme_id: int) -> str:
    if label not in taken:
        return label
    for keyword in keywords:
        candidate = f"{label} · {keyword}"
        if keyword not in label and candidate not in taken:
            return candidate
    return f"{label} #{theme_id}"


def _refit(
    state: ThemeState, model: ThemeModel, items: pd.DataFrame, emb: np.ndarray,
    known: list[RegistryTheme], previous: np.ndarray, config: ThemeRunConfig,
) -> tuple[ThemeResult, list[LineageEvent]]:  # fmt: skip
    raw = model.fit(items["text_clean"].tolist(), emb, items["language"].tolist())
    local_centroids = _centroids(raw.assignments, emb, [t.theme_id for t in raw.themes])
    fitted = [
        ThemeSignature(t.theme_id, t.keywords, local_centroids[t.theme_id], t.size, t.label)
        for t in raw.themes
        if t.theme_id in local_centroids
    ]
    known_sigs = [
        ThemeSignature(r.theme_id, r.keywords, np.asarray(r.centroid), r.size, r.label)
        for r in known
    ]
    mapping = match_themes(
        known_sigs, fitted, state.next_id(), config.match, previous, raw.assignments
    )
    by_id = {r.theme_id: r for r in known}
    stable = np.array([mapping.stable_ids.get(int(t), -1) for t in raw.assignments], dtype=np.int64)
    if config.sticky_margin is not None:
        stable = sticky_assignments(previous, stable, emb, config.sticky_margin)
    sizes = Counter(int(t) for t in stable.tolist() if t >= 0)
    centroids = _centroids(stable, emb, sorted(sizes))
    texts = items["text_clean"].tolist()
    themes: list[Theme] = []
    rows: list[RegistryTheme] = []
    # Kept labels first, so that a new theme never takes the label of a surviving one.
    taken = {by_id[s].label for s in mapping.stable_ids.values() if s in by_id}
    for theme in raw.themes:
        sid = mapping.stable_ids[theme.theme_id]
        if sizes[sid] == 0:
            continue  # every member stayed with its previous theme
        old = by_id.get(sid)
        label = (
            old.label if old is not None else _unique_label(theme.label, theme.keywords, taken, sid)
        )
        taken.add(label)
        quotes = theme.representative_idx
        if any(stable[q] != sid for q in quotes) or sizes[sid] != theme.size:
            members = np.flatnonzero(stable == sid)
            quotes = select_representatives(members, emb, texts, config.quotes_per_theme)
        themes.append(
            replace(theme, theme_id=sid, label=label, size=sizes[sid], representative_idx=quotes)
        )
        rows.append(
            RegistryTheme(
                sid, label, theme.keywords, centroids[sid], sizes[sid], ACTIVE, "fitted", None,
                old.first_run_id if old is not None else config.run_id, config.run_id,
            )
        )  # fmt: skip
    themes.sort(key=lambda t: (-t.size, t.theme_id))
    for event in mapping.events:
        if event.event in ("retired", "merged"):
            old = by_id[event.theme_id]
            status = "merged" if event.event == "merged" else "retired"
            rows.append(replace(old, status=status, size=0, last_run_id=config.run_id))
    state.save_registry(rows)
    # Sizes after stickiness, so that the report's "40 → 55" matches the theme's volume.
    events = [
        e if e.event in ("retired", "merged") else replace(e, size_after=sizes[e.theme_id])
        for e in mapping.events
    ]
    share = float((stable < 0).mean()) if len(stable) else 0.0
    info = {**raw.info, "outlier_share": share}
    return replace(raw, assignments=stable, themes=themes, outlier_share=share, info=info), events


def _incremental(
    state: ThemeState, items: pd.DataFrame, emb: np.ndarray, known: list[RegistryTheme],
    previous: np.ndarray, new_idx: np.ndarray, probe: np.ndarray, config: ThemeRunConfig,
) -> tuple[ThemeResult, list[LineageEvent]]:  # fmt: skip
    active = {r.theme_id for r in known}
    assignments = np.where(np.isin(previous, list(active)), previous, -1)
    assignments[new_idx] = probe
    texts = items["text_clean"].tolist()
    sizes = Counter(int(t) for t in assignments.tolist() if t >= 0)
    themes: list[Theme] = []
    events: list[LineageEvent] = []
    rows: list[RegistryTheme] = []
    for r in known:
        size = sizes.get(r.theme_id, 0)
        ratio = size / max(r.size, 1)
        event = (
            "grew"
            if ratio >= config.match.grow_ratio
            else "shrank"
            if ratio <= 1 / config.match.grow_ratio
            else "unchanged"
        )
        events.append(LineageEvent(r.theme_id, event, (), r.size, size))
        if size == 0:
            continue
        members = np.flatnonzero(assignments == r.theme_id)
        quotes = select_representatives(members, emb, texts, config.quotes_per_theme)
        themes.append(Theme(r.theme_id, r.label, r.keywords, size, quotes))
        rows.append(replace(r, size=size, last_run_id=config.run_id))
    state.save_registry(rows)
    themes.sort(key=lambda t: (-t.size, t.theme_id))
    share = float((assignments < 0).mean()) if len(assignments) else 0.0
    info: dict[str, object] = {
        "n_docs": len(assignments),
        "n_new_items": len(new_idx),
        "n_themes": len(themes),
        "outlier_share": share,
    }
    return ThemeResult(assignments, themes, share, share, info), events


def config_from_settings(
    settings: Settings, run_id: str, clause_version: str | None
) -> ThemeRunConfig:
    """Builds the theme step's config from vocflow settings (taxonomy file read here)."""
    themes = settings.themes
    return ThemeRunConfig(
        run_id=run_id,
        refit_rule=RefitRule(
            every_days=themes.refit_every_days,
            drift_excess_share=themes.drift_excess_share,
            max_new_share=themes.max_new_share,
        ),
        match=MatchSettings(min_score=themes.match_min_score),
        taxonomy=load_taxonomy(settings.resolve(themes.taxonomy) if themes.taxonomy else None),
        incremental_similarity=themes.incremental_similarity,
        clause_version=clause_version,
        clause_similarity=themes.clause_similarity,
    )


def report_fields(result: ThemeResult) -> dict[str, Any]:
    """The theme areas and changes since the last run, as ``outputs.report.Report`` fields."""
    return {
        "theme_areas": list(result.info.get("areas") or []),  # type: ignore[call-overload]
        "theme_changes": list(result.info.get("changes") or []),  # type: ignore[call-overload]
    }
