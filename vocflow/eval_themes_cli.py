"""``vocflow eval themes FILE``: the configured theme pipeline against BERTopic's defaults.

Both models are fitted in the same run on the same embeddings (the configured embedder),
and scored against a gold category column with ``nlp.theme_eval.evaluate_themes``. The
command is registered on the ``eval`` group in ``vocflow/cli.py``.

Embeddings of the file are cached under ``.cache/eval-embeddings/`` (one ``.npy`` per model
and file content), so a second evaluation of the same file embeds nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

DEFAULT_CACHE = Path(".cache") / "eval-embeddings"
METRICS = ("nmi", "ari", "outlier_share", "n_themes", "topic_diversity", "npmi", "nmi_clustered")


def read_labelled(path: Path, text_col: str, label_col: str) -> pd.DataFrame:
    """Reads a CSV, TSV or JSONL file (optionally gzipped) and keeps text and label.

    Args:
        path: The file; the format follows the suffix (.csv, .tsv/.tab, .jsonl/.ndjson).
        text_col: Column with the text.
        label_col: Column with the gold category.

    Returns:
        Frame with ``text`` and ``label`` (strings), rows with a blank text or label dropped.

    Raises:
        typer.BadParameter: For an unknown suffix or a missing column.
    """
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif kind in (".tsv", ".tab"):
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    elif kind in (".jsonl", ".ndjson"):
        frame = pd.read_json(path, lines=True, dtype=False)
    else:
        raise typer.BadParameter(f"{path}: expected .csv, .tsv or .jsonl (optionally .gz)")
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        raise typer.BadParameter(f"{path}: no column {missing}; columns: {list(frame.columns)}")
    out = pd.DataFrame(
        {"text": frame[text_col].astype(str).str.strip(), "label": frame[label_col].astype(str)}
    )
    return out[(out["text"] != "") & (out["label"].str.strip() != "")].reset_index(drop=True)


def cached_embeddings(texts: list[str], embedder: Any, cache_dir: Path | None) -> np.ndarray:
    """Embeds texts, reusing an earlier embedding of the same texts with the same model."""
    if cache_dir is None:
        return np.asarray(embedder.embed(texts), dtype=np.float32)
    digest = hashlib.sha256(embedder.model_id.encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    path = cache_dir / f"{digest.hexdigest()[:24]}.npy"
    if path.is_file():
        return np.load(path)
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def evaluate_file(
    path: Path, text_col: str, label_col: str, seed: int | None = None,
    cache_dir: Path | None = DEFAULT_CACHE, embedder_name: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Fits both models on one labelled file and scores them (see module docstring).

    Args:
        path: Labelled file.
        text_col: Text column.
        label_col: Gold category column.
        seed: Seed for both fits (default: the configured theme seed).
        cache_dir: Embedding cache folder, or None for no cache.
        embedder_name: Embedder to use instead of the configured one (its default options).

    Returns:
        ``{"vocflow": metrics, "bertopic_default": metrics, "data": ..., "settings": ...}``.
    """
    from nlp.language import detect_languages
    from nlp.registry import build_embedder, build_theme_model
    from nlp.text import normalize_text
    from nlp.theme_eval import evaluate_themes, fit_bertopic_default, reference_tokens
    from vocflow.settings import load_settings

    settings = load_settings()
    frame = read_labelled(path, text_col, label_col)
    texts = [normalize_text(t) for t in frame["text"]]
    gold = frame["label"].tolist()
    if embedder_name:
        embedder = build_embedder(embedder_name, {})
    else:
        embedder = build_embedder(settings.embedder.name, settings.embedder.options)
    started = time.perf_counter()
    embeddings = cached_embeddings(texts, embedder, cache_dir)
    embed_s = time.perf_counter() - started
    seed = settings.themes.seed if seed is None else seed
    options = {
        "min_theme_size": settings.themes.min_theme_size,
        "seed": seed,
        **settings.themes.options,
    }
    tokens = reference_tokens(texts)
    started = time.perf_counter()
    result = build_theme_model(settings.themes.name, dict(options)).fit(
        texts, embeddings, detect_languages(texts)
    )
    ours_s = time.perf_counter() - started
    ours = evaluate_themes(gold, result.assignments, [t.keywords for t in result.themes], tokens)
    started = time.perf_counter()
    base_assign, base_keywords = fit_bertopic_default(texts, embeddings, seed=seed)
    base_s = time.perf_counter() - started
    base = evaluate_themes(gold, base_assign, base_keywords, tokens)
    return {
        "vocflow": {**ours, "fit_seconds": round(ours_s, 1)},
        "bertopic_default": {**base, "fit_seconds": round(base_s, 1)},
        "nmi_gain": ours["nmi"] - base["nmi"],
        "data": {
            "file": str(path),
            "documents": len(texts),
            "categories": len(set(gold)),
            "embed_seconds": round(embed_s, 1),
        },
        "settings": {
            "embedder": embedder.model_id,
            "themes": settings.themes.name,
            "options": {k: v for k, v in options.items() if k != "extra_stop_words"},
            "seed": seed,
            "bertopic_default": "BERTopic() defaults, embedding_model=None, UMAP random_state=seed",
        },
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def eval_themes(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV/TSV/JSONL.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Column with the text.")],
    label_col: Annotated[str, typer.Option("--label-col", help="Gold category column.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed of both fits.")] = None,
    cache: Annotated[bool, typer.Option(help="Cache the file's embeddings.")] = True,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder name (default: the configured one).")
    ] = None,
) -> None:
    """Compares the configured theme pipeline with BERTopic defaults on a labelled file."""
    report = evaluate_file(
        file, text_col, label_col, seed, DEFAULT_CACHE if cache else None, embedder
    )
    if as_json:
        typer.echo(json.dumps(_json_safe(report), ensure_ascii=False))
        return
    console = Console()
    data = report["data"]
    table = Table(
        title=f"{data['file']}: {data['documents']:,} documents, {data['categories']} categories"
    )
    table.add_column("metric")
    for name in ("vocflow", "bertopic_default"):
        table.add_column(name, justify="right")
    for metric in (*METRICS, "fit_seconds"):
        values = [report[name][metric] for name in ("vocflow", "bertopic_default")]
        table.add_row(metric, *(_fmt(v) for v in values))
    console.print(table)
    console.print(f"NMI gain: {report['nmi_gain']:+.3f} (same run, same embeddings)")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.3f}"
    return str(value)
