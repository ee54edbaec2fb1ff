"""The bad-input corpus: every bad row quarantined with its reason, every good row stored."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from connectors.registry import build_connector
from tests.fixtures.bad_input.make_corpus import build_corpus
from vocflow.ingest import ingest_source
from vocflow.store import Store


@pytest.fixture
def corpus(tmp_path: Path):
    return build_corpus(tmp_path / "data")


def _ingest_all(corpus, root: Path, store: Store, run_id: str) -> dict:
    counts = {}
    for source in corpus.sources:
        connector = build_connector(
            source["name"], "file", source["options"], base_dir=root, customer_salt="corpus-salt"
        )
        counts[source["name"]] = ingest_source(connector, store, run_id)
    return counts


def test_every_bad_row_is_quarantined_with_its_reason_and_every_good_row_stored(
    corpus, tmp_path: Path
):
    with Store(tmp_path / "s.duckdb") as store:
        counts = _ingest_all(corpus, tmp_path, store, "run-1")
        total_bad = total_good = 0
        for name, expected in corpus.expected.items():
            bad = {ref: reason for ref, reason in expected.items() if reason != "ok"}
            quarantined = dict(
                store.con.execute(
                    "SELECT row_ref, reason FROM quarantine WHERE source = ?", [name]
                ).fetchall()
            )
            assert quarantined == bad, name
            stored = {
                r[0]
                for r in store.con.execute(
                    "SELECT external_id FROM items WHERE source = ?", [name]
                ).fetchall()
            }
            assert stored == corpus.good_ids[name], name
            assert counts[name].quarantined == len(bad), name
            # Every record of the file was read once: none lost to a parsing failure.
            assert counts[name].rows_read == len(expected), name
            total_bad += len(bad)
            total_good += sum(1 for r in expected.values() if r == "ok")
        reasons = Counter(r for exp in corpus.expected.values() for r in exp.values() if r != "ok")
        print(f"\ncorpus: {total_good} good rows processed, {total_bad} bad rows quarantined")
        print("reasons:", dict(sorted(reasons.items())))
        # Every reason the issue lists shows up at least once in the corpus.
        assert {
            "empty_text", "no_text_content", "text_too_long", "invalid_score",
            "score_out_of_range", "missing_date", "invalid_date", "future_date", "missing_id",
            "duplicate_conflict", "invalid_type", "invalid_json", "invalid_row",
            "malformed_row", "invalid_encoding", "date_out_of_range",
        } <= set(reasons)  # fmt: skip

        texts = dict(store.con.execute("SELECT external_id, text_clean FROM items").fetchall())
        for fragments in corpus.good_texts.values():
            for external_id, fragment in fragments.items():
                assert fragment in texts[external_id]
        # The later edit of c01 replaced the first version; the exact repeat is stored once.
        assert texts["c01"].startswith("Edited")
        assert (
            store.con.execute("SELECT count(*) FROM items WHERE external_id = 'c27'").fetchall()[0][
                0
            ]
            == 1
        )


def test_a_second_run_over_the_same_files_adds_nothing(corpus, tmp_path: Path):
    with Store(tmp_path / "s.duckdb") as store:
        _ingest_all(corpus, tmp_path, store, "run-1")
        items = store.con.execute(
            "SELECT * EXCLUDE (first_run_id, last_run_id) FROM items ORDER BY 1"
        ).fetchall()
        again = _ingest_all(corpus, tmp_path, store, "run-2")
        assert sum(c.new + c.updated + c.quarantined_new for c in again.values()) == 0
        assert (
            store.con.execute(
                "SELECT * EXCLUDE (first_run_id, last_run_id) FROM items ORDER BY 1"
            ).fetchall()
            == items
        )


def test_quarantined_rows_are_cut_hashed_and_storable(corpus, tmp_path: Path):
    with Store(tmp_path / "s.duckdb") as store:
        _ingest_all(corpus, tmp_path, store, "run-1")
        rows = store.con.execute("SELECT row_ref, reason, raw FROM quarantine").fetchall()
    by_reason = {reason: raw for _, reason, raw in rows}
    # A 1 MB text is kept as a bounded prefix, never whole.
    assert len(by_reason["text_too_long"]) <= 10_000
    # Undecodable bytes are stored as visible escapes, not lost and not crashing the store.
    encoding_rows = [raw for _, reason, raw in rows if reason == "invalid_encoding"]
    assert any("\\xff" in raw for raw in encoding_rows)
    # The raw customer id of a bad row is replaced by its salted hash.
    parsed = [json.loads(raw) for _, reason, raw in rows if reason == "score_out_of_range"]
    assert parsed and all(p["customer"].startswith("customer_key:") for p in parsed)
    assert not any("cust-" in raw for _, _, raw in rows if raw.startswith("{"))


def test_cp949_file_is_detected_and_decoded(corpus, tmp_path: Path):
    with Store(tmp_path / "s.duckdb") as store:
        _ingest_all(corpus, tmp_path, store, "run-1")
        texts = dict(
            store.con.execute(
                "SELECT external_id, text_clean FROM items WHERE source = 'bad-cp949'"
            ).fetchall()
        )
    assert texts == {
        "k1": "배송이 너무 늦어요",
        "k2": "직원분이 친절했어요",
        "k3": "환불 처리가 한 달 걸림",
    }
