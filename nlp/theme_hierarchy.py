"""Two-level theme view: a few top-level areas, each a group of related themes.

Themes are grouped by Ward clustering of their centroids (unit vectors, so Euclidean distance
orders pairs like cosine distance; Ward keeps the areas of comparable weight where average
linkage leaves one huge area and singletons). The number of areas grows slowly with the
number of themes, ``round(sqrt(n_themes / 2))`` clipped to ``[min_areas, max_areas]``: 15
themes → 3 areas, 60 → 5, 100+ → 7–8. Ward has no randomness, so the same themes always
give the same areas.

An area's name is made of the keywords its themes share and other areas do not use: each
keyword scores ``Σ theme size × rank weight`` within the area (rank weight 1/(1+rank)),
multiplied by the share of the area's themes that have it, and divided by one plus the
keyword's score in the other areas. The two best words make the name ("card · payment").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.protocols import Theme
from nlp.theme_labels import LABEL_SEPARATOR, word_key


@dataclass(frozen=True)
class Area:
    """A top-level group of themes.

    Attributes:
        area_id: 0..k-1, largest area first.
        label: Readable name from the shared keywords.
        theme_ids: Member themes, largest first.
        size: Items in the member themes.
    """

    area_id: int
    label: str
    theme_ids: tuple[int, ...]
    size: int


def n_areas(n_themes: int, min_areas: int = 2, max_areas: int = 8) -> int:
    """Number of areas for ``n_themes`` themes (see module docstring)."""
    if n_themes <= min_areas:
        return max(n_themes, 1) if n_themes else 0
    return int(min(max(round(math.sqrt(n_themes / 2)), min_areas), max_areas, n_themes))


def build_areas(
    themes: Sequence[Theme],
    centroids: Mapping[int, np.ndarray],
    min_areas: int = 2,
    max_areas: int = 8,
    label_words: int = 2,
) -> list[Area]:
    """Groups themes into areas and names them (see module docstring).

    Args:
        themes: Themes to group (all must have a centroid).
        centroids: L2-normalised centroid per theme ID.
        min_areas: Fewest areas (when there are at least that many themes).
        max_areas: Most areas.
        label_words: Words in an area's name.

    Returns:
        Areas, largest first.
    """
    themes = [t for t in themes if t.theme_id in centroids]
    k = n_areas(len(themes), min_areas, max_areas)
    if k == 0:
        return []
    if k == 1:
        groups = [0] * len(themes)
    else:
        from sklearn.cluster import AgglomerativeClustering

        x = np.vstack([centroids[t.theme_id] for t in themes]).astype(np.float64)
        groups = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x).tolist()
    members: dict[int, list[Theme]] = defaultdict(list)
    for theme, group in zip(themes, groups, strict=True):
        members[int(group)].append(theme)
    ordered = sorted(
        members.values(), key=lambda ts: (-sum(t.size for t in ts), min(t.theme_id for t in ts))
    )
    names = area_labels([[t for t in ts] for ts in ordered], label_words)
    return [
        Area(
            area_id=i,
            label=names[i],
            theme_ids=tuple(t.theme_id for t in sorted(ts, key=lambda t: (-t.size, t.theme_id))),
            size=sum(t.size for t in ts),
        )
        for i, ts in enumerate(ordered)
    ]


def _word_scores(
    themes: Sequence[Theme],
) -> tuple[dict[str, float], dict[str, int], dict[str, str]]:
    score: dict[str, float] = defaultdict(float)
    theme_count: dict[str, int] = defaultdict(int)
    surface: dict[str, str] = {}
    for theme in themes:
        seen: set[str] = set()
        for rank, keyword in enumerate(theme.keywords):
            for word in keyword.split():
                key = word_key(word)
                surface.setdefault(key, word)
                score[key] += theme.size / (1 + rank)
                if key not in seen:
                    theme_count[key] += 1
                    seen.add(key)
    return score, theme_count, surface


def area_labels(groups: Sequence[Sequence[Theme]], label_words: int = 2) -> list[str]:
    """Names each group of themes from their shared, distinctive keywords.

    Args:
        groups: Themes per area.
        label_words: Words per name.

    Returns:
        One name per group; groups without keywords are named after their largest theme's
        label, and a repeated name gets the next best word.
    """
    stats = [_word_scores(g) for g in groups]
    names: list[str] = []
    for i, group in enumerate(groups):
        score, count, surface = stats[i]
        others: dict[str, float] = defaultdict(float)
        for j, (other_score, _, _) in enumerate(stats):
            if j != i:
                for key, value in other_score.items():
                    others[key] += value
        total_in = sum(score.values()) or 1.0
        total_out = sum(others.values()) or 1.0
        ranked = sorted(
            score,
            key=lambda w: (
                -(score[w] / total_in) * (count[w] / len(group)) / (1 + others[w] / total_out),
                w,
            ),
        )
        words = [surface[w] for w in ranked]
        name = LABEL_SEPARATOR.join(words[:label_words])
        extra = label_words
        while name in names and extra < len(words):
            name = LABEL_SEPARATOR.join(words[: label_words - 1] + [words[extra]])
            extra += 1
        if not name:
            largest = max(group, key=lambda t: (t.size, -t.theme_id))
            name = largest.label
        if name in names:
            name = f"{name} ({i + 1})"
        names.append(name)
    return names


def area_of(areas: Sequence[Area]) -> dict[int, Area]:
    """Maps each theme ID to its area."""
    return {theme_id: area for area in areas for theme_id in area.theme_ids}


def build_areas_by_group(
    themes: Sequence[Theme], centroids: Mapping[int, np.ndarray], group_of: Mapping[int, str]
) -> list[Area]:
    """Builds areas within each group of themes (e.g. per language), largest group first.

    Multilingual embeddings keep languages apart (themes are fitted per language, see
    ``nlp.theme_partition``), so areas over all themes would split by language first and
    leave one area per language. Measured on the demo (18 English and 3 Korean themes, 3
    areas over all): one area held 17 of the English themes.

    Args:
        themes: Themes.
        centroids: L2-normalised centroid per theme ID.
        group_of: Group (language) of each theme; themes without one form their own group.

    Returns:
        Areas of all groups, numbered 0..k-1 in order.
    """
    groups: dict[str, list[Theme]] = defaultdict(list)
    for theme in themes:
        groups[group_of.get(theme.theme_id, "")].append(theme)
    ordered = sorted(groups.items(), key=lambda kv: (-sum(t.size for t in kv[1]), kv[0]))
    out: list[Area] = []
    for _, members in ordered:
        for area in build_areas(members, centroids):
            out.append(Area(len(out), area.label, area.theme_ids, area.size))
    return out
