"""Two-level theme view: areas group related themes and get readable names."""

import numpy as np

from nlp.protocols import Theme
from nlp.theme_hierarchy import area_labels, area_of, build_areas, n_areas


def _theme(theme_id: int, keywords: str, size: int) -> Theme:
    return Theme(theme_id, keywords.replace(" ", " · "), tuple(keywords.split()), size, ())


def _unit(x: list[float]) -> np.ndarray:
    v = np.asarray(x, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_number_of_areas_grows_slowly() -> None:
    assert [n_areas(k) for k in (0, 1, 2, 3, 15, 60, 100, 500)] == [0, 1, 2, 2, 3, 5, 7, 8]


def test_related_themes_share_an_area_named_after_their_common_keywords() -> None:
    themes = [
        _theme(0, "seat legroom", 50),
        _theme(1, "seat recline", 40),
        _theme(2, "seat width", 30),
        _theme(3, "food meal", 45),
        _theme(4, "food cold", 35),
        _theme(5, "food vegetarian", 20),
    ]
    rng = np.random.default_rng(0)
    seat, food = rng.normal(size=16), rng.normal(size=16)
    centroids = {
        t.theme_id: _unit(list((seat if t.theme_id < 3 else food) + 0.1 * rng.normal(size=16)))
        for t in themes
    }
    areas = build_areas(themes, centroids)
    assert [a.theme_ids for a in areas] == [(0, 1, 2), (3, 4, 5)]
    assert areas[0].label.startswith("seat") and areas[1].label.startswith("food")
    assert areas[0].size == 120 and areas[1].size == 100
    assert area_of(areas)[4].area_id == 1
    assert build_areas(themes, centroids) == areas  # no randomness


def test_area_names_are_unique_and_fall_back_to_the_largest_label() -> None:
    a = [_theme(0, "wifi slow", 5)]
    b = [_theme(1, "wifi slow", 4)]
    empty = [Theme(2, "misc", (), 3, ())]
    names = area_labels([a, b, empty])
    assert len(set(names)) == 3 and names[2] == "misc"


def test_areas_are_built_within_each_language() -> None:
    from nlp.theme_hierarchy import build_areas_by_group

    rng = np.random.default_rng(3)
    themes, centroids, group_of = [], {}, {}
    for i, (lang, words) in enumerate(
        [("en", "seat legroom"), ("en", "seat recline"), ("en", "food meal"), ("en", "food cold"),
         ("ko", "배우 연기"), ("ko", "배우 캐스팅"), ("ko", "스토리 지루"), ("ko", "스토리 결말")]
    ):  # fmt: skip
        themes.append(_theme(i, words, 10 + i))
        base = np.zeros(16)
        base[0 if lang == "en" else 1] = 5.0  # languages far apart, like multilingual e5
        base[2 + (i // 2)] = 1.0
        centroids[i] = _unit(list(base + 0.05 * rng.normal(size=16)))
        group_of[i] = lang
    areas = build_areas_by_group(themes, centroids, group_of)
    assert [a.area_id for a in areas] == [0, 1, 2, 3]
    assert {a.theme_ids for a in areas} == {(7, 6), (5, 4), (3, 2), (1, 0)}
    assert areas[0].label.startswith("스토리") and areas[2].label.startswith("food")
