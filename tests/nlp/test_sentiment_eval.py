"""Evaluation on labelled files: label maps, formats, skip counts, figures and baselines."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from nlp.protocols import SENTIMENT_LABELS
from nlp.sentiment.eval import (
    evaluate_predictions,
    load_labelled,
    majority_proba,
    map_label,
    parse_label_map,
    read_table,
    to_json,
)
from nlp.sentiment.metrics import confusion, expected_calibration_error, scores


def test_label_map_ranges_single_values_words_and_gaps() -> None:
    rules = parse_label_map("1-4:negative,5-7:neutral,9..10:positive,-4--1:negative")
    assert [map_label(v, rules) for v in (1, "4", 4.5, 6, 8, 10, -2)] == [
        "negative", "negative", None, "neutral", None, "positive", "negative",
    ]  # fmt: skip
    words = parse_label_map("pos:positive, neg:negative")
    assert map_label(" POS ", words) == "positive" and map_label("meh", words) is None
    assert map_label("Neg", None) == "negative" and map_label("1", None) is None
    assert map_label(float("nan"), rules) is None
    with pytest.raises(ValueError, match="KEY:negative"):
        parse_label_map("1-4:bad")
    with pytest.raises(ValueError, match="empty"):
        parse_label_map(" , ")


def test_formats_by_extension(tmp_path: Path) -> None:
    rows = [{"t": '리뷰 "인용" 좋아요', "r": "9"}, {"t": "bad, really", "r": "2"}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    (tmp_path / "a.csv").write_text('t,r\n"bad, really",2\n')
    with gzip.open(tmp_path / "a.tsv.gz", "wt", encoding="utf-8") as f:
        f.write('t\tr\n리뷰 "인용" 좋아요\t9\n')  # stray quotes: TSV has no quoting
    assert read_table(tmp_path / "a.jsonl")["t"].tolist()[0] == '리뷰 "인용" 좋아요'
    assert read_table(tmp_path / "a.csv")["t"].tolist() == ["bad, really"]
    assert read_table(tmp_path / "a.tsv.gz")["t"].tolist() == ['리뷰 "인용" 좋아요']
    with pytest.raises(ValueError, match="unknown format"):
        read_table(tmp_path / "a.xlsx")


def test_load_labelled_cleans_texts_and_counts_skips(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("text,rating\nGreat &amp; fast,9\n,9\nmeh,8\nawful,1\nok,6\n")
    data = load_labelled(path, "text", "rating", "1-4:negative,5-6:neutral,9-10:positive")
    assert data.texts == ["Great & fast", "awful", "ok"]
    assert data.gold == ["positive", "negative", "neutral"]
    assert data.skipped == {"empty_text": 1, "label_not_mapped": 1, "mixed": 0}
    with pytest.raises(ValueError, match="label-map"):
        load_labelled(path, "text", "rating")
    with pytest.raises(ValueError, match="column 'nope'"):
        load_labelled(path, "nope", "rating")
    named = tmp_path / "n.jsonl"
    named.write_text('{"x": "a b", "y": "Mixed"}\n{"x": "c d", "y": "pos"}\n')
    data = load_labelled(named, "x", "y")
    assert data.gold == ["positive"] and data.skipped["mixed"] == 1


def one_hot(labels: list[str]) -> np.ndarray:
    return np.eye(3)[[SENTIMENT_LABELS.index(x) for x in labels]]


def test_figures_per_language_binary_accuracy_and_baselines() -> None:
    gold = ["negative", "positive", "positive", "negative", "positive", "positive"]
    langs = ["ko", "ko", "ko", "en", "en", "en"]
    # The model's last row says neutral, but leans positive over negative.
    proba = np.vstack([one_hot(gold[:5]), [[0.2, 0.5, 0.3]]])
    majority = majority_proba(gold, langs)
    result = evaluate_predictions(
        gold, langs, proba, {"majority": (np.ones(6, dtype=bool), majority)}
    )
    assert result["n"] == 6 and result["accuracy"] == pytest.approx(0.8333, abs=1e-4)
    assert result["binary_accuracy"] == 1.0  # binary gold: neutral ignored
    assert result["per_language"]["ko"]["accuracy"] == 1.0
    assert result["per_language"]["en"]["n"] == 3
    assert result["confusion"]["positive"] == {"negative": 0, "neutral": 1, "positive": 3}
    base = result["baselines"]["majority"]
    assert base["accuracy"] == pytest.approx(4 / 6, abs=1e-4) and base["macro_f1"] < 0.5
    assert set(base["per_language"]) == {"ko", "en"}
    out = json.loads(to_json(result | {"nan": float("nan")}))
    assert out["nan"] is None and out["per_language"]["ko"]["macro_f1"] == 1.0


def test_metric_helpers() -> None:
    assert scores([], [])["n"] == 0
    s = scores(["negative", "positive"], ["neutral", "positive"])
    assert set(s["per_class_f1"]) == {"negative", "positive"} and s["accuracy"] == 0.5
    assert confusion(["negative"], ["mixed"])["negative"] == dict.fromkeys(SENTIMENT_LABELS, 0)
    sure = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert expected_calibration_error(sure, ["positive", "negative"]) == 0.0
    assert expected_calibration_error(sure, ["negative", "positive"]) == 1.0
