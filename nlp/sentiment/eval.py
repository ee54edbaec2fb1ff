"""Evaluate a sentiment model on any labelled file, with baselines on the same rows.

Used by ``vocflow eval sentiment``. Files are CSV, TSV or JSONL (format from the extension,
optionally ``.gz``). Gold labels are either sentiment names (negative/neutral/positive, also
neg/neu/pos, 0/1 are *not* guessed) or ratings turned into labels by a map such as
``1-4:negative,5-7:neutral,8-10:positive``; rows whose value the map does not cover are
skipped and counted.

Baselines, scored on exactly the same rows:

* ``majority``: the most frequent gold class of the file (per language in ``per_language``);
* ``vader``: the VADER lexicon (English rows only; it calls every Korean text neutral);
* ``prototype``: nearest class prototype on the same embeddings, where a prototype is the
  mean embedding of a few fixed, generic Korean and English anchor phrases per class (no
  training on any data): what the embeddings give without a trained head.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp.protocols import SENTIMENT_LABELS, Embedder, SentimentModel
from nlp.sentiment.metrics import binary_from_proba, confusion, expected_calibration_error, scores
from nlp.text import normalize_text

NEG, NEU, POS = SENTIMENT_LABELS
_SYNONYMS = {
    "negative": NEG, "neg": NEG, "neutral": NEU, "neu": NEU, "positive": POS, "pos": POS,
    "mixed": "mixed",
}  # fmt: skip
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:(?:-|\.\.|to)\s*(-?\d+(?:\.\d+)?))?\s*$")

# Fixed anchors of the prototype baseline: generic opinions, none taken from any data set.
PROTOTYPE_ANCHORS: dict[str, tuple[str, ...]] = {
    NEG: (
        "This is terrible, I am very disappointed.", "Awful experience, never again.",
        "It broke and nobody helped me. Worst service.", "I hate it, a complete waste of money.",
        "정말 최악이에요. 실망했습니다.", "돈 아까워요. 다시는 안 삽니다.",
        "너무 별로고 불친절했어요.", "고장 나서 화가 나요.",
    ),
    NEU: (
        "It is okay, nothing special.", "Average, neither good nor bad.",
        "I received the item on Tuesday.", "It does what it says.",
        "그냥 보통이에요.", "나쁘지도 좋지도 않아요.", "화요일에 받았습니다.", "무난합니다.",
    ),
    POS: (
        "This is excellent, I love it.", "Great experience, highly recommended.",
        "Fast, friendly and helpful service. Best ever.", "Wonderful, worth every penny.",
        "정말 최고예요. 만족합니다.", "강력 추천해요. 너무 좋아요.",
        "친절하고 빨라서 좋았어요.", "완전 재밌고 감동적이에요.",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class LabelledData:
    """Rows of a labelled file ready for evaluation.

    Attributes:
        texts: Cleaned texts.
        gold: Gold label per text.
        skipped: Counts of dropped rows by reason.
    """

    texts: list[str]
    gold: list[str]
    skipped: dict[str, int]


def parse_label_map(spec: str) -> list[tuple[float, float, str] | tuple[str, str]]:
    """Parses ``1-4:negative,5-7:neutral,8-10:positive`` (ranges inclusive) or ``0:negative``.

    Keys may also be words (``neg:negative``). Values must be sentiment names.

    Args:
        spec: Comma-separated ``KEY:LABEL`` pairs.

    Returns:
        ``(low, high, label)`` for numeric keys, ``(word, label)`` for others.

    Raises:
        ValueError: On an empty spec, a pair without ":" or an unknown label.
    """
    rules: list[tuple[float, float, str] | tuple[str, str]] = []
    for pair in (p for p in spec.split(",") if p.strip()):
        key, sep, value = pair.rpartition(":")
        label = _SYNONYMS.get(value.strip().lower())
        if not sep or label is None:
            raise ValueError(f"bad label-map entry {pair!r}: use KEY:negative|neutral|positive")
        match = _RANGE.match(key)
        if match:
            low = float(match.group(1))
            high = float(match.group(2)) if match.group(2) is not None else low
            rules.append((min(low, high), max(low, high), label))
        else:
            rules.append((key.strip().lower(), label))
    if not rules:
        raise ValueError("empty label map")
    return rules


def map_label(value: Any, rules: Sequence[tuple[Any, ...]] | None) -> str | None:
    """Turns one raw gold value into a label (None: not covered, row skipped).

    Args:
        value: Raw value of the label column.
        rules: Output of :func:`parse_label_map`, or None to read sentiment names.

    Returns:
        The label, or None.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    if rules is None:
        return _SYNONYMS.get(text)
    try:
        number: float | None = float(text)
    except ValueError:
        number = None
    for rule in rules:
        if len(rule) == 3 and number is not None and rule[0] <= number <= rule[1]:
            return str(rule[2])
        if len(rule) == 2 and text == rule[0]:
            return str(rule[1])
    return None


