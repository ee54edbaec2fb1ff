"""Sentiment evaluation figures shared by training, ``vocflow eval sentiment`` and calibration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlp.protocols import SENTIMENT_LABELS

NEG, NEU, POS = SENTIMENT_LABELS


def scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold classes present, and per-class F1.

    Macro-F1 averages over the classes that occur in ``gold`` only, so a binary gold set
    (no neutral) is not penalised with a zero F1 for a class it does not have; predictions of
    an absent class still count as errors.

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
    classes = list(dict.fromkeys([*SENTIMENT_LABELS, *sorted(set(gold))]))
    present = [label for label in classes if label in set(gold)]
    per_class = f1_score(list(gold), list(pred), labels=present, average=None, zero_division=0)
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
        The ECE in [0, 1] (NaN when empty).
    """
    if len(gold) == 0:
        return float("nan")
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


def confusion(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = SENTIMENT_LABELS
) -> dict[str, dict[str, int]]:
    """Confusion counts ``{gold label: {predicted label: count}}`` over ``labels``.

    Args:
        gold: Gold labels.
        pred: Predicted labels.
        labels: Row and column labels, in order (labels outside it are not counted).

    Returns:
        Nested counts, every cell present (zeros included).
    """
    table = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, pred, strict=True):
        if g in table and p in table[g]:
            table[g][p] += 1
    return table
