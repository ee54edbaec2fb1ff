"""Quotes prefer texts without PII placeholders, by rule and on fixed input (no clustering).

Which members of a theme are central depends on the embedding kernels of the CPU at hand
(issue 16: on an AVX512-VNNI Xeon a redacted review became a theme's quote, on an AVX2 EPYC a
clean one did). These tests pin the rule itself with hand-made vectors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nlp.theme_labels import has_redaction, quote_tier, select_representatives
from outputs.ranking import rank_themes
from outputs.report import ThemeInfo
from tests.outputs.conftest import Row, items_frame


def _unit(rows: list[list[float]]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Call me on [PHONE] about the refund", True),
        ("[NAME]님 상담 감사합니다", True),
        ("메일 [EMAIL] 으로 답장 부탁", True),
        ("seat [14C] had no legroom", False),  # brackets, but no placeholder kind
        ("[phone] lower case is customer text", False),
        ("The refund took forever", False),
    ],
)
def test_has_redaction_knows_the_placeholders(text: str, redacted: bool) -> None:
    assert has_redaction(text) is redacted


def test_quote_tiers_put_readable_clean_text_first() -> None:
    assert quote_tier("the courier lost my parcel") == 0
    assert quote_tier("call [PHONE] about my parcel") == 1
    assert quote_tier("ok") == 2
    assert quote_tier("[PHONE] ok") == 3


def test_a_central_redacted_text_is_not_quoted_while_clean_ones_exist() -> None:
    texts = [
        "Call me on [PHONE] the parcel is late",  # 0: most central, redacted
        "메일 [EMAIL] 으로 답장 부탁 배송 늦음",  # 1: second most central, redacted
        "my parcel arrived two weeks late",  # 2
        "the courier lost the parcel entirely",  # 3
        "delivery was late and nobody called",  # 4
    ]
    emb = _unit([[1, 0, 0], [1, 0.05, 0], [1, 0.5, 0], [1, -0.5, 0.2], [1, 0.3, -0.5]])
    members = np.arange(5)
    picked = select_representatives(members, emb, texts, k=3)
    assert sorted(picked) == [2, 3, 4]
    # Only when clean texts run out do redacted ones fill the slots, most central first.
    assert select_representatives(members, emb, texts, k=4)[3] == 0
    # A theme made only of redacted texts still gets its quotes.
    apart = _unit([[1, 0, 0], [0.6, 0.8, 0]])  # not near-duplicates of each other
    assert sorted(select_representatives(np.array([0, 1]), apart, texts, k=3)) == [0, 1]


def test_a_redacted_sentence_still_beats_an_unquotable_fragment() -> None:
    texts = ["ok thanks", "Mr. [NAME] at the desk was rude to me", "fine"]
    emb = _unit([[1, 0, 0], [1, 0.4, 0], [1, -0.4, 0]])
    assert select_representatives(np.arange(3), emb, texts, k=1) == (1,)


def test_report_quotes_lead_with_clean_text_in_both_selection_paths() -> None:
    rows: list[Row] = [
        (0, math.nan, None, s) for s in ("negative", "negative", "positive", "negative")
    ]
    texts = [
        "Call me on [PHONE] the app is broken",
        "[NAME] ignored my complaint about the app",
        "the app crashes when I open settings",
        "login fails after the update",
    ]
    frame = items_frame(rows, text=texts)
    # The theme model's picks (stored by an older run) lead with a redacted text: the report
    # still shows the clean pick first, as the example quote.
    picked = ThemeInfo(theme_id=0, label="app", quote_item_keys=["i0000", "i0002"])
    (stats,) = rank_themes(frame, [picked], n_boot=10)
    assert [q.item_key for q in stats.quotes] == ["i0002", "i0003", "i0000"]
    assert stats.example_quote == texts[2]
    # No picks at all: the fill takes clean texts before redacted ones, negative first.
    (filled,) = rank_themes(frame, [ThemeInfo(theme_id=0, label="app")], n_boot=10)
    assert [q.item_key for q in filled.quotes] == ["i0003", "i0002", "i0000"]
    assert not any(has_redaction(q.text) for q in filled.quotes[:2])
