"""Analyst curation of themes (``configs/taxonomy.yaml``), applied after every fit.

Curation refers to themes by their **stable ID** (``vocflow.theme_state``) or by the label
the model gave them, so it survives refits: a refit keeps the IDs of themes that did not
change (``nlp.theme_matching``), and this module re-applies the same file every run.

Operations, applied in this order (``apply_taxonomy``):

1. ``seeds`` (guided themes): a name and example phrases. The examples' mean embedding is the
   seed centroid. If a theme's centroid is within ``seed_match_similarity`` of it, that theme
   is the seed (it takes the seed's name) provided it beats the next theme by
   ``seed_match_margin`` and no earlier seed took it; otherwise the items at least
   ``seed_assign_similarity`` close to the seed and closer to it than to their own theme's
   centroid form a new curated theme. Pinned themes that the fit did not find again are
   re-created the same way from their stored centroid.
2. ``split_off``: items whose text contains one of the keywords (whole words, any case;
   restricted to the ``from`` themes when given) move to a curated theme of that name.
3. ``merge``: the listed themes join ``into`` (optionally under a new label).
4. ``ignore``: the theme is dropped; its items count as unthemed.
5. ``rename`` (per theme entry) and the names of seeds and split-offs set the labels; a
   pinned theme keeps the label it had when it was pinned (passed in by the caller).

Curated themes (seeds, split-offs) get a stable ID of their own, keyed by their name
(``curated_ids``), so they too keep their ID from run to run.

Seed thresholds (multilingual-e5, measured 2026-11-23 on the Skytrax seat and NSMC fits):
the centroid of a seed's examples has cosine 0.93–0.97 with the theme that is about it
("legroom", "배우 연기", "지루한 스토리") and at most 0.89 with any theme when no theme is about
it ("Wi-Fi" on seat reviews): ``seed_match_similarity`` 0.93. The best theme beat the
second by 0.010 ("legroom") to 0.022 ("배우 연기"), but by 0.004 for "지루한 스토리", which
several NSMC themes are near: ``seed_match_margin`` 0.005. Item cosines to a seed
centroid run higher in Korean (median 0.87, a third of NSMC ≥ 0.88) than in English (median
0.81–0.85), hence ``seed_assign_similarity`` 0.90 plus the rule that an item must be closer
to the seed than to its own theme.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from nlp.protocols import Theme, ThemeResult
from nlp.theme_labels import distinctive_terms, select_representatives

ThemeRef = int | str


class ThemeCuration(BaseModel):
    """Curation of one discovered theme."""

    model_config = ConfigDict(extra="forbid")

    theme: ThemeRef = Field(description="Stable ID, or the label the model gave the theme.")
    rename: str | None = None
    pin: bool = False
    ignore: bool = False


class MergeRule(BaseModel):
    """Themes folded into one."""

    model_config = ConfigDict(extra="forbid")

    into: ThemeRef
    themes: list[ThemeRef]
    label: str | None = None


class SplitOffRule(BaseModel):
    """A curated theme made of the items that mention one of ``keywords``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    keywords: list[str] = Field(min_length=1)
    from_themes: list[ThemeRef] = Field(default_factory=list, alias="from")


