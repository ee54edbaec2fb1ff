"""Analyst curation: rename, merge, split-off by keywords, pin, ignore, seeds."""

from pathlib import Path

import numpy as np
import pydantic
import pytest

from nlp.protocols import Theme, ThemeResult
from nlp.taxonomy import Taxonomy, apply_taxonomy, load_taxonomy

TEXTS = [
    "the seat was narrow", "no legroom in this seat", "seat would not recline",
    "food was cold", "the meal was tasty", "cold food again, I want a refund",
    "staff were rude", "crew ignored us", "rude crew, refund please",
    "배송이 늦어서 환불을 요청했어요", "포장 상태가 나빠요", "포장이 찢어져서 왔어요",
]  # fmt: skip
ASSIGN = np.array([10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13])
DIRECTIONS = {10: 0, 11: 1, 12: 2, 13: 3}


def _embeddings() -> np.ndarray:
    rng = np.random.default_rng(1)
    x = np.zeros((len(TEXTS), 6), dtype=np.float32)
    for i, t in enumerate(ASSIGN):
        x[i, DIRECTIONS[int(t)]] = 1.0
    x += 0.05 * rng.normal(size=x.shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _result() -> ThemeResult:
    themes = [
        Theme(10, "seat · legroom", ("seat", "legroom"), 3, (0,)),
        Theme(11, "food · cold", ("food", "cold"), 3, (3,)),
        Theme(12, "rude · crew", ("rude", "crew"), 3, (6,)),
        Theme(13, "포장 · 배송", ("포장", "배송"), 3, (9,)),
    ]
    return ThemeResult(ASSIGN.copy(), themes, 0.0, 0.0, {})


def _apply(taxonomy: Taxonomy, **kwargs: object) -> tuple[ThemeResult, dict]:
    ids = {name: 100 + i for i, name in enumerate(taxonomy.curated_names)}
    return apply_taxonomy(
        _result(),
        TEXTS,
        _embeddings(),
        taxonomy,
        curated_ids=ids,
        **kwargs,  # type: ignore[arg-type]
    )


def test_rename_merge_and_ignore_by_id_or_model_label() -> None:
    taxonomy = Taxonomy.model_validate(
        {
            "themes": [
                {"theme": 10, "rename": "Seat comfort"},
                {"theme": "포장 · 배송", "ignore": True},
            ],
            "merge": [{"into": 11, "themes": ["rude · crew"], "label": "Service on board"}],
        }
    )
    result, log = _apply(taxonomy)
    labels = {t.theme_id: t.label for t in result.themes}
    assert labels == {10: "Seat comfort", 11: "Service on board"}
    assert result.assignments.tolist() == [10] * 3 + [11] * 6 + [-1] * 3
    assert {t.theme_id: t.size for t in result.themes} == {10: 3, 11: 6}
    assert result.outlier_share == pytest.approx(0.25)
    assert not log["unresolved"]
    assert result.info["taxonomy"] is log


def test_split_off_by_keyword_in_both_languages() -> None:
    taxonomy = Taxonomy.model_validate(
        {"split_off": [{"name": "Refunds", "keywords": ["refund", "환불"]}]}
    )
    result, _ = _apply(taxonomy)
    refunds = next(t for t in result.themes if t.label == "Refunds")
    assert refunds.theme_id == 100 and refunds.size == 3
    assert np.flatnonzero(result.assignments == 100).tolist() == [5, 8, 9]
    assert refunds.keywords == ("refund", "환불")
    assert all(result.assignments[i] == 100 for i in refunds.representative_idx)
    # Restricted to one theme, only its items move.
    only_food = Taxonomy.model_validate(
        {"split_off": [{"name": "Refunds", "keywords": ["refund"], "from": [11]}],
         "min_curated_size": 1}
    )  # fmt: skip
    restricted, _ = _apply(only_food)
    assert np.flatnonzero(restricted.assignments == 100).tolist() == [5]


def test_seed_names_the_theme_it_matches_or_grows_a_new_one() -> None:
    emb = _embeddings()
    food = emb[3:6].mean(axis=0)
    found, log = _apply(
        Taxonomy.model_validate({"seeds": [{"name": "Catering", "examples": ["cold meal"]}]}),
        seed_centroids={"Catering": food / np.linalg.norm(food)},
    )
    assert {t.theme_id: t.label for t in found.themes}[11] == "Catering"
    assert log["applied"][0]["op"] == "seed-found"
    wifi = np.zeros(6, dtype=np.float32)
    wifi[4] = 1.0  # nothing in the corpus points this way: no theme, no items
    grown, log = _apply(
        Taxonomy.model_validate({"seeds": [{"name": "Wi-Fi", "examples": ["no wifi"]}]}),
        seed_centroids={"Wi-Fi": wifi},
    )
    assert "Wi-Fi" not in {t.label for t in grown.themes}
    assert log["applied"][0] == {"op": "seed-grown", "name": "Wi-Fi", "items": 0}


def test_pinned_theme_lost_by_the_fit_is_restored_from_its_centroid() -> None:
    result = _result()
    emb = _embeddings()
    seat_centroid = emb[:3].mean(axis=0)
    # The new fit lost theme 10: its items became outliers.
    lost = ThemeResult(np.where(ASSIGN == 10, -1, ASSIGN), result.themes[1:], 0.0, 0.25, {})
    taxonomy = Taxonomy.model_validate(
        {"themes": [{"theme": 10, "pin": True}], "seed_assign_similarity": 0.8}
    )
    restored, log = apply_taxonomy(
        lost, TEXTS, emb, taxonomy, curated_ids={},
        pinned={10: ("Seat comfort", seat_centroid / np.linalg.norm(seat_centroid))},
    )  # fmt: skip
    assert {t.theme_id: t.label for t in restored.themes}[10] == "Seat comfort"
    assert restored.assignments[:3].tolist() == [10, 10, 10]
    assert log["applied"][0]["op"] == "pin-restore" and not log["unresolved"]


def test_unresolved_references_are_reported_not_fatal() -> None:
    taxonomy = Taxonomy.model_validate(
        {"themes": [{"theme": 99, "rename": "x"}], "merge": [{"into": "nope", "themes": [10]}]}
    )
    result, log = _apply(taxonomy)
    assert len(result.themes) == 4
    assert {e["op"] for e in log["unresolved"]} == {"theme", "merge"}


def test_load_taxonomy_validates_and_tolerates_a_missing_file(tmp_path: Path) -> None:
    assert load_taxonomy(None) == Taxonomy()
    assert load_taxonomy(tmp_path / "missing.yaml") == Taxonomy()
    good = tmp_path / "taxonomy.yaml"
    good.write_text(
        "themes:\n  - theme: 3\n    rename: 좌석 불편\nsplit_off:\n  - name: 환불\n"
        "    keywords: [환불, refund]\n    from: [3]\n",
        encoding="utf-8",
    )
    loaded = load_taxonomy(good)
    assert loaded.themes[0].rename == "좌석 불편"
    assert loaded.split_off[0].from_themes == [3]
    assert loaded.curated_names == ["환불"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes:\n  - theme: 3\n    renme: typo\n", encoding="utf-8")
    with pytest.raises(pydantic.ValidationError):
        load_taxonomy(bad)


def test_repository_taxonomy_file_is_valid() -> None:
    path = Path(__file__).resolve().parents[2] / "configs" / "taxonomy.yaml"
    taxonomy = load_taxonomy(path)
    assert taxonomy.seeds or taxonomy.split_off or taxonomy.themes


def test_a_seed_needs_a_clearly_closest_theme_not_yet_claimed() -> None:
    emb = _embeddings()
    seat = emb[:3].mean(axis=0)
    seat /= np.linalg.norm(seat)
    taxonomy = Taxonomy.model_validate(
        {"seeds": [{"name": "Seats", "examples": ["a"]}, {"name": "Chairs", "examples": ["b"]}]}
    )
    result, log = _apply(taxonomy, seed_centroids={"Seats": seat, "Chairs": seat})
    assert {t.theme_id: t.label for t in result.themes}[10] == "Seats"
    # The second seed finds its theme claimed and grows from the items closer to it than
    # to their own theme: none (they are equally close to the seat theme).
    assert [e["op"] for e in log["applied"]] == ["seed-found", "seed-grown"]
    between = emb[:3].mean(axis=0) + emb[3:6].mean(axis=0)
    ambiguous = Taxonomy.model_validate(
        {"seeds": [{"name": "X", "examples": ["c"]}], "seed_match_similarity": 0.5}
    )
    _, log = _apply(ambiguous, seed_centroids={"X": between / np.linalg.norm(between)})
    assert log["applied"][0]["op"] == "seed-grown"  # seat and food are equally close
