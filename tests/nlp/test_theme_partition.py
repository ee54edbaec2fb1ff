from collections.abc import Sequence

import numpy as np

from nlp.protocols import Theme, ThemeModel, ThemeResult
from nlp.theme_partition import PerLanguageThemeModel, language_groups


class _FirstWordThemes:
    """Inner model stub: one theme per distinct first word, quotes = first two members."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def fit(self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str]):
        self.calls.append(list(languages))
        words = sorted({t.split()[0] for t in texts if not t.startswith("noise")})
        assignments = np.array(
            [words.index(t.split()[0]) if t.split()[0] in words else -1 for t in texts]
        )
        themes = [
            Theme(
                k,
                w,
                (w,),
                int((assignments == k).sum()),
                tuple(np.flatnonzero(assignments == k)[:2]),
            )
            for k, w in enumerate(words)
        ]
        return ThemeResult(assignments, themes, 0.5, float((assignments < 0).mean()))


def test_fits_each_language_separately_and_maps_ids_and_quotes_to_global_positions():
    texts = ["배송 늦다", "delivery late", "배송 느림", "refund slow", "delivery slow", "noise x"]
    langs = ["ko", "en", "ko", "en", "en", "en"]
    inner = _FirstWordThemes()
    model = PerLanguageThemeModel(inner, min_group_docs=2)
    assert isinstance(model, ThemeModel)
    result = model.fit(texts, np.zeros((6, 3), dtype=np.float32), langs)
    assert sorted(map(sorted, inner.calls)) == [["en"] * 4, ["ko"] * 2]
    by_label = {t.label: t for t in result.themes}
    assert set(by_label) == {"배송", "delivery", "refund"}
    # Ids renumbered by size overall: the two 2-member themes first, then refund.
    assert by_label["refund"].theme_id == 2
    for theme in result.themes:
        members = np.flatnonzero(result.assignments == theme.theme_id)
        assert theme.size == len(members)
        assert set(theme.representative_idx) <= set(members)
        assert all(texts[i].split()[0] == theme.label for i in theme.representative_idx)
    assert result.assignments[5] == -1
    assert result.outlier_share == 1 / 6


def test_small_languages_and_undetermined_text_are_pooled():
    groups = language_groups(["en"] * 5 + ["ko"] * 3 + ["ja", "und"], min_group_docs=3)
    assert list(groups) == ["en", "ko", "other"]
    assert groups["other"].tolist() == [8, 9]