class SeedTheme(BaseModel):
    """An expected theme, described by example phrases (guided topic)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    examples: list[str] = Field(min_length=1)


class Taxonomy(BaseModel):
    """The whole curation file (see ``configs/taxonomy.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    themes: list[ThemeCuration] = Field(default_factory=list)
    merge: list[MergeRule] = Field(default_factory=list)
    split_off: list[SplitOffRule] = Field(default_factory=list)
    seeds: list[SeedTheme] = Field(default_factory=list)
    seed_match_similarity: float = 0.93
    seed_match_margin: float = 0.005
    seed_assign_similarity: float = 0.90
    min_curated_size: int = Field(default=3, ge=1)

    @property
    def curated_names(self) -> list[str]:
        """Names of the curated themes the file defines (seeds and split-offs)."""
        return [s.name for s in self.seeds] + [s.name for s in self.split_off]

    @property
    def pinned(self) -> list[ThemeRef]:
        """References of pinned themes."""
        return [c.theme for c in self.themes if c.pin]


def load_taxonomy(path: Path | None) -> Taxonomy:
    """Reads a taxonomy file; a missing or empty file means no curation.

    Args:
        path: YAML file, or None.

    Returns:
        The validated taxonomy.

    Raises:
        pydantic.ValidationError: If the file has unknown keys or wrong types.
    """
    if path is None or not path.is_file():
        return Taxonomy()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Taxonomy.model_validate(data)


def _resolve(
    ref: ThemeRef, themes: Mapping[int, Theme], model_labels: Mapping[int, str]
) -> int | None:
    if isinstance(ref, int):
        return ref if ref in themes else None
    for theme_id, label in model_labels.items():
        if label == ref and theme_id in themes:
            return theme_id
    return None


def _contains_any(text: str, patterns: Sequence[re.Pattern[str]]) -> bool:
    return any(p.search(text) for p in patterns)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Whole words for Latin script; Korean keywords match as a prefix of a word, because
    # particles attach to the noun (환불 → 환불이, 환불을).
    escaped = re.escape(keyword.lower())
    if keyword.isascii():
        return re.compile(rf"(?<!\w){escaped}(?!\w)")
    return re.compile(rf"(?<!\w){escaped}")


def apply_taxonomy(
    result: ThemeResult,
    texts: Sequence[str],
    embeddings: np.ndarray,
    taxonomy: Taxonomy,
    *,
    curated_ids: Mapping[str, int],
    seed_centroids: Mapping[str, np.ndarray] | None = None,
    pinned: Mapping[int, tuple[str, np.ndarray | None]] | None = None,
    quotes_per_theme: int = 3,
) -> tuple[ThemeResult, dict[str, Any]]:
    """Applies the curation to a fit whose theme IDs are stable IDs (see module docstring).

    Args:
        result: Themes with stable IDs (labels as the model or the registry named them).
        texts: The fitted documents.
        embeddings: Their embeddings, rows L2-normalised.
        taxonomy: The curation.
        curated_ids: Stable ID of every name in ``taxonomy.curated_names``.
        seed_centroids: Normalised mean embedding of each seed's examples, by seed name.
        pinned: Stable ID → (label, stored centroid) of every pinned theme the registry knows.
        quotes_per_theme: Representative quotes for themes whose members changed.

    Returns:
        The curated result (themes re-sorted by size) and a log of what was applied and
        which references did not resolve.
    """
    assignments = result.assignments.copy()
    themes = {t.theme_id: t for t in result.themes}
    model_labels = {t.theme_id: t.label for t in result.themes}
    labels = dict(model_labels)
    changed: set[int] = set()
    log: dict[str, Any] = {"applied": [], "unresolved": []}

    def centroid_of(theme_id: int) -> np.ndarray | None:
        members = assignments == theme_id
        if not members.any():
            return None
        c = embeddings[members].mean(axis=0)
        return c / max(float(np.linalg.norm(c)), 1e-12)

    def grow_from(theme_id: int, centroid: np.ndarray, label: str) -> int:
        # Items close to the centroid and closer to it than to their own theme's centroid.
        own = {t: centroid_of(t) for t in themes if t != theme_id}
        sims = embeddings @ centroid
        moved: list[tuple[int, int]] = []
        for i in np.flatnonzero(sims >= taxonomy.seed_assign_similarity):
            current = int(assignments[i])
            own_c = own.get(current)
            if current == theme_id:
                continue
            if own_c is None or sims[i] > float(embeddings[i] @ own_c):
                moved.append((int(i), current))
        if len(moved) < taxonomy.min_curated_size and not (assignments == theme_id).any():
            return 0  # too few items to make a theme of
        for item, current in moved:
            assignments[item] = theme_id
            changed.add(current)
        themes.setdefault(theme_id, Theme(theme_id, label, (), 0, ()))
        labels[theme_id] = label
        changed.add(theme_id)
        return len(moved)

    # 1. Pinned themes the fit lost, then seeds.
    for theme_id, (label, centroid) in sorted((pinned or {}).items()):
        if theme_id not in themes and centroid is not None:
            n = grow_from(theme_id, np.asarray(centroid, dtype=np.float32), label)
            log["applied"].append({"op": "pin-restore", "theme": theme_id, "items": n})
    claimed: set[int] = set()
    for seed in taxonomy.seeds:
        seed_c = (seed_centroids or {}).get(seed.name)
        if seed_c is None:
            log["unresolved"].append({"op": "seed", "name": seed.name, "why": "no embedding"})
            continue
        sims = {t: float(c @ seed_c) for t in sorted(themes) if (c := centroid_of(t)) is not None}
        ranked = sorted(sims, key=lambda t: -sims[t])
        # The seed names a theme only if that theme is clearly the closest (a generic theme
        # is close to every seed) and no other seed has claimed it.
        if (
            ranked
            and ranked[0] not in claimed
            and sims[ranked[0]] >= taxonomy.seed_match_similarity
            and (
                len(ranked) == 1 or sims[ranked[0]] - sims[ranked[1]] >= taxonomy.seed_match_margin
            )
        ):
            labels[ranked[0]] = seed.name
            claimed.add(ranked[0])
            log["applied"].append({"op": "seed-found", "name": seed.name, "theme": ranked[0]})
            continue
        n = grow_from(curated_ids[seed.name], seed_c, seed.name)
        log["applied"].append({"op": "seed-grown", "name": seed.name, "items": n})

    # 2. Split-offs by keyword.
    for rule in taxonomy.split_off:
        sources = [_resolve(r, themes, model_labels) for r in rule.from_themes]
        allowed = {s for s in sources if s is not None}
        patterns = [_keyword_pattern(k) for k in rule.keywords]
        target = curated_ids[rule.name]
        hits = [
            i
            for i, text in enumerate(texts)
            if (not rule.from_themes or int(assignments[i]) in allowed)
            and _contains_any(text.lower(), patterns)
        ]
        if len(hits) >= taxonomy.min_curated_size:
            changed.update(int(assignments[i]) for i in hits)
            assignments[hits] = target
            themes.setdefault(target, Theme(target, rule.name, tuple(rule.keywords), 0, ()))
            labels[target] = rule.name
            changed.add(target)
        log["applied"].append({"op": "split-off", "name": rule.name, "items": len(hits)})

    # 3. Merges, 4. ignores, 5. renames.
    for merge in taxonomy.merge:
        into = _resolve(merge.into, themes, model_labels)
        if into is None:
            log["unresolved"].append({"op": "merge", "ref": merge.into})
            continue
        for ref in merge.themes:
            other = _resolve(ref, themes, model_labels)
            if other is None or other == into:
                log["unresolved"].append({"op": "merge", "ref": ref})
                continue
            assignments[assignments == other] = into
            themes.pop(other)
            log["applied"].append({"op": "merge", "theme": other, "into": into})
        changed.add(into)
        if merge.label:
            labels[into] = merge.label
    for entry in taxonomy.themes:
        resolved = _resolve(entry.theme, themes, model_labels)
        if resolved is None:
            if not entry.pin:  # a pinned theme may be restored above under its ID
                log["unresolved"].append({"op": "theme", "ref": entry.theme})
            continue
        theme_id = resolved
        if entry.ignore:
            assignments[assignments == theme_id] = -1
            themes.pop(theme_id)
            log["applied"].append({"op": "ignore", "theme": theme_id})
            continue
        if entry.rename:
            labels[theme_id] = entry.rename
            log["applied"].append({"op": "rename", "theme": theme_id, "label": entry.rename})
        elif entry.pin and pinned and theme_id in pinned:
            labels[theme_id] = pinned[theme_id][0]

    curated = _rebuild(themes, labels, assignments, changed, texts, embeddings, quotes_per_theme)
    outliers = float((assignments < 0).mean()) if len(assignments) else 0.0
    info = dict(result.info)
    info["taxonomy"] = log
    return (
        ThemeResult(
            assignments=assignments,
            themes=curated,
            outlier_share_initial=result.outlier_share_initial,
            outlier_share=outliers,
            info=info,
        ),
        log,
    )


def _rebuild(
    themes: Mapping[int, Theme],
    labels: Mapping[int, str],
    assignments: np.ndarray,
    changed: set[int],
    texts: Sequence[str],
    embeddings: np.ndarray,
    quotes_per_theme: int,
) -> list[Theme]:
    out = []
    for theme_id, theme in themes.items():
        members = np.flatnonzero(assignments == theme_id)
        if len(members) == 0:
            continue
        quotes = theme.representative_idx
        keywords = theme.keywords
        if theme_id in changed or len(members) != theme.size:
            quotes = select_representatives(members, embeddings, texts, quotes_per_theme)
            if not keywords:
                keywords = tuple(distinctive_terms(texts, members))
        out.append(
            replace(
                theme,
                label=labels.get(theme_id, theme.label),
                keywords=keywords,
                size=len(members),
                representative_idx=quotes,
            )
        )
    out.sort(key=lambda t: (-t.size, t.theme_id))
    return out
