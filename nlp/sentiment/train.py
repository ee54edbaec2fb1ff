"""Train and evaluate the default sentiment head (``vocflow train-sentiment``).

Run as a module to rebuild the shipped artifact (from the repository root, with
``HF_HUB_OFFLINE=1``)::

    python -m nlp.sentiment.train --data-dir ../shared/data --out nlp/artifacts/sentiment_head.json
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp.embedders import DEFAULT_EMBEDDER, ProgressCallback, get_embedder
from nlp.protocols import SENTIMENT_LABELS, Embedder
from nlp.sentiment.data import (
    DEFAULT_MAX_PER_SOURCE,
    fingerprint_texts,
    load_sentiment_data,
    split_train_dev,
)
from nlp.sentiment.head import EmbeddingHeadSentiment
from nlp.sentiment.vader_baseline import VaderSentiment

NEG, NEU, POS = SENTIMENT_LABELS


@dataclass
class TrainingResult:
    """Outcome of :func:`train_sentiment_head`.

    Attributes:
        head: The fitted head (trained on the train split only).
        metrics: Dev-set figures for the head and the baselines (see ``evaluate``).
        train_idx: Positional indices of the training rows in the input frame.
        dev_idx: Positional indices of the dev rows.
        timings: Seconds spent embedding and fitting.
        artifact_path: Where :func:`run_training` wrote the head, else None.
    """

    head: EmbeddingHeadSentiment
    metrics: dict[str, Any]
    train_idx: np.ndarray
    dev_idx: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    artifact_path: Path | None = None


def scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold classes present, and per-class F1.

    Args:
        gold: Gold labels.
        pred: Predicted labels.

    Returns:
        ``{"n", "accuracy", "macro_f1", "per_class_f1"}`` (NaN figures when empty).
    """
    from sklearn.metrics import f1_score

    n = len(gold)
    if n == 0:
        return {"n": 0, "accuracy": float("nan"), "macro_f1": float("nan"), "per_class_f1": {}}
    present = [label for label in SENTIMENT_LABELS if label in set(gold)]
    per_class = f1_score(gold, pred, labels=present, average=None, zero_division=0)
    return {
        "n": n,
        "accuracy": round(float(np.mean(np.asarray(gold) == np.asarray(pred))), 4),
        "macro_f1": round(float(np.mean(per_class)), 4),
        "per_class_f1": {
            label: round(float(f), 4) for label, f in zip(present, per_class, strict=True)
        },
    }