def read_table(path: str | Path) -> pd.DataFrame:
    """Reads CSV, TSV (no quoting, as TSV has none) or JSONL by extension (``.gz`` allowed).

    Raises:
        ValueError: On an unknown extension.
    """
    file = Path(path)
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind == ".csv":
        return pd.read_csv(file, dtype=str, keep_default_na=False)
    if kind in (".tsv", ".tab"):
        return pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    if kind in (".jsonl", ".ndjson"):
        return pd.read_json(file, lines=True, dtype=False)
    raise ValueError(f"{file.name}: unknown format (use .csv, .tsv, .jsonl, optionally .gz)")


def load_labelled(
    path: str | Path, text_col: str, label_col: str, label_map: str | None = None
) -> LabelledData:
    """Reads a labelled file into cleaned texts and gold labels.

    Args:
        path: The file.
        text_col: Column holding the text.
        label_col: Column holding the label or rating.
        label_map: Optional map spec (see :func:`parse_label_map`).

    Returns:
        Texts, gold labels and skip counts (``empty_text``, ``label_not_mapped``, ``mixed``).

    Raises:
        ValueError: If a column is missing, or no map is given and labels are not names.
    """
    frame = read_table(path)
    for column in (text_col, label_col):
        if column not in frame.columns:
            raise ValueError(f"column {column!r} not in {list(frame.columns)}")
    rules = parse_label_map(label_map) if label_map else None
    if rules is None:
        unknown = {
            str(v) for v in frame[label_col].tolist() if map_label(v, None) is None and str(v)
        }
        if unknown:
            shown = ", ".join(sorted(unknown)[:5])
            raise ValueError(f"labels {shown} are not sentiment names: pass --label-map")
    texts: list[str] = []
    gold: list[str] = []
    skipped = {"empty_text": 0, "label_not_mapped": 0, "mixed": 0}
    for raw_text, raw_label in zip(
        frame[text_col].tolist(), frame[label_col].tolist(), strict=True
    ):
        label = map_label(raw_label, rules)
        text = normalize_text(str(raw_text)) if raw_text is not None else ""
        if not text:
            skipped["empty_text"] += 1
        elif label is None:
            skipped["label_not_mapped"] += 1
        elif label == "mixed":
            skipped["mixed"] += 1  # no single gold polarity to score against
        else:
            texts.append(text)
            gold.append(label)
    return LabelledData(texts, gold, skipped)


def prototype_proba(embedder: Embedder, embeddings: np.ndarray) -> np.ndarray:
    """Softmax over cosine similarity to the class prototypes (prototype baseline).

    Args:
        embedder: The embedder that produced ``embeddings`` (embeds the anchors).
        embeddings: L2-normalised text embeddings ``(n, dim)``.

    Returns:
        Pseudo-probabilities ``(n, 3)`` in ``SENTIMENT_LABELS`` order (argmax = nearest).
    """
    protos = []
    for label in SENTIMENT_LABELS:
        centre = np.asarray(embedder.embed(list(PROTOTYPE_ANCHORS[label]))).mean(axis=0)
        protos.append(centre / (np.linalg.norm(centre) or 1.0))
    sims = np.asarray(embeddings, dtype=np.float64) @ np.stack(protos).T
    # e5 cosines sit in a narrow band; the scale only sharpens, it never changes the argmax.
    logits = 50.0 * (sims - sims.max(axis=1, keepdims=True))
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _figures(gold: np.ndarray, proba: np.ndarray, full: bool) -> dict[str, Any]:
    pred = np.array(SENTIMENT_LABELS)[proba.argmax(axis=1)]
    out = scores(gold.tolist(), pred.tolist())
    if NEU not in set(gold.tolist()) and len(gold):
        # Binary gold: also the polarity call that ignores neutral (how NSMC/UCI are reported).
        binary = binary_from_proba(proba, SENTIMENT_LABELS)
        out["binary_accuracy"] = round(float(np.mean(binary == gold)), 4)
    if full:
        out["confusion"] = confusion(gold.tolist(), pred.tolist())
        out["ece"] = expected_calibration_error(proba, gold.tolist())
    return out


