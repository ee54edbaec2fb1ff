"""The labelled PII set redacted with the phone region a source of each language would get.

A Korean source defaults to region KR and an English one to US (``vocflow.privacy``), which
adds libphonenumber's matcher to the phone patterns. It must keep the set's targets, and
find nothing in the hard negatives (dates, prices, order and business numbers, versions)
that the patterns alone did not.
"""

from __future__ import annotations

import pytest

from tests.hardening.test_pii_eval import _load, evaluate
from vocflow.privacy import source_phone_region


def _default_region(row: dict) -> str | None:
    return source_phone_region({"language": row["lang"]})


def _totals(result: dict) -> tuple[float, float]:
    recall = sum(result["gold_hit"].values()) / sum(result["gold_n"].values())
    precision = sum(result["pred_tp"].values()) / sum(result["pred_n"].values())
    return recall, precision


def test_the_default_regions_keep_the_targets_and_add_no_false_alarm():
    rows = [r for r in _load() if r["group"] != "pii-nocue"]
    plain = evaluate(rows)
    regional = evaluate(rows, _default_region)
    recall, precision = _totals(regional)
    print(f"\nwith regions KR/US: recall {recall:.3f}, precision {precision:.3f}")
    assert recall >= 0.99 and precision >= 0.95
    assert set(regional["false_alarms"]) <= set(plain["false_alarms"])
    assert _totals(regional)[0] >= _totals(plain)[0]


@pytest.mark.parametrize("region", ["DE", "FR", "GB", "JP", "IN", "BR", "ES", "IT", "AU", "CN"])
def test_no_region_turns_the_hard_negatives_into_phone_numbers(region: str):
    negatives = [r for r in _load() if r["group"] == "negative"]
    result = evaluate(negatives, lambda row: region)
    phones = [alarm for alarm in result["false_alarms"] if alarm[0] == "PHONE"]
    assert phones == []
