import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from outputs.churn import churn_lifts, risk_ratio
from outputs.did import did_estimates, match_theme, share_did, volume_did

# -- churn ---------------------------------------------------------------------------------


def test_risk_ratio_katz_hand_computed() -> None:
    # 8 of 20 churned vs 8 of 80 retained: (8/20) / (8/80) = 4
    # SE(ln) = sqrt(1/8 - 1/20 + 1/8 - 1/80) = sqrt(.1875) = .43301
    lift, low, high = risk_ratio(8, 20, 8, 80)
    assert lift == pytest.approx(4.0)
    assert low == pytest.approx(4 * math.exp(-1.959964 * math.sqrt(0.1875)), rel=1e-6)
    assert high == pytest.approx(4 * math.exp(1.959964 * math.sqrt(0.1875)), rel=1e-6)
    assert (round(low, 3), round(high, 3)) == (1.712, 9.346)


def test_risk_ratio_zero_cell_is_corrected() -> None:
    # Haldane-Anscombe: (0.5 / 21) / (5.5 / 81)
    lift, low, high = risk_ratio(0, 20, 5, 80)
    assert lift == pytest.approx((0.5 / 21) / (5.5 / 81))
    assert 0 < low < lift < high and math.isfinite(high)


def test_churn_lifts_count_customers_once() -> None:
    # 20 churned customers c0..c19, 80 retained r0..r79. Theme 0 is raised by c0..c7 (c0 three
    # times) and r0..r7; theme 1 by everyone once. Customers missing from the status are ignored.
    keys, themes = [], []
    for i in range(20):
        keys.append(f"c{i}")
        themes.append(1)
    for i in range(80):
        keys.append(f"r{i}")
        themes.append(1)
    keys += [f"c{i}" for i in range(8)] + ["c0", "c0"] + [f"r{i}" for i in range(8)] + ["x"] * 5
    themes += [0] * 8 + [0, 0] + [0] * 8 + [0] * 5
    items = pd.DataFrame({"customer_key": keys, "theme_id": themes})
    status = {f"c{i}": True for i in range(20)} | {f"r{i}": False for i in range(80)}
    lifts = churn_lifts(items, status)
    assert lifts[0].churned_with == 8
    assert lifts[0].retained_with == 8
    assert (lifts[0].churned_total, lifts[0].retained_total) == (20, 80)
    assert lifts[0].lift == pytest.approx(4.0)
    assert lifts[1].lift == pytest.approx(1.0)
    assert lifts[0].describe() == "churn lift ×4.0 [1.7, 9.3] (8 of 20 churned customers)"
    assert churn_lifts(items, status, min_customers=21) == {}
    assert churn_lifts(items.drop(columns="customer_key"), status) == {}


# -- did ------------------------------------------------------------------------------------


def test_volume_did_hand_computed() -> None:
    # ln(5/10) - ln(100/100) = -.6931 -> -50 %; SE = sqrt(1/5 + 1/10 + 1/100 + 1/100) = sqrt(.32)
    est = volume_did(10, 5, 100, 100)
    se = math.sqrt(0.32)
    assert est.estimate == pytest.approx(-50.0)
    assert est.ci_low == pytest.approx(100 * (math.exp(math.log(0.5) - 1.959964 * se) - 1))
    assert est.ci_high == pytest.approx(100 * (math.exp(math.log(0.5) + 1.959964 * se) - 1))
    # A theme that vanishes after the fix: 0.5 is added to every cell.
    gone = volume_did(10, 0, 100, 100)
    assert gone.estimate == pytest.approx(100 * (0.5 / 10.5 - 1))


def test_share_did_hand_computed() -> None:
    # (1/5 - 6/10) - (30/100 - 30/100) = -40 pp
    # SE = 100 sqrt(.24/10 + .16/5 + .21/100 + .21/100) = 24.536
    est = share_did((6, 1, 30, 30), (10, 5, 100, 100))
    assert est is not None
    assert est.estimate == pytest.approx(-40.0)
    assert est.ci_high == pytest.approx(-40.0 + 1.959964 * 100 * math.sqrt(0.0602), rel=1e-5)
    assert share_did((1, 1, 1, 1), (0, 5, 5, 5)) is None


