"""SIGKILL the nightly flow at every stage boundary and mid-stage, re-run, compare the store.

Each stage is one test: ``vocflow run`` is started as a subprocess with
``VOCFLOW_TEST_KILL_AT`` naming a crash point (vocflow/faults.py), dies there by SIGKILL, is
started again with the next point of the stage, and finally runs to completion. The store
must then hold exactly what an uninterrupted run leaves: the same items, cursors, quarantined
rows, embeddings, labels and themes, nothing lost, duplicated or half-written. After every
kill the cursors must not be ahead of the persisted items.

Theme fitting is short-circuited (min_theme_size above half the rows per language): UMAP's JIT
costs tens of seconds per process and this test is about persistence, not clustering.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.hardening.conftest import run_cli, write_project
from vocflow.store import blobs_to_vectors

pytestmark = pytest.mark.slow

STAGES: dict[str, list[str]] = {
    "ingest": [
        "flow:started",
        "ingest:batch-persisted:3",
        "ingest:bookmark-saved:5",
        "ingest:done",
    ],
    "embed": ["embed:computed", "embed:saved"],
    "sentiment": ["sentiment:computed", "sentiment:saved"],
    "themes": ["themes:computed", "themes:saved"],
    "report": ["report:written", "flow:finishing"],
}
PROJECT = {"n_per_language": 40, "batch_size": 10, "min_theme_size": 50}


def snapshot(db: Path) -> dict:
    """Everything a run persists, minus run ids and wall-clock stamps."""
    con = duckdb.connect(str(db))
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        completed = q("SELECT run_id FROM runs WHERE status = 'completed' ORDER BY started_at")
        last = completed[-1][0] if completed else None
        return {
            "items": q("SELECT * EXCLUDE (first_run_id, last_run_id) FROM items ORDER BY item_key"),
            "cursors": q(
                "SELECT source, cursor_field, cursor_value FROM connector_state ORDER BY 1"
            ),
            "quarantine": q(
                "SELECT row_hash, source, row_ref, reason, detail, raw FROM quarantine ORDER BY 1"
            ),
            "embedding_keys": q("SELECT text_hash, model_id FROM embeddings ORDER BY 1, 2"),
            "vectors": {
                h: blobs_to_vectors([v])[0]  # float16 blobs (vocflow/store.py)
                for h, v in q("SELECT text_hash, vector FROM embeddings")
            },
            "labels": q(
                "SELECT item_key, model_version, kind, text_hash, label FROM enrichments "
                "ORDER BY 1, 2"
            ),
            "probs": {k: np.asarray(p) for k, p in q("SELECT item_key, probs FROM enrichments")},
            "themes": q(
                f"SELECT theme_id, label, keywords, size FROM themes WHERE run_id = '{last}' "
                "ORDER BY 1"
            ),
            "assignments": q(
                f"SELECT item_key, theme_id FROM item_themes WHERE run_id = '{last}' ORDER BY 1"
            ),
            "runs": q("SELECT status, count(*) FROM runs GROUP BY 1 ORDER BY 1"),
            "sources_items": q("SELECT source, created_at, item_key FROM items"),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("reference")
    write_project(root, **PROJECT)
    started = time.perf_counter()
    done = run_cli(root, api_url, ["run"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    snap = snapshot(root / ".vocflow" / "vocflow.duckdb")
    snap["seconds"] = time.perf_counter() - started
    snap["pain_points"] = (root / "reports/latest/pain_points.csv").read_text(encoding="utf-8")
    return snap


def _assert_cursors_not_ahead(state: dict, reference: dict) -> None:
    """Every item the reference holds from before a source's cursor is already stored."""
    stored = {key for _, _, key in state["sources_items"]}
    for source, _, value in state["cursors"]:
        cursor = np.datetime64(value.replace("+00:00", ""))
        behind = {
            key
            for src, created, key in reference["sources_items"]
            if src == source and np.datetime64(created.replace(tzinfo=None)) < cursor
        }
        assert behind <= stored, f"{source}: cursor {value} is ahead of persisted items"


@pytest.mark.parametrize("stage", list(STAGES))
def test_sigkill_at_each_point_of_a_stage_then_rerun_matches_an_uninterrupted_run(
    stage: str, api_url: str, reference: dict, tmp_path: Path
):
    write_project(tmp_path, **PROJECT)
    db = tmp_path / ".vocflow" / "vocflow.duckdb"
    timings = {}
    for point in STAGES[stage]:
        started = time.perf_counter()
        killed = run_cli(tmp_path, api_url, ["run"], env={"VOCFLOW_TEST_KILL_AT": point})
        timings[point] = round(time.perf_counter() - started, 1)
        # -9: the process died by SIGKILL at the point, so the point was really reached.
        assert killed.returncode == -9, (point, killed.stdout[-2000:], killed.stderr[-2000:])
        if db.exists():
            state = snapshot(db)
            _assert_cursors_not_ahead(state, reference)
            assert len({k for k, *_ in state["items"]}) == len(state["items"])
            assert ("completed", 1) not in state["runs"] or point == "flow:finishing"
    started = time.perf_counter()
    final = run_cli(tmp_path, api_url, ["run"])
    timings["rerun"] = round(time.perf_counter() - started, 1)
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    print(f"\n{stage}: seconds per process {timings} (reference run {reference['seconds']:.1f})")

    after = snapshot(db)
    for key in ("items", "cursors", "quarantine", "embedding_keys", "labels", "themes"):
        assert after[key] == reference[key], key
    assert [k for k, _ in after["assignments"]] == [k for k, _ in reference["assignments"]]
    for text_hash, vector in reference["vectors"].items():
        # Same text, same model; batch padding may move the last float bits, and a float16
        # rounding boundary turns that into one float16 step (< 1e-3 for unit vectors).
        np.testing.assert_allclose(after["vectors"][text_hash], vector, atol=1e-3)
    for key, probs in reference["probs"].items():
        np.testing.assert_allclose(after["probs"][key], probs, atol=1e-4)
    # Killed runs stay visible as 'running'; exactly one run completed.
    assert dict(after["runs"])["completed"] == 1
    latest = tmp_path / "reports" / "latest"
    assert (latest / "pain_points.csv").read_text(encoding="utf-8") == reference["pain_points"]
    run = json.loads((latest / "run.json").read_text(encoding="utf-8"))
    assert run["items"]["analysed"] == len(reference["items"])
    # No report folder is left half-written under a temporary name.
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]
