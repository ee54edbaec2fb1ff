"""The nightly VoC flow: ingest -> embed -> sentiment -> themes -> rank -> reports.

Tasks are thin: each opens the store, calls one pure function and returns small results.
Models are built once per flow run and passed to the tasks that use them.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.runtime import flow_run

from connectors.registry import build_connector
from flows.params import RunParameters
from flows.progress import progress_reporter
from nlp.registry import build_embedder, build_sentiment, build_theme_model
from outputs.bundle import latest_path, write_bundle
from outputs.report import build_report
from outputs.tables import pain_points_frame
from vocflow import __version__
from vocflow.alerts import alerts_markdown, emerging_alerts
from vocflow.analysis import (
    StepCount,
    classify_items,
    embed_backlog,
    embed_items,
    fit_themes,
    unserved_languages,
)
from vocflow.calibration import auto_calibrate, with_calibration
from vocflow.clause_store import clause_version, theme_mention_sentiment
from vocflow.erasure import apply_retention
from vocflow.faults import checkpoint
from vocflow.ingest import IngestCounts, ingest_source
from vocflow.painpoints import bundle_tables, load_report_inputs
from vocflow.privacy import PrivacyPolicy
from vocflow.reporting import ranking_frame, score_note, theme_infos
from vocflow.scaleout import (
    MapShards,
    ModelSpec,
    Shard,
    ShardedEmbedder,
    ShardedSentiment,
    ShardResult,
    model_options,
    precompute_embeddings,
    run_shard,
)
from vocflow.secrets import customer_salt, install_block_loader
from vocflow.settings import ExecutionSettings, Settings, load_settings
from vocflow.store import Store
from vocflow.theme_run import config_from_settings as theme_run_config
from vocflow.theme_run import report_fields as theme_report_fields


def run_name(params: dict[str, Any], now: datetime) -> str:
    """Says what a run covers, e.g. "voc 2026-11-23 02:00 demo-nsmc ko 2026-10-01..2026-10-31".

    Args:
        params: The run parameters, JSON-dumped.
        now: When the run starts.

    Returns:
        Stamp, sources ("all-sources"), languages (when narrowed), window ("all-time",
        "last-90d" or "since..until") and "no-ingest" for re-runs that skip ingestion.
    """
    sources = ",".join(params.get("sources") or []) or "all-sources"
    since, until = params.get("since"), params.get("until")
    if since or until:
        window = f"{since or '…'}..{until or 'today'}"
    elif params.get("window_days"):
        window = f"last-{params['window_days']}d"
    else:
        window = "all-time"
    parts = ["voc", now.strftime("%Y-%m-%d %H:%M"), sources]
    parts += [",".join(params.get("languages") or [])] if params.get("languages") else []
    parts += [window]
    parts += ["no-ingest"] if params.get("ingest") is False else []
    return " ".join(parts)


def _run_name() -> str:
    params = flow_run.parameters.get("params") or {}
    if hasattr(params, "model_dump"):
        params = params.model_dump(mode="json")
    return run_name(params, datetime.now(UTC))


def ingest_tags(kind: str, source_name: str) -> set[str]:
    """Tags of a source's ingest task.

    ``source-kind:<kind>`` is what a Prefect tag concurrency limit per vendor matches
    (``prefect concurrency-limit create source-kind:zendesk 1``).
    """
    return {f"source-kind:{kind}", f"source:{source_name}"}


# Ingest tasks of one run share the store file: they read their sources at the same time and
# take turns writing (DuckDB has one writer).
_STORE_WRITES = threading.RLock()


@task(name="ingest-source", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def ingest_task(settings: Settings, source_name: str, run_id: str) -> IngestCounts:
    """Pulls new feedback from one source into the store."""
    logger = get_run_logger()
    source = settings.source(source_name)
    install_block_loader()  # {block: NAME} credentials in source options
    with _STORE_WRITES:  # opening runs DDL and the salt may be created: one writer at a time
        store = Store.open(settings)
        salt = customer_salt(settings, store)
    try:
        connector = build_connector(
            source.name,
            source.kind,
            source.options,
            base_dir=settings.project_root,
            customer_salt=salt,
        )
        counts = ingest_source(
            connector,
            store,
            run_id,
            on_batch=lambda c: logger.info(
                "%s: %d rows read, %d new, %d quarantined",
                c.source,
                c.rows_read,
                c.new,
                c.quarantined,
            ),
            policy=PrivacyPolicy.from_settings(settings.privacy).for_source(source.options),
            write_lock=_STORE_WRITES,
        )
    finally:
        with _STORE_WRITES:
            store.close()
    logger.info(
        "%s: read %d, new %d, updated %d, unchanged %d, quarantined %d (new %d), bookmark %s",
        source_name, counts.rows_read, counts.new, counts.updated, counts.unchanged,
        counts.quarantined, counts.quarantined_new, counts.bookmark,
    )  # fmt: skip
    for gap in counts.gaps:
        logger.warning("%s: items may have been lost at the source: %s", source_name, gap)
    if counts.bookmarks_held:
        logger.warning(
            "%s: %d batch bookmark(s) lay beyond the clock and were not saved; those rows are "
            "read again next run (check the source's cursor column and timezone)",
            source_name, counts.bookmarks_held,
        )  # fmt: skip
    return counts


def source_gaps(ingest_counts: list[IngestCounts]) -> dict[str, list[str]]:
    """Per source, what it said may be lost beyond reach (``run.json``'s ``gaps``)."""
    return {c.source: c.gaps for c in ingest_counts if c.gaps}


@task(name="compute-shard", cache_policy=NO_CACHE)
def shard_task(spec: ModelSpec, shard: Shard) -> ShardResult:
    """Embeds or classifies one shard on a worker (model built once per worker process)."""
    return run_shard(spec, shard)


def _submit_shards(spec: ModelSpec, shards: list[Shard]) -> list[ShardResult]:
    # Submitted to the task runner of the enclosing flow: Dask inside `sharded_analyse`.
    futures = [shard_task.submit(spec, shard) for shard in shards]
    return [future.result() for future in futures]


def dask_task_runner(execution: ExecutionSettings) -> Any:
    """The prefect-dask task runner of ``execution``: an existing scheduler or a LocalCluster."""
    from prefect_dask import DaskTaskRunner

    if execution.dask_address:
        return DaskTaskRunner(address=execution.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": execution.dask_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )


@task(name="analyse", cache_policy=NO_CACHE)
def analyse_task(
    settings: Settings, params: RunParameters, run_id: str, timings: dict[str, float]
) -> dict[str, Any]:
    """Embeds, classifies and fits themes over the analysis window; returns report inputs."""
    logger = get_run_logger()
    since, until = params.window(settings.analysis.window_days)
    languages = [lang.value for lang in params.languages] or settings.analysis.languages
    with Store.open(settings) as store:
        items = store.load_items(
            since=since, until=until, sources=params.sources or None, languages=languages
        )
        logger.info("analysing %d items (window %s .. %s)", len(items), since, until)
        if items.empty:
            return {"items": items, "since": since, "until": until}

        started = time.perf_counter()
        execution = settings.execution
        sharded: MapShards | None = _submit_shards if execution.executor == "dask" else None
        options = model_options(
            "embedder", settings.embedder.name, settings.embedder.options, execution.device
        )
        embedder = build_embedder(settings.embedder.name, options)
        update, close = progress_reporter("embed", logger)
        precomputed = 0
        if sharded is not None:  # workers embed the uncached texts, this process writes them
            spec = ModelSpec.of("embedder", settings.embedder.name, options)
            workers = execution.dask_workers
            remote = ShardedEmbedder(embedder, spec, sharded, execution.shard_size, workers)
            wave = execution.shard_size * workers
            precomputed = precompute_embeddings(store, remote, items, wave, update)
            embedder = remote  # clause embeddings (sentiment, themes) are sharded too
        embeddings, embedded = embed_items(store, embedder, items, on_progress=update)
        embedded = StepCount(embedded.total, embedded.computed + precomputed)
        close()
        timings["embed"] = time.perf_counter() - started
        logger.info("embeddings: %d items, %d newly embedded", embedded.total, embedded.computed)

        started = time.perf_counter()
        sent = settings.sentiment
        sent_options = model_options("sentiment", sent.name, sent.options, execution.device)
        base_model = build_sentiment(sent.name, sent_options)
        auto_calibrate(store, settings, embedder, base_model, logger.info)
        sentiment_model = with_calibration(settings, base_model, logger.info)
        classifier = sentiment_model
        if sharded is not None:  # workers return probabilities, this process writes labels
            calibrated = sentiment_model is not base_model
            artifact = settings.resolve(sent.calibration.artifact) if calibrated else None
            spec = ModelSpec.of("sentiment", sent.name, sent_options, artifact)
            classifier = ShardedSentiment(
                sentiment_model, spec, sharded, execution.shard_size, execution.dask_workers
            )
        update, close = progress_reporter("clause embed", logger)
        labels, classified = classify_items(
            store, classifier, items, embeddings, embedder.model_id,
            embedder=embedder, clauses=sent.clauses, mixed_margin=sent.mixed_margin,
            on_progress=update,
        )  # fmt: skip
        close()
        timings["sentiment"] = time.perf_counter() - started
        logger.info("sentiment: %d newly classified", classified.computed)

    started = time.perf_counter()
    theme_options = {
        "min_theme_size": params.min_theme_size or settings.themes.min_theme_size,
        "seed": settings.themes.seed,
        **settings.themes.options,
    }
    theme_model = build_theme_model(settings.themes.name, theme_options)
    version = clause_version(sentiment_model.model_version, sent.mixed_margin)
    stable = theme_run_config(settings, run_id, version if sent.clauses else None)
    with Store.open(settings) as store:  # stable IDs, refit rule, taxonomy, areas
        result, theme_rows = fit_themes(theme_model, items, embeddings, (store, stable, embedder))
    timings["themes"] = time.perf_counter() - started
    logger.info(
        "themes: %d, outliers %.1f%% (before reassignment %.1f%%)",
        len(result.themes), 100 * result.outlier_share, 100 * result.outlier_share_initial,
    )  # fmt: skip
    checkpoint("themes:computed")
    with Store.open(settings) as store:
        store.save_themes(
            run_id, theme_rows, items[["item_key"]].assign(theme_id=result.assignments)
        )
        if sent.clauses:  # a mixed item's theme mention takes the sentiment of its clause
            version = clause_version(sentiment_model.model_version, sent.mixed_margin)
            labels = theme_mention_sentiment(
                store, embedder, items, labels, version, result.assignments, theme_rows
            )
    checkpoint("themes:saved")
    return {
        "items": items,
        "since": since,
        "until": until,
        "labels": labels,
        "result": result,
        "embedded": embedded,
        "classified": classified,
        "models": {
            "embedder": embedder.model_id,
            "sentiment": sentiment_model.model_version,
            "themes": f"{settings.themes.name} ({theme_options})",
        },
    }


@task(name="embed-backlog", cache_policy=NO_CACHE)
def embed_backlog_task(settings: Settings) -> int:
    """Embeds every stored text that has none yet, chunk by chunk (a backfill run)."""
    logger = get_run_logger()
    execution = settings.execution
    options = model_options(
        "embedder", settings.embedder.name, settings.embedder.options, execution.device
    )
    embedder = build_embedder(settings.embedder.name, options)
    update, close = progress_reporter("embed", logger)
    with Store.open(settings) as store:
        if execution.executor == "dask":
            spec = ModelSpec.of("embedder", settings.embedder.name, options)
            workers = execution.dask_workers
            remote = ShardedEmbedder(embedder, spec, _submit_shards, execution.shard_size, workers)
            done = embed_backlog(store, remote, execution.shard_size * workers, update)
        else:
            done = embed_backlog(store, embedder, on_progress=update)
    close()
    logger.info("backfill: %d texts embedded", done)
    return done


@flow(name="vocflow-backfill-sharded", validate_parameters=False)
def sharded_backfill(settings: Settings) -> int:
    """The embed-backlog task under a Dask task runner."""
    return embed_backlog_task(settings)


def backfill_run(
    settings: Settings, run_id: str, ingest_counts: list[IngestCounts], timings: dict[str, float]
) -> dict[str, Any]:
    """Finishes a run with ``analyse`` off: embed what was ingested, record it, no report."""
    started = time.perf_counter()
    if settings.execution.executor == "dask":
        runner = dask_task_runner(settings.execution)
        embedded = sharded_backfill.with_options(task_runner=runner)(settings)
    else:
        embedded = embed_backlog_task(settings)
    timings["embed"] = time.perf_counter() - started
    run_json: dict[str, Any] = {
        "run_id": run_id,
        "vocflow_version": __version__,
        "mode": "backfill",
        "items": {
            "read": sum(c.rows_read for c in ingest_counts),
            "ingested_new": sum(c.new for c in ingest_counts),
            "ingested_updated": sum(c.updated for c in ingest_counts),
            "quarantined": sum(c.quarantined for c in ingest_counts),
        },
        "sources": {c.source: vars(c) for c in ingest_counts},
        "gaps": source_gaps(ingest_counts),
        "texts_embedded": embedded,
        "timings_s": timings,
    }
    with Store.open(settings) as store:
        store.finish_run(run_id, "backfilled", run_json)
    return run_json


@task(name="report", cache_policy=NO_CACHE)
def report_task(
    settings: Settings, params: RunParameters, run_id: str, analysis: dict[str, Any],
    run_json: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """Ranks themes, writes the report bundle and publishes Prefect artifacts."""
    logger = get_run_logger()
    items = analysis["items"]
    result = analysis["result"]
    frame = ranking_frame(items, analysis["labels"], result)
    inputs = load_report_inputs(
        settings.analysis, settings.store_target, settings.store_password_block
    )
    report = build_report(
        frame,
        theme_infos(items, result),
        run_id=run_id,
        title="vocflow: ranked customer pain points",
        window_start=analysis["since"],
        window_end=analysis["until"],
        top_n=params.top_n or settings.analysis.top_n,
        n_boot=settings.analysis.n_bootstrap,
        seed=settings.analysis.seed,
        min_scored=settings.analysis.min_scored,
        score_note=score_note(items),
        run_summary=run_json,
        models=analysis["models"],
        extra_notes=[
            "Customer text is cleaned and PII-redacted before it is embedded, stored for "
            "analysis or shown; names of reviewers are kept only as salted hashes.",
            f"Theme outliers after reassignment: {100 * result.outlier_share:.1f}% "
            f"(before: {100 * result.outlier_share_initial:.1f}%).",
        ],
        options=inputs.options,
        churned=inputs.churned,
        actions=inputs.actions,
    )
    report = report.model_copy(update=theme_report_fields(result))  # areas, changes
    stats = report.pain_points
    run_dir = write_bundle(
        report,
        settings.reports_path,
        run_json,
        bundle_tables(frame, report),
        scope=params.report_scope(),
    )
    # The bundle's Markdown, so the artifact shows the same changes since the last run.
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    create_markdown_artifact(
        key="vocflow-report", markdown=markdown, description=f"vocflow run {run_id}"
    )
    table = pain_points_frame(report).head(report.top_n)
    create_table_artifact(
        key="vocflow-pain-points",
        table=table.astype(object).where(table.notna(), None).to_dict("records"),
        description="Ranked pain points",
    )
    create_link_artifact(
        key="vocflow-report-html",
        link=(run_dir / "report.html").resolve().as_uri(),
        link_text="HTML report",
    )
    checkpoint("report:written")
    logger.info("report written to %s", run_dir)
    # One Prefect event per emerging theme: automations turn them into notifications.
    alerts = emerging_alerts(report) if settings.analysis.alerts_enabled else []
    for alert in alerts:
        logger.warning("emerging issue: %s", alert.payload["reason"])
        emit_event(event=alert.event, resource=alert.resource, payload=alert.payload)
    if alerts:
        create_markdown_artifact(
            key="vocflow-emerging", markdown=alerts_markdown(alerts),
            description=f"{len(alerts)} emerging themes in run {run_id}",
        )  # fmt: skip
    top = [
        {"rank": s.rank, "label": s.label, "volume": s.volume, "nps_impact": s.nps_impact,
         "impact_ci": [s.impact_ci_low, s.impact_ci_high]}
        for s in stats[:5]
    ]  # fmt: skip
    emerging = [{"label": a.payload["label"], "status": a.payload["status"]} for a in alerts]
    return {"run_dir": str(run_dir), "top": top, "emerging": emerging}


@flow(name="vocflow-analyse-sharded", validate_parameters=False)
def sharded_analyse(
    settings: Settings, params: RunParameters, run_id: str, timings: dict[str, float]
) -> dict[str, Any]:
    """The analyse task under a Dask task runner: its embedding and sentiment shards run there."""
    return analyse_task(settings, params, run_id, timings)


@flow(
    name="vocflow-nightly",
    flow_run_name=_run_name,
    description="Ingest customer feedback, find themes and rank pain points by NPS impact.",
    validate_parameters=True,
)
def nightly(params: RunParameters | None = None) -> dict[str, Any]:
    """Runs vocflow once: ingest, analyse, rank and report.

    Args:
        params: Run parameters (sources, window, languages, theme size, top N).

    Returns:
        The run summary written to ``run.json`` plus the report folder.
    """
    params = params or RunParameters()
    logger = get_run_logger()
    settings = load_settings()
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{str(flow_run.id or 'local')[:8]}"
    timings: dict[str, float] = {}
    with Store.open(settings) as store:
        store.start_run(run_id, params.model_dump(mode="json"))
        # Retention runs first, so that nothing past it is analysed or reported.
        days = settings.privacy.retention_days
        retention = vars(apply_retention(store, days)) if days else None
    checkpoint("flow:started")

    ingest_counts: list[IngestCounts] = []
    started = time.perf_counter()
    if params.ingest:
        names = params.sources or [s.name for s in settings.sources if s.enabled]
        # Sources are read at once (API waits overlap); a tag concurrency limit on
        # "source-kind:<kind>" caps how many runs hit one vendor together (docs/connectors.md).
        futures = [
            ingest_task.with_options(tags=ingest_tags(settings.source(name).kind, name)).submit(
                settings, name, run_id
            )
            for name in names
        ]
        ingest_counts.extend(future.result() for future in futures)
    timings["ingest"] = time.perf_counter() - started
    checkpoint("ingest:done")

    if not params.analyse:
        return backfill_run(settings, run_id, ingest_counts, timings)
    if settings.execution.executor == "dask":
        runner = dask_task_runner(settings.execution)
        analysis = sharded_analyse.with_options(task_runner=runner)(
            settings, params, run_id, timings
        )
    else:
        analysis = analyse_task(settings, params, run_id, timings)
    run_json: dict[str, Any] = {
        "run_id": run_id,
        "vocflow_version": __version__,
        "params": params.model_dump(mode="json"),
        # None: the full scope, reported in reports/latest/; else reports/latest-<scope>.
        "report_scope": params.report_scope(),
        "window": {"start": analysis["since"], "end": analysis["until"]},
        "items": {
            "read": sum(c.rows_read for c in ingest_counts),
            "ingested_new": sum(c.new for c in ingest_counts),
            "ingested_updated": sum(c.updated for c in ingest_counts),
            "unchanged": sum(c.unchanged for c in ingest_counts),
            "duplicates_in_source": sum(c.duplicates for c in ingest_counts),
            "quarantined": sum(c.quarantined for c in ingest_counts),
            "quarantined_new": sum(c.quarantined_new for c in ingest_counts),
            "analysed": len(analysis["items"]),
        },
        "sources": {c.source: vars(c) for c in ingest_counts},
        "gaps": source_gaps(ingest_counts),
        "retention_deleted": retention,
        "texts_embedded": analysis["embedded"].computed if "embedded" in analysis else 0,
        "texts_classified": analysis["classified"].computed if "classified" in analysis else 0,
        "timings_s": timings,
    }
    with Store.open(settings) as store:  # stored, never analysed as another language
        run_json["unserved_languages"] = unserved_languages(
            store, settings.analysis.languages, since=analysis["since"],
            until=analysis["until"], sources=params.sources or None,
        )  # fmt: skip
    if run_json["unserved_languages"]:
        logger.warning("not analysed, language not served: %s", run_json["unserved_languages"])
    if analysis["items"].empty:
        logger.warning("no items in the analysis window: nothing to report")
        with Store.open(settings) as store:
            store.finish_run(run_id, "empty", run_json)
        return run_json
    result = analysis["result"]
    run_json["themes"] = len(result.themes)
    run_json["outlier_share"] = round(result.outlier_share, 4)
    run_json["outlier_share_initial"] = round(result.outlier_share_initial, 4)
    run_json["models"] = analysis["models"]
    with Store.open(settings) as store:
        run_json["quarantine_reasons"] = store.quarantine_reasons()

    started = time.perf_counter()
    outcome = report_task(settings, params, run_id, analysis, run_json)
    timings["report"] = time.perf_counter() - started
    # run.json was written inside the report task; rewrite it with the final timings.
    run_json["report_dir"] = outcome["run_dir"]
    _rewrite_run_json(
        Path(outcome["run_dir"]), settings.reports_path, params.report_scope(), run_json
    )
    run_json["top"] = outcome["top"]
    run_json["emerging"] = outcome["emerging"]
    checkpoint("flow:finishing")
    with Store.open(settings) as store:
        store.finish_run(run_id, "completed", run_json)
    return run_json


def _rewrite_run_json(
    run_dir: Path, reports_dir: Path, scope: str | None, run_json: dict[str, Any]
) -> None:
    import json

    text = json.dumps(run_json, indent=2, ensure_ascii=False, default=str)
    # latest/ is a copy of the full scope's folder; a latest-<scope> link needs no rewrite.
    folders = [run_dir] if scope is not None else [run_dir, latest_path(reports_dir)]
    for folder in folders:
        (folder / "run.json").write_text(text, encoding="utf-8")