def binary_from_proba(proba: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Argmax over {negative, positive} only (neutral ignored; ties go to positive)."""
    neg, pos = proba[:, list(labels).index(NEG)], proba[:, list(labels).index(POS)]
    return np.where(pos >= neg, POS, NEG)


def expected_calibration_error(proba: np.ndarray, gold: Sequence[str], bins: int = 10) -> float:
    """Expected calibration error of the top class (equal-width confidence bins).

    Args:
        proba: Probabilities ``(n, 3)`` in ``SENTIMENT_LABELS`` order.
        gold: Gold labels.
        bins: Number of confidence bins.

    Returns:
        The ECE in [0, 1].
    """
    conf = proba.max(axis=1)
    correct = np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)] == np.asarray(gold)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return round(float(total), 4)


def _binary_masks(dev: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rows and binary gold of the NSMC (1-4 vs 9-10) and UCI (0 vs 1) binary benchmarks."""
    rating = dev["rating"].to_numpy(dtype=float)
    nsmc = (dev["source"] == "nsmc").to_numpy() & ((rating <= 4) | (rating >= 9))
    uci = dev["source"].str.startswith("uci_").to_numpy()
    return {
        "nsmc_binary": (nsmc, np.where(rating[nsmc] >= 9, POS, NEG)),
        "uci_binary": (uci, np.where(rating[uci] >= 1, POS, NEG)),
    }


def evaluate(
    proba: np.ndarray, dev: pd.DataFrame, train: pd.DataFrame, vader_proba: np.ndarray | None
) -> dict[str, Any]:
    """Scores dev predictions against the gold labels, with baselines on the same rows.

    Args:
        proba: Head probabilities for the dev rows, ``SENTIMENT_LABELS`` order.
        dev: Dev rows (``text, label, language, source, rating``).
        train: Training rows (for the majority baseline).
        vader_proba: VADER probabilities for the dev rows, or None to skip that baseline.

    Returns:
        ``{"head", "majority", "vader"}`` each with ``overall``, ``by_language`` and the
        binary accuracies; ``head`` also has ``by_source`` and ``ece``. VADER is scored on
        English rows only (it is English-only).
    """
    gold = dev["label"].to_numpy()
    language = dev["language"].to_numpy()
    masks = _binary_masks(dev)

    def binary(p: np.ndarray) -> dict[str, np.ndarray]:
        return {
            name: binary_from_proba(p[mask], SENTIMENT_LABELS) for name, (mask, _) in masks.items()
        }

    def report(
        pred: np.ndarray, pred_binary: dict[str, np.ndarray], rows: np.ndarray
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"overall": scores(gold[rows].tolist(), pred[rows])}
        out["by_language"] = {
            lang: scores(gold[rows & (language == lang)].tolist(), pred[rows & (language == lang)])
            for lang in sorted(set(language[rows]))
        }
        for name, (mask, binary_gold) in masks.items():
            keep = rows[mask]
            if keep.any():
                acc = float(np.mean(pred_binary[name][keep] == binary_gold[keep]))
                out[f"{name}_accuracy"] = round(acc, 4)
                out[f"{name}_n"] = int(keep.sum())
        return out

    everything = np.ones(len(dev), dtype=bool)
    head_pred = np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)]
    head = report(head_pred, binary(proba), everything)
    source = dev["source"].to_numpy()
    head["by_source"] = {
        str(src): scores(gold[source == src].tolist(), head_pred[source == src])
        for src in sorted(set(source))
    }
    head["ece"] = expected_calibration_error(proba, gold.tolist())

    # Majority class per language (and per binary benchmark), learned on the training rows.
    majority_by_lang = train.groupby("language")["label"].agg(lambda s: s.value_counts().idxmax())
    majority_pred = dev["language"].map(majority_by_lang).fillna(NEU).to_numpy()
    train_masks = _binary_masks(train)
    majority_binary = {}
    for name, (mask, _) in masks.items():
        train_gold = pd.Series(train_masks[name][1])
        top = train_gold.value_counts().idxmax() if len(train_gold) else POS
        majority_binary[name] = np.full(int(mask.sum()), top, dtype=object)
    result = {"head": head, "majority": report(majority_pred, majority_binary, everything)}
    result["majority"]["by_language_label"] = {str(k): str(v) for k, v in majority_by_lang.items()}

    if vader_proba is not None:
        vader_pred = np.array(SENTIMENT_LABELS)[vader_proba.argmax(axis=1)]
        result["vader"] = report(vader_pred, binary(vader_proba), language == "en")
    return result


def _embed(
    embedder: Embedder, texts: list[str], on_progress: ProgressCallback | None
) -> np.ndarray:
    # The protocol's embed() has no progress argument; ours do, third-party ones may not.
    if on_progress is not None and "on_progress" in inspect.signature(embedder.embed).parameters:
        return embedder.embed(texts, on_progress=on_progress)  # type: ignore[call-arg]
    return embedder.embed(texts)


def train_sentiment_head(
    embedder: Embedder,
    data: pd.DataFrame,
    *,
    seed: int = 13,
    dev_fraction: float = 0.2,
    on_progress: ProgressCallback | None = None,
    metadata: Mapping[str, Any] | None = None,
    with_vader: bool = True,
) -> TrainingResult:
    """Splits, embeds once, fits the head on train, and evaluates on dev.

    Args:
        embedder: Embedder whose vectors the head will classify.
        data: Frame from :func:`nlp.sentiment.data.load_sentiment_data`.
        seed: Seed of the split, the CV folds and the solver.
        dev_fraction: Share of each source x label stratum held out for evaluation.
        on_progress: Called with ``(done, total)`` after each embedded chunk.
        metadata: Extra notes stored in the artifact.
        with_vader: Also score the VADER baseline on the English dev rows.

    Returns:
        The head (fitted on train only), dev metrics and the split.
    """
    data = data.reset_index(drop=True)
    train_idx, dev_idx = split_train_dev(data, seed=seed, dev_fraction=dev_fraction)
    train, dev = data.iloc[train_idx], data.iloc[dev_idx]

    started = time.perf_counter()
    vectors = _embed(embedder, data["text"].tolist(), on_progress)
    embed_s = time.perf_counter() - started

    strata = (train["source"] + "|" + train["label"]).tolist()
    notes: dict[str, Any] = dict(metadata or {})
    notes["split"] = {
        "seed": seed,
        "dev_fraction": dev_fraction,
        "stratified_by": "source x label",
        "n_train": len(train),
        "n_dev": len(dev),
        "train_sha256": fingerprint_texts(train["text"].tolist()),
        "dev_sha256": fingerprint_texts(dev["text"].tolist()),
    }
    notes["data"] = {
        str(src): {str(k): int(v) for k, v in part["label"].value_counts().sort_index().items()}
        for src, part in data.groupby("source", sort=True)
    }
    started = time.perf_counter()
    head = EmbeddingHeadSentiment.fit(
        vectors[train_idx],
        train["label"].tolist(),
        embedder_id=embedder.model_id,
        seed=seed,
        strata=strata,
        metadata=notes,
    )
    fit_s = time.perf_counter() - started

    dev_texts = dev["text"].tolist()
    proba = head.predict_proba(dev_texts, vectors[dev_idx])
    vader_proba = None
    if with_vader:
        vader_proba = VaderSentiment().predict_proba(dev_texts)
    metrics = evaluate(proba, dev, train, vader_proba)
    metrics["embed_texts_per_s"] = round(len(data) / max(embed_s, 1e-9), 1)
    timings = {"embed_s": round(embed_s, 1), "fit_s": round(fit_s, 1)}
    head.metadata["dev_metrics"] = _summary(metrics)
    head.metadata["timings"] = timings
    return TrainingResult(head, metrics, train_idx, dev_idx, timings)


