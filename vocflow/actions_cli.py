"""``vocflow actions`` and ``vocflow customers``: the action log and churn status from the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from vocflow.store import Store

actions_app = typer.Typer(help="Action log: what was done about a theme, for did-the-fix-work.")
customers_app = typer.Typer(help="Customer status (churned / retained) for churn lift.")
console = Console()


def _open_store() -> Store:
    from vocflow.settings import load_settings
    from vocflow.store import Store

    return Store.open(load_settings())  # DuckDB file, or PostgreSQL when store_url is set


@actions_app.command("add")
def actions_add(
    theme: Annotated[str, typer.Argument(help="Theme label (or words of it).")],
    action: Annotated[str, typer.Argument(help="What was done.")],
    on: Annotated[str, typer.Option("--date", help="Date it took effect, YYYY-MM-DD.")],
    owner: Annotated[str, typer.Option(help="Who owns it.")] = "",
    link: Annotated[str | None, typer.Option(help="Ticket, release note or PR.")] = None,
    control: Annotated[
        list[str] | None, typer.Option(help="Control theme label (repeatable).")
    ] = None,
) -> None:
    """Logs an action on a theme."""
    from vocflow.actions import add_action

    with _open_store() as store:
        logged = add_action(
            store, theme=theme, action=action, action_date=date.fromisoformat(on),
            owner=owner, link=link, controls=control or [],
        )  # fmt: skip
    console.print(f"[green]logged[/] {logged.action_id}: {logged.theme} on {logged.action_date}")


@actions_app.command("list")
def actions_list() -> None:
    """Lists logged actions."""
    from vocflow.actions import list_actions

    table = Table("id", "date", "theme", "owner", "action", "link")
    with _open_store() as store:
        for a in list_actions(store):
            table.add_row(
                a.action_id, a.action_date.isoformat(), a.theme, a.owner, a.action, a.link or ""
            )
    console.print(table)


@actions_app.command("import")
def actions_import(
    path: Annotated[Path, typer.Argument(help="CSV/TSV/YAML/JSON: theme, action, date, ...")],
) -> None:
    """Logs every action in a file (re-importing the same file changes nothing)."""
    from vocflow.actions import import_actions

    try:
        with _open_store() as store:
            logged = import_actions(store, path)
    except ValueError as error:
        console.print(f"[red]error[/] {error}")
        raise typer.Exit(1) from error
    console.print(f"[green]logged[/] {len(logged)} actions from {path}")


@actions_app.command("remove")
def actions_remove(action_id: Annotated[str, typer.Argument(help="Action id.")]) -> None:
    """Deletes a logged action."""
    from vocflow.actions import remove_action

    with _open_store() as store:
        found = remove_action(store, action_id)
    if not found:
        console.print(f"no action {action_id}")
        raise typer.Exit(1)
    console.print(f"removed {action_id}")


@customers_app.command("import-status")
def customers_import_status(
    path: Annotated[Path, typer.Argument(help="CSV/TSV/YAML/JSON with customer id + status.")],
    id_column: Annotated[str, typer.Option(help="Column with raw customer ids.")] = "customer_id",
    status_column: Annotated[str, typer.Option(help="Column with the status.")] = "status",
) -> None:
    """Stores churned/retained status per customer (raw ids are hashed, never stored)."""
    from vocflow.actions import import_customer_status
    from vocflow.secrets import customer_salt
    from vocflow.settings import load_settings
    from vocflow.store import Store

    settings = load_settings()
    try:
        with Store.open(settings) as store:
            n = import_customer_status(
                store, path, customer_salt(settings, store), id_column=id_column,
                status_column=status_column,
            )  # fmt: skip
    except ValueError as error:
        console.print(f"[red]error[/] {error}")
        raise typer.Exit(1) from error
    console.print(f"[green]stored[/] status of {n} customers")
