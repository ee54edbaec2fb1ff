"""Feedback in languages the models do not serve is counted and reported, not analysed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from connectors.files import FileConnector, FileSourceOptions
from outputs.analytics import unserved_note
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.analysis import unserved_languages
from vocflow.ingest import ingest_source
from vocflow.store import Store

NOW = datetime(2026, 12, 8, tzinfo=UTC)
ROWS = [
    ("1", "The app logs me out every time I open the cart.", "2026-12-01"),
    ("2", "배송이 너무 늦어요 환불해 주세요", "2026-12-01"),
    ("3", "L'application plante à chaque fois que j'ouvre mon panier.", "2026-12-02"),
    ("4", "Le remboursement n'est toujours pas arrivé après trois semaines.", "2026-12-02"),
    ("5", "Die App stürzt ständig ab, seit dem letzten Update.", "2026-12-03"),
    ("6", "新しいアップデートでアプリが落ちます", "2026-12-03"),
    ("7", "Le colis est arrivé abîmé et personne ne répond.", "2026-11-01"),  # before the window
]


def _ingest(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mixed.csv"
    pd.DataFrame(ROWS, columns=["id", "text", "day"]).to_csv(path, index=False)
    options = FileSourceOptions.model_validate(
        {
            "path": path, "channel": "review", "language": "en",
            "columns": {"id": "id", "text": "text", "created_at": "day"},
        }
    )  # fmt: skip
    ingest_source(FileConnector("mixed", options, "salt", now=NOW), store, "run-1")


def test_unserved_languages_are_stored_counted_and_left_out(
    tmp_path: Path,
    store_target: Path | str,  # noqa: F811 - the fixture imported above (DuckDB, PostgreSQL)
) -> None:
    with Store(store_target) as store:
        _ingest(tmp_path, store)
        since = datetime(2026, 11, 15, tzinfo=UTC)
        served = ["ko", "en"]
        analysed = store.load_items(since=since, languages=served)
        counts = unserved_languages(store, served, since=since)
        everything = unserved_languages(store, served)
        other_source = unserved_languages(store, served, sources=["elsewhere"])
    # The English source's French, German and Japanese rows get their own code, are not
    # analysed as English, and are counted per language within the window.
    assert sorted(analysed["language"]) == ["en", "ko"]
    assert counts == {"fr": 2, "de": 1, "ja": 1}
    assert everything["fr"] == 3
    assert other_source == {}


def test_the_report_says_what_was_not_analysed() -> None:
    (note,) = unserved_note({"fr": 12, "de": 3})
    assert "15 items" in note and "fr 12" in note and "de 3" in note
    assert unserved_note({}) == [] and unserved_note(None) == []


def test_build_report_carries_the_note_from_the_run_summary() -> None:
    from outputs.report import ThemeInfo, build_report
    from tests.outputs.conftest import items_frame, nps_rows

    items = items_frame(nps_rows(0, [10] * 20 + [0] * 20))
    report = build_report(
        items, [ThemeInfo(theme_id=0, label="t")], run_id="r", n_boot=100,
        run_summary={"unserved_languages": {"fr": 12}},
    )  # fmt: skip
    assert any(note.startswith("Not analysed: 12 items") for note in report.method_notes)
    plain = build_report(items, [ThemeInfo(theme_id=0, label="t")], run_id="r", n_boot=100)
    assert not any(note.startswith("Not analysed") for note in plain.method_notes)