def _summary(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Headline figures only, so the artifact stays small."""
    out: dict[str, Any] = {}
    for model in ("head", "majority", "vader"):
        if model not in metrics:
            continue
        m = metrics[model]
        entry: dict[str, Any] = {
            "overall": {k: m["overall"][k] for k in ("n", "accuracy", "macro_f1")}
        }
        for lang, s in m["by_language"].items():
            entry[lang] = {k: s[k] for k in ("n", "accuracy", "macro_f1")}
        for key in ("nsmc_binary_accuracy", "uci_binary_accuracy", "ece"):
            if key in m:
                entry[key] = m[key]
        out[model] = entry
    return out


def run_training(
    data_dir: Path | str | None,
    out_path: Path | str,
    *,
    embedder_name: str = DEFAULT_EMBEDDER,
    seed: int = 13,
    max_per_source: int | Mapping[str, int] | None = None,
    dev_fraction: float = 0.2,
    on_progress: ProgressCallback | None = None,
) -> TrainingResult:
    """Loads the shared data, trains the head, writes the JSON artifact.

    Args:
        data_dir: Shared data directory (None: see ``nlp.sentiment.data.resolve_data_dir``).
        out_path: Artifact to write (e.g. ``nlp/artifacts/sentiment_head.json``).
        embedder_name: Name for :func:`nlp.embedders.get_embedder`.
        seed: Seed of sampling, split and fit.
        max_per_source: Per-source caps (None: ``DEFAULT_MAX_PER_SOURCE``).
        dev_fraction: Held-out share per source x label.
        on_progress: Embedding progress callback ``(done, total)``.

    Returns:
        The training result, with ``artifact_path`` set.
    """
    import sklearn

    caps = DEFAULT_MAX_PER_SOURCE if max_per_source is None else max_per_source
    data = load_sentiment_data(data_dir, max_per_source=caps, seed=seed)
    embedder = get_embedder(embedder_name)
    metadata = {
        "embedder_name": embedder_name,
        "max_per_source": caps if isinstance(caps, int) else dict(caps),
        "sampling_seed": seed,
        "excluded_sources": ["skytrax"],
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
    }
    result = train_sentiment_head(
        embedder,
        data,
        seed=seed,
        dev_fraction=dev_fraction,
        on_progress=on_progress,
        metadata=metadata,
    )
    result.artifact_path = result.head.save(out_path)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m nlp.sentiment.train``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--max-per-source",
        type=int,
        default=None,
        help="one cap for every source (default: per-source caps)",
    )
    parser.add_argument("--metrics-out", type=Path, default=None, help="write full metrics JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        sys.stderr.write(f"\rembedding {done}/{total} ({done / max(elapsed, 1e-9):.0f} texts/s)")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    result = run_training(
        args.data_dir,
        args.out,
        embedder_name=args.embedder,
        seed=args.seed,
        max_per_source=args.max_per_source,
        on_progress=progress,
    )
    report = {
        "artifact": str(result.artifact_path),
        "model_version": result.head.model_version,
        "timings": result.timings | {"total_s": round(time.perf_counter() - started, 1)},
        "summary": result.head.metadata["dev_metrics"],
    }
    if args.metrics_out is not None:
        args.metrics_out.write_text(json.dumps(result.metrics, indent=1), encoding="utf-8")
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
