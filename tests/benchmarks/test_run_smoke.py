"""Smoke test of the benchmark entry point: the cold scenario end to end at a tiny size.

Runs ``python -m benchmarks.run --scenario cold --n 150 --json`` as a user would (vocflow's
real flow in a fresh process, then the naive script) and checks the JSON report. Fixed costs
dominate (model loading, numba JIT, Prefect start-up): about 2 minutes on 2 quiet cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.corpus import cold_sample, load_pool, nightly_sample, utc_now

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("VOCFLOW_SHARED_DATA", REPO.parent / "shared" / "data"))
needs_data = pytest.mark.skipif(
    not (DATA / "banking77" / "test.csv").is_file(), reason=f"no shared data in {DATA}"
)


@needs_data
def test_samples_are_honest() -> None:
    pool, notes = load_pool(DATA)
    assert notes["pool_distinct_texts"] == len(pool) == pool["text"].nunique()
    # Evaluation rows never carry a score: calibration must not learn their labels.
    assert pool.loc[pool["gold_sentiment"] != "", "score"].isna().all()
    cold = cold_sample(pool, 500, seed=1, now=utc_now())
    assert not cold.with_replacement and cold.distinct_texts == 500
    assert cold.items["item_id"].is_unique
    store, new = nightly_sample(pool, len(pool), 100, seed=1, now=utc_now())
    assert store.with_replacement and new.distinct_texts == 100
    assert not new.items["text"].isin(set(store.items["text"])).any()
    # New items are dated after every stored one: the file connector's bookmark reads them.
    assert new.items["created_at"].min() > store.items["created_at"].max()


@needs_data
@pytest.mark.slow
def test_cold_scenario_end_to_end(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.run", "--scenario", "cold", "--n", "150",
               "--data-dir", str(DATA), "--workdir", str(tmp_path / "work"), "--json"]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    report = json.loads(done.stdout)
    assert report["command"].endswith("--json")
    assert report["machine"]["cpu_count"] >= 1 and report["versions"]["bertopic"]
    cold = report["scenarios"]["cold"]
    assert cold["items"] == 150 and cold["sampled_with_replacement"] == "no"
    for side in ("vocflow", "baseline"):
        assert cold[side]["seconds"] > 0 and cold[side]["exit_code"] == 0
        assert cold[side]["peak_rss_mb"] > 0 and cold[side]["maxrss_mb"] > 0
        quality = cold["quality"][side]
        assert 0.0 <= quality["theme"]["nmi"] <= 1.0
        assert quality["theme"]["n"] == cold["labelled"]["theme_items"] > 0
        overall = quality["sentiment"]["overall"]
        assert overall["n"] == cold["labelled"]["sentiment_items"] > 0
        assert 0.0 <= overall["accuracy"] <= 1.0
    assert cold["speedup"] > 0 and cold["rss_ratio"] > 0
    assert set(cold["vocflow"]["stages_s"]) >= {"ingest", "embed", "sentiment", "themes"}
    assert cold["vocflow"]["theme_fit"]["mode"] == "refit"
    assert len(cold["load_avg_before"]) == 3 and len(cold["load_avg_after"]) == 3


def test_skip_baseline_covers_every_scenario_or_the_named_ones() -> None:
    from benchmarks.run import baseline_skipped, parse_args

    assert not baseline_skipped(parse_args([]).skip_baseline, "cold")
    bare = parse_args(["--skip-baseline"]).skip_baseline
    assert all(baseline_skipped(bare, s) for s in ("cold", "nightly", "memory"))
    named = parse_args(["--scenario", "all", "--skip-baseline", "memory"]).skip_baseline
    assert baseline_skipped(named, "memory")
    assert not baseline_skipped(named, "cold") and not baseline_skipped(named, "nightly")
    with pytest.raises(SystemExit):
        parse_args(["--skip-baseline", "everything"])
