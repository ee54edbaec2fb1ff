"""Recall and precision of PII redaction on the labelled synthetic set (Korean and English).

The set (tests/fixtures/pii/, synthetic, see its README) has span labels. A labelled span is
recalled when every one of its characters lies inside some detected span (of any kind: a
redaction under the wrong placeholder still removes the PII); a detected span is a true
positive when it overlaps a labelled span. Figures are printed per kind (``pytest -s``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from nlp.redact import PII_KINDS, find_pii, redact_pii

SET = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "pii_labelled.jsonl"


def _load() -> list[dict]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]


def evaluate(rows: list[dict], region_of: Callable[[dict], str | None] = lambda row: None) -> dict:
    """Span-level recall per labelled kind and precision per detected kind.

    ``region_of`` gives the phone region a row's source would have (none by default).
    """
    gold_n, gold_hit, kind_right = Counter(), Counter(), Counter()
    pred_n, pred_tp = Counter(), Counter()
    misses, false_alarms = [], []
    for row in rows:
        text = row["text"]
        found = find_pii(text, region=region_of(row))
        covered = set()
        for span in found:
            covered.update(range(span.start, span.end))
        for start, end, kind in row["spans"]:
            gold_n[kind] += 1
            if set(range(start, end)) <= covered:
                gold_hit[kind] += 1
                if any(s.kind == kind and s.start <= start and s.end >= end for s in found):
                    kind_right[kind] += 1
            else:
                misses.append((kind, text[start:end], text))
        for span in found:
            pred_n[span.kind] += 1
            if any(span.start < e and s < span.end for s, e, _ in row["spans"]):
                pred_tp[span.kind] += 1
            else:
                false_alarms.append((span.kind, text[span.start : span.end], text))
    return {
        "gold_n": gold_n,
        "gold_hit": gold_hit,
        "kind_right": kind_right,
        "pred_n": pred_n,
        "pred_tp": pred_tp,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def test_labelled_set_is_large_enough_and_bilingual():
    rows = _load()
    positives = sum(len(r["spans"]) for r in rows)
    negatives = [r for r in rows if r["group"] == "negative"]
    assert {r["group"] for r in rows} == {"pii", "pii-nocue", "negative"}
    assert positives >= 300 and len(negatives) >= 300
    kinds = Counter(k for r in rows for _, _, k in r["spans"])
    assert set(kinds) == set(PII_KINDS)
    for lang in ("ko", "en"):
        assert sum(len(r["spans"]) for r in rows if r["lang"] == lang) >= 150
        assert sum(1 for r in negatives if r["lang"] == lang) >= 150


def test_recall_and_precision_meet_the_targets():
    rows = _load()
    result = evaluate([r for r in rows if r["group"] != "pii-nocue"])
    gold_n, gold_hit, kind_right = result["gold_n"], result["gold_hit"], result["kind_right"]
    pred_n, pred_tp = result["pred_n"], result["pred_tp"]
    print("\nkind     labelled recall  same-kind  detected precision")
    for kind in PII_KINDS:
        recall = gold_hit[kind] / gold_n[kind] if gold_n[kind] else float("nan")
        precision = pred_tp[kind] / pred_n[kind] if pred_n[kind] else float("nan")
        same = kind_right[kind] / gold_n[kind] if gold_n[kind] else float("nan")
        print(
            f"{kind:8} {gold_n[kind]:8} {recall:6.3f} {same:10.3f} {pred_n[kind]:9} {precision:9.3f}"
        )
    recall = sum(gold_hit.values()) / sum(gold_n.values())
    precision = sum(pred_tp.values()) / sum(pred_n.values())
    print(
        f"overall  {sum(gold_n.values()):8} {recall:6.3f} {'':10} {sum(pred_n.values()):9} {precision:9.3f}"
    )
    for miss in result["misses"]:
        print("MISS", miss)
    for alarm in result["false_alarms"]:
        print("FALSE", alarm)
    nocue = evaluate([r for r in rows if r["group"] == "pii-nocue"])
    nocue_recall = sum(nocue["gold_hit"].values()) / sum(nocue["gold_n"].values())
    print(f"names without a cue (out of scope, not in the target): recall {nocue_recall:.2f}")
    assert recall >= 0.99
    assert precision >= 0.95


def test_redaction_removes_every_labelled_value_from_the_text():
    rows = [r for r in _load() if r["group"] == "pii"]
    leaked = [
        r["id"]
        for r in rows
        for start, end, _ in r["spans"]
        if r["text"][start:end] in redact_pii(r["text"]).text
    ]
    assert len(leaked) / len(rows) <= 0.01, leaked


def test_the_committed_set_is_what_the_generator_writes():
    from tests.fixtures.pii.make_pii_set import build

    rows = build()
    assert [r["text"] for r in rows] == [r["text"] for r in _load()]
