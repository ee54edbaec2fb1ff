"""``vocflow eval ...`` commands and ``vocflow train-sentiment`` (including ``--from-store``).

Registered in ``vocflow/cli.py``. Heavy imports stay inside the commands so that ``vocflow
--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

eval_app = typer.Typer(help="Evaluate models on labelled files.")
console = Console()


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("–" if value is None else str(value))


@eval_app.command("sentiment")
def eval_sentiment(
    file: Annotated[Path, typer.Argument(help="Labelled CSV, TSV or JSONL (optionally .gz).")],
    text_col: Annotated[str, typer.Option(help="Column with the text.")],
    label_col: Annotated[str, typer.Option(help="Column with the label or rating.")],
    label_map: Annotated[
        str | None,
        typer.Option(help="Rating -> label, e.g. 1-4:negative,5-7:neutral,8-10:positive."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    head: Annotated[
        Path | None, typer.Option(help="Evaluate this head artifact instead of the config's.")
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder name (default: the configured one).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Embedding cache folder (default .cache/...).")
    ] = None,
) -> None:
    """Evaluates the configured sentiment model (and baselines) on a labelled file."""
    from nlp.embedders import embeddings_compatible
    from nlp.language import detect_languages
    from nlp.registry import build_embedder
    from nlp.sentiment.embed_cache import DEFAULT_CACHE_DIR, EmbeddingCache
    from nlp.sentiment.eval import load_labelled, run_evaluation, to_json
    from nlp.sentiment.hybrid import load_head
    from vocflow.calibration import build_configured_sentiment
    from vocflow.settings import load_settings

    settings = load_settings()
    try:
        data = load_labelled(file, text_col, label_col, label_map)
    except (ValueError, FileNotFoundError) as error:
        console.print(f"[red]error[/] {error}")
        raise typer.Exit(2) from error
    if not data.texts:
        console.print(f"[red]error[/] no labelled rows left (skipped: {data.skipped})")
        raise typer.Exit(2)
    model = load_head(head) if head else build_configured_sentiment(settings)
    emb_name = embedder or settings.embedder.name
    emb_options = settings.embedder.options if embedder is None else {}
    emb = build_embedder(emb_name, emb_options)
    cache = EmbeddingCache(cache_dir or DEFAULT_CACHE_DIR, emb.model_id)
    vectors = cache.embed(emb, data.texts)
    if (
        model.needs_embeddings
        and model.embedder_id
        and not embeddings_compatible(model.embedder_id, emb.model_id)
    ):
        console.print(
            f"[red]error[/] {model.model_version} needs {model.embedder_id} embeddings, "
            f"not {emb.model_id}: pass --embedder"
        )
        raise typer.Exit(2)
    languages = detect_languages(data.texts)
    result: dict[str, Any] = {
        "file": str(file),
        "model_version": model.model_version,
        "embedder": emb.model_id,
        "label_map": label_map,
        "skipped": data.skipped,
    }
    result.update(run_evaluation(data, model, emb, vectors, languages))
    if json_output:
        sys.stdout.write(to_json(result) + "\n")
        return
    _print_eval(result)


def _print_eval(result: dict[str, Any]) -> None:
    console.print(f"[bold]{result['file']}[/]  model {result['model_version']}")
    console.print(f"n={result['n']}  skipped={result['skipped']}  ECE={_fmt(result['ece'])}")
    table = Table("slice", "n", "accuracy", "macro-F1", "binary acc", "per-class F1")
    rows = [("all", result), *[(f"lang {k}", v) for k, v in result["per_language"].items()]]
    for name, figures in rows:
        per_class = ", ".join(f"{k} {v:.2f}" for k, v in figures["per_class_f1"].items())
        table.add_row(
            name, str(figures["n"]), _fmt(figures["accuracy"]), _fmt(figures["macro_f1"]),
            _fmt(figures.get("binary_accuracy")), per_class,
        )  # fmt: skip
    for name, figures in result["baselines"].items():
        table.add_row(
            f"baseline {name}", str(figures["n"]), _fmt(figures["accuracy"]),
            _fmt(figures["macro_f1"]), _fmt(figures.get("binary_accuracy")), "",
        )  # fmt: skip
    console.print(table)
    confusion = Table("gold \\ predicted", *result["confusion"])
    for gold, row in result["confusion"].items():
        confusion.add_row(gold, *[str(v) for v in row.values()])
    console.print(confusion)


@eval_app.command("dev-sets")
def dev_sets(
    out: Annotated[Path, typer.Argument(help="Folder to write <source>_dev.tsv files into.")],
    data_dir: Annotated[Path | None, typer.Option(help="Shared data folder.")] = None,
    head: Annotated[Path | None, typer.Option(help="Head artifact (default: shipped).")] = None,
) -> None:
    """Writes the dev rows the shipped head was *not* trained on, one TSV per source family."""
    from nlp.registry import default_head_path
    from nlp.sentiment.devsets import export_dev_sets

    written = export_dev_sets(head or default_head_path(), out, data_dir)
    for path, n in written.items():
        console.print(f"{n:>6}  {path}")


def train_sentiment_command(
    data_dir: Path, out: Path | None, embedder: str, seed: int, from_store: bool
) -> None:
    """Body of ``vocflow train-sentiment``: shared data, or the store's rated items."""
    if from_store:
        _train_from_store()
        return
    from nlp.registry import default_head_path
    from nlp.sentiment.train import run_training, training_report

    result = run_training(data_dir, out or default_head_path(), embedder_name=embedder, seed=seed)
    sys.stdout.write(json.dumps(training_report(result), indent=1) + "\n")


def _train_from_store() -> None:
    from dataclasses import asdict

    from nlp.registry import build_embedder, build_sentiment
    from vocflow.calibration import calibrate_from_store
    from vocflow.settings import load_settings
    from vocflow.store import Store

    settings = load_settings()
    calibration = settings.sentiment.calibration
    base = build_sentiment(settings.sentiment.name, settings.sentiment.options)
    embedder = build_embedder(settings.embedder.name, settings.embedder.options)
    with Store.open(settings) as store:
        report = calibrate_from_store(
            store, base, embedder, calibration, settings.resolve(calibration.artifact)
        )
    sys.stdout.write(json.dumps(asdict(report), indent=1, default=str) + "\n")
    if not report.n_train:
        raise typer.Exit(1)
