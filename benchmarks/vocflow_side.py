"""vocflow's side of the benchmark: a project folder, its config, its runs and their results.

The project is a folder with ``configs/vocflow.yaml`` (the repository's config with the sources,
store and reports replaced; everything else, models included, as committed), a copy of the
repository's taxonomy, the source CSVs under ``data/`` and ``prefect/`` as ``PREFECT_HOME``.

Timed runs are fresh processes:

* the whole nightly flow, exactly as ``vocflow run`` starts it (``vocflow.cli:app run``), under
  Prefect's temporary local server;
* the memory scenario (ingest + embed only): ``vocflow run --no-analyse`` (the flow's backfill
  mode) where this vocflow's flow has the ``analyse`` parameter; otherwise
  ``python -m benchmarks.vocflow_side ingest-embed``, which calls what the flow's
  ``ingest-source`` task and the embedding part of its ``analyse`` task call
  (``vocflow.ingest.ingest_source`` per source, then ``vocflow.analysis.embed_items`` over the
  stored items), in the same order, without Prefect.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import yaml

from benchmarks.corpus import SOURCES

REPO = Path(__file__).resolve().parents[1]

SCORE_NOTES = {
    "nps": "NSMC and Skytrax seat rating 1-10 used as a 0-10 likelihood to recommend",
    "stars": "Skytrax lounge overall rating 1-5",
}


def write_project(project: Path, source_files: dict[str, Path]) -> Path:
    """Writes the benchmark config (repo config, benchmark sources) into ``project/configs``.

    Args:
        project: Project folder (store, reports, calibration artifact and Prefect home).
        source_files: CSV of each source in ``benchmarks.corpus.SOURCES``.

    Returns:
        The config directory (for ``VOCFLOW_CONFIG_DIR``).
    """
    configs = project / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load((REPO / "configs" / "vocflow.yaml").read_text(encoding="utf-8"))
    taxonomy = REPO / "configs" / "taxonomy.yaml"
    if taxonomy.is_file():
        shutil.copy(taxonomy, configs / "taxonomy.yaml")
    sources = []
    for name, spec in SOURCES.items():
        options: dict[str, Any] = {
            "path": str(source_files[name].resolve()),
            "channel": spec["channel"],
            "cursor_column": "created_at",
            "timezone": "UTC",
            "columns": {
                "id": "item_id",
                "text": "text",
                "created_at": "created_at",
                "language": "language",
                "product": "product",
            },
        }
        if spec["score"]:
            options["columns"]["score"] = "score"
            options["score"] = {"type": spec["score"], "derived_from": SCORE_NOTES[spec["score"]]}
        sources.append(
            {"name": name, "kind": "file", "description": "benchmark", "options": options}
        )
    base.update(
        sources=sources,
        store_path=".vocflow/vocflow.duckdb",
        reports_dir="reports",
    )
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    return configs


def child_env(project: Path) -> dict[str, str]:
    """Environment of vocflow's processes: this project only, Prefect offline in the project."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VOCFLOW_", "PREFECT_API_", "PREFECT_PROFILE"))
    }
    env.update(
        VOCFLOW_CONFIG_DIR=str(project / "configs"),
        VOCFLOW_CUSTOMER_KEY_SALT="vocflow-benchmark-salt",
        PREFECT_HOME=str(project / "prefect"),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    return env


def run_command(*options: str) -> list[str]:
    """``vocflow run [OPTIONS]``, as the console script starts it."""
    return [sys.executable, "-c", "from vocflow.cli import app; app()", "run", *options]


def flow_can_backfill() -> bool:
    """Whether this vocflow's flow can stop after ingest + embed (``vocflow run --no-analyse``)."""
    from flows.params import RunParameters

    return "analyse" in RunParameters.model_fields


def warm_prefect_command() -> list[str]:
    """A trivial flow: creates the Prefect database in PREFECT_HOME (untimed, once)."""
    code = "from prefect import flow\n@flow\ndef warm():\n    return 1\nwarm()\n"
    return [sys.executable, "-c", code]


def ingest_embed_command(out: Path) -> list[str]:
    """The memory scenario's process (``main`` below)."""
    return [sys.executable, "-m", "benchmarks.vocflow_side", "ingest-embed", "--out", str(out)]


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(rows and rows[0])


def read_backfill(store_file: Path) -> dict[str, Any]:
    """The last backfill run's summary plus the store's item and distinct-text counts."""
    con = duckdb.connect(str(store_file), read_only=True)
    try:
        row = con.execute(
            "SELECT summary FROM runs WHERE status = 'backfilled' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        counts = con.execute("SELECT count(*), count(DISTINCT text_hash) FROM items").fetchone()
    finally:
        con.close()
    if row is None or counts is None:
        raise RuntimeError(f"{store_file}: no backfill run")
    summary = json.loads(row[0])
    return {
        "stages_s": {k: round(float(v), 2) for k, v in (summary.get("timings_s") or {}).items()},
        "items": int(counts[0]),
        "distinct_texts": int(counts[1]),
        "texts_embedded": summary.get("texts_embedded"),
        "ingest": summary.get("items"),
    }


def read_results(store_file: Path) -> dict[str, Any]:
    """Reads the last completed run of a store: summary, item themes, item sentiment.

    Returns:
        ``summary`` (the run's run.json), ``theme_fit`` (refit or incremental, and why),
        ``themes`` (``external_id, theme_id`` of that run) and ``sentiment``
        (``external_id, label, p_negative, p_positive``; one row per item, latest version).
    """
    con = duckdb.connect(str(store_file), read_only=True)
    try:
        row = con.execute(
            "SELECT run_id, summary FROM runs WHERE status = 'completed' "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise RuntimeError(f"{store_file}: no completed run")
        run_id, summary = str(row[0]), json.loads(row[1])
        fit: dict[str, Any] = {}
        if _table_exists(con, "theme_fits"):
            got = con.execute(
                "SELECT mode, reason, n_items, n_new_items FROM theme_fits WHERE run_id = ?",
                [run_id],
            ).fetchone()
            if got:
                fit = dict(zip(("mode", "reason", "n_items", "n_new_items"), got, strict=True))
        themes = con.execute(
            "SELECT i.external_id, t.theme_id FROM item_themes t "
            "JOIN items i USING (item_key) WHERE t.run_id = ?",
            [run_id],
        ).df()
        sentiment = con.execute(
            "SELECT i.external_id, e.label, e.probs FROM enrichments e JOIN items i "
            "USING (item_key) WHERE e.kind = 'sentiment' "
            "QUALIFY row_number() OVER (PARTITION BY e.item_key ORDER BY e.created_at DESC) = 1"
        ).df()
    finally:
        con.close()
    # Column order of the probabilities is SENTIMENT_LABELS: negative, neutral, positive.
    probs = sentiment.pop("probs")
    sentiment["p_negative"] = [float(p[0]) for p in probs]
    sentiment["p_positive"] = [float(p[-1]) for p in probs]
    return {"run_id": run_id, "summary": summary, "theme_fit": fit, "themes": themes,
            "sentiment": sentiment}  # fmt: skip


def _open_store(store_cls: Any, settings: Any) -> Any:
    """``Store.open(settings)`` where the store has it (store backends), else the DuckDB file."""
    opener = getattr(store_cls, "open", None)
    return opener(settings) if opener is not None else store_cls(settings.store_file)


def ingest_embed(out: Path) -> dict[str, Any]:
    """Ingests every configured source and embeds the stored items, as the flow does."""
    from connectors.registry import build_connector
    from nlp.registry import build_embedder
    from vocflow.analysis import embed_items
    from vocflow.ingest import ingest_source
    from vocflow.privacy import PrivacyPolicy
    from vocflow.scaleout import model_options
    from vocflow.secrets import customer_salt
    from vocflow.settings import load_settings
    from vocflow.store import Store

    result: dict[str, Any] = {"stages_s": {}}
    settings = load_settings()
    run_id = "benchmark-ingest-embed"
    started = time.perf_counter()
    with _open_store(Store, settings) as store:
        salt = customer_salt(settings, store)
        for source in settings.sources:
            if not source.enabled:
                continue
            connector = build_connector(
                source.name, source.kind, source.options,
                base_dir=settings.project_root, customer_salt=salt,
            )  # fmt: skip
            counts = ingest_source(
                connector, store, run_id, policy=PrivacyPolicy.from_settings(settings.privacy)
            )
            result.setdefault("ingest", {})[source.name] = {
                "rows_read": counts.rows_read, "new": counts.new,
                "quarantined": counts.quarantined,
            }  # fmt: skip
    result["stages_s"]["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    with _open_store(Store, settings) as store:
        items = store.load_items(languages=settings.analysis.languages)
        execution = settings.execution
        options = model_options(
            "embedder", settings.embedder.name, settings.embedder.options, execution.device
        )
        embedder = build_embedder(settings.embedder.name, options)
        embeddings, counted = embed_items(store, embedder, items)
    result["stages_s"]["embed"] = time.perf_counter() - started
    result.update(
        items=len(items),
        distinct_texts=int(items["text_hash"].nunique()),
        texts_embedded=counted.computed,
        embedding_shape=list(embeddings.shape),
        embedder=embedder.model_id,
    )
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="vocflow stages for the memory benchmark")
    parser.add_argument("command", choices=["ingest-embed"])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ingest_embed(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