def _did_items() -> pd.DataFrame:
    """Action date 2026-11-10, 14-day windows. Per window: theme 0 (treated) 10 items, themes 1
    and 2 (controls) 20 each, outliers 50 x 8. Before: theme 0 all 0 (negative), theme 1 all 10,
    theme 2 all 0. After: theme 0 all 10 (fixed), the rest unchanged.

    LOO NPS impacts (I = NPS(all) - NPS(without)):
      before: NPS(all) = (20 - 30) / 100 = -10; I0 = -10 - 0 = -10; I1 = -10 - (-37.5) = 27.5;
              I2 = -10 - 12.5 = -22.5
      after:  NPS(all) = (30 - 20) / 100 = 10; I0 = 10 - 0 = 10; I1 = 10 - (-12.5) = 22.5;
              I2 = 10 - 37.5 = -27.5
    Shares over both windows: s0 = 20/200 = .1, s1 = s2 = .2.
    DiD = (10 - (-10)) - .1 x mean(-5 / .2, -5 / .2) = 20 + 2.5 = 22.5.
    """
    rows = []
    for period, day in (("b", date(2026, 11, 3)), ("a", date(2026, 11, 12))):
        fixed = period == "a"
        rows += [(day, 0, 10.0 if fixed else 0.0, "positive" if fixed else "negative")] * 10
        rows += [(day, 1, 10.0, "positive")] * 20 + [(day, 2, 0.0, "negative")] * 20
        rows += [(day, -1, 8.0, "neutral")] * 50
    frame = pd.DataFrame(rows, columns=["day", "theme_id", "score", "sentiment"])
    frame["created_at"] = pd.to_datetime(frame["day"].astype(str) + "T09:00:00Z", utc=True)
    frame["score_type"] = "nps"
    return frame


def test_did_estimates_hand_computed() -> None:
    estimates, n_b, n_a, controls = did_estimates(
        _did_items(), 0, date(2026, 11, 10), window_days=14, n_boot=300, seed=1
    )
    assert (n_b, n_a, controls) == (100, 100, [1, 2])
    by = {e.outcome: e for e in estimates}
    assert by["volume"].estimate == pytest.approx(0.0)  # 10 -> 10 vs 40 -> 40
    # negative share: theme 0 100 % -> 0 %, controls 50 % -> 50 %: -100 pp (SE 0: all exact)
    assert by["negative_share"].estimate == pytest.approx(-100.0)
    # theme NPS: (100 - (-100)) - (0 - 0) = 200
    assert by["theme_nps"].estimate == pytest.approx(200.0)
    impact = by["nps_impact"]
    assert (impact.treated_before, impact.treated_after) == pytest.approx((-10.0, 10.0))
    assert impact.estimate == pytest.approx(22.5)
    assert impact.ci_low is not None and impact.ci_high is not None
    assert impact.ci_low <= 22.5 <= impact.ci_high
    again = did_estimates(_did_items(), 0, date(2026, 11, 10), window_days=14, n_boot=300, seed=1)
    assert again[0][-1] == impact  # the bootstrap is reproducible per seed


def test_default_controls_exist_in_both_windows() -> None:
    items = _did_items()
    born = items.iloc[:30].assign(theme_id=3, created_at=pd.Timestamp("2026-11-15T09:00Z"))
    estimates, *_, controls = did_estimates(
        pd.concat([items, born]), 0, date(2026, 11, 10), window_days=14, n_boot=50
    )
    # Theme 3 appears only after the action: in the controls it would fake a -43 % volume.
    assert controls == [1, 2]
    assert estimates[0].outcome == "volume"
    assert estimates[0].estimate == pytest.approx(0.0)


def test_did_needs_data_on_both_sides() -> None:
    items = _did_items()
    before_only = items[items["created_at"] < pd.Timestamp("2026-11-10", tz="UTC")]
    estimates, n_b, n_a, _ = did_estimates(before_only, 0, date(2026, 11, 10), window_days=14)
    assert estimates == [] and (n_b, n_a) == (100, 0)
    # Items outside the windows are ignored.
    far = items.assign(created_at=items["created_at"] + pd.Timedelta(days=60))
    assert did_estimates(far, 0, date(2026, 11, 10) + timedelta(days=200))[0] == []
    assert np.isfinite(volume_did(1, 1, 1, 1).estimate or 0)


def test_match_theme_by_label_then_words() -> None:
    labels = {0: "card delivery", 1: "refund delays", 2: "Card Delivery"}
    keywords = {1: ["refund", "money", "late"], 0: ["card", "arrive"]}
    assert match_theme("card delivery", labels, keywords) == 0  # exact, smallest id
    assert match_theme("late money", labels, keywords) == 1  # every word in label + keywords
    assert match_theme("card arrive", labels, keywords) == 0
    assert match_theme("app crashes", labels, keywords) is None
    assert match_theme("  ", labels, keywords) is None