def evaluate_predictions(
    gold: Sequence[str],
    languages: Sequence[str],
    proba: np.ndarray,
    baselines: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Scores the model and the baselines overall and per language.

    Args:
        gold: Gold labels.
        languages: Language per row.
        proba: Model probabilities ``(n, 3)``.
        baselines: ``name -> (row mask, probabilities of the masked rows)``.

    Returns:
        ``{"n", "accuracy", "macro_f1", "per_class_f1", "confusion", "ece",
        ["binary_accuracy"], "per_language": {lang: {...}}, "baselines": {name: {...}}}``.
    """
    y = np.asarray(gold, dtype=object)
    lang = np.asarray(languages, dtype=object)
    result: dict[str, Any] = _figures(y, proba, full=True)
    result["per_language"] = {
        str(code): _figures(y[lang == code], proba[lang == code], full=True)
        for code in sorted(set(lang.tolist()))
    }
    result["baselines"] = {}
    for name, (mask, base_proba) in baselines.items():
        entry = _figures(y[mask], base_proba, full=False)
        entry["per_language"] = {
            str(code): _figures(y[mask][lang[mask] == code], base_proba[lang[mask] == code], False)
            for code in sorted(set(lang[mask].tolist()))
        }
        result["baselines"][name] = entry
    return result


def majority_proba(gold: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """One-hot of the most frequent gold class of each row's language (ties: label order)."""
    y = np.asarray(gold, dtype=object)
    lang = np.asarray(languages, dtype=object)
    out = np.zeros((len(y), len(SENTIMENT_LABELS)))
    for code in set(lang.tolist()):
        rows = lang == code
        counts = [int(np.sum(y[rows] == label)) for label in SENTIMENT_LABELS]
        out[rows, int(np.argmax(counts))] = 1.0
    return out


def to_json(result: dict[str, Any]) -> str:
    """Serialises a result (NaN becomes null, so the output is strict JSON)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return clean(value.item())
        return value

    return json.dumps(clean(result), ensure_ascii=False, indent=1)


def run_evaluation(
    data: LabelledData,
    model: SentimentModel,
    embedder: Embedder | None,
    embeddings: np.ndarray | None,
    languages: Sequence[str],
) -> dict[str, Any]:
    """Evaluates ``model`` and the baselines on ``data``.

    Args:
        data: Texts and gold labels.
        model: The configured sentiment model.
        embedder: Embedder of ``embeddings`` (for the prototype baseline), or None.
        embeddings: Text embeddings, required when the model needs them.
        languages: Language per text.

    Returns:
        See :func:`evaluate_predictions`; the VADER baseline covers English rows only.
    """
    from nlp.sentiment.vader_baseline import VaderSentiment

    proba = model.predict_proba(data.texts, embeddings if model.needs_embeddings else None)
    everything = np.ones(len(data.texts), dtype=bool)
    baselines: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "majority": (everything, majority_proba(data.gold, languages))
    }
    english = np.asarray(languages) == "en"
    if english.any():
        english_texts = [t for t, keep in zip(data.texts, english, strict=True) if keep]
        baselines["vader"] = (english, VaderSentiment().predict_proba(english_texts))
    if embedder is not None and embeddings is not None:
        baselines["prototype"] = (everything, prototype_proba(embedder, embeddings))
    return evaluate_predictions(data.gold, languages, proba, baselines)
