from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from outputs.bundle import write_bundle
from outputs.history import Changes, changes_since, headline, previous_headline
from outputs.report import Report

NIGHTLY = {"params": {"sources": [], "languages": [], "window_days": 90}}


def _later(report: Report, run_id: str, hours: int, **update) -> Report:
    return report.model_copy(
        update={
            "run_id": run_id,
            "generated_at": report.generated_at + timedelta(hours=hours),
            **update,
        }
    )


def test_headline_holds_figures_and_ranks(sample_report: Report) -> None:
    h = headline(sample_report)
    assert h.figures["nps"] == pytest.approx(14.4)  # (87 - 51) / 250
    assert h.figures["items"] == 263
    assert h.ranks == {0: 1, 1: 2, 2: 3, 3: 4}


def test_changes_and_rank_moves(sample_report: Report) -> None:
    before = headline(sample_report)
    swapped = [
        t.model_copy(update={"rank": {0: 2, 1: 1}.get(t.theme_id, t.rank)})
        for t in sample_report.pain_points
    ]
    kpis = sample_report.kpis.model_copy(update={"nps": 10.4, "n_items": 300})
    now = _later(sample_report, "r2", 24, pain_points=swapped, kpis=kpis)
    changes = changes_since(now, before)
    assert isinstance(changes, Changes)
    assert changes.delta("nps") == pytest.approx(-4.0)
    assert changes.delta("items") == 37
    assert changes.delta("no-such-figure") is None
    assert changes.rank_move(1, 1) == "↑1"
    assert changes.rank_move(0, 2) == "↓1"
    assert changes.rank_move(2, 3) == "="
    assert changes.rank_move(42, 5) == "new"
    assert changes_since(now, None) is None


def test_previous_headline_same_scope_only(sample_report: Report, tmp_path: Path) -> None:
    first = sample_report.model_copy(update={"run_summary": NIGHTLY})
    write_bundle(first, tmp_path, {})
    other_scope = {"params": {**NIGHTLY["params"], "sources": ["demo-nsmc"]}}
    write_bundle(_later(first, "adhoc", 1, run_summary=other_scope), tmp_path, {})
    now = _later(first, "r3", 2)
    found = previous_headline(tmp_path, now)
    assert found is not None and found.run_id == first.run_id  # not the ad-hoc slice
    # Nothing earlier than the first run: no previous headline.
    assert previous_headline(tmp_path, first) is None


def test_bundle_shows_change_since_last_run(sample_report: Report, tmp_path: Path) -> None:
    first = sample_report.model_copy(update={"run_summary": NIGHTLY})
    run1 = write_bundle(first, tmp_path, {})
    assert "No earlier run of the same scope" in (run1 / "report.md").read_text("utf-8")
    kpis = first.kpis.model_copy(update={"nps": 12.4, "n_items": 250})
    run2 = write_bundle(_later(first, "r2", 24, kpis=kpis), tmp_path, {})
    md = (run2 / "report.md").read_text("utf-8")
    html = (run2 / "report.html").read_text("utf-8")
    assert f"Changes are against run {first.run_id}." in md
    assert "(−2.0 since last run)" in md  # NPS 12.4 vs 14.4
    assert "- **Items:** 250 (" in md and "(−13 since last run)" in md
    assert "−2.0 since last run" in html and "−13 since last run" in html
    assert f"Changes are against run {first.run_id}" in html
    assert (tmp_path / "latest" / "headline.json").read_bytes() == (
        run2 / "headline.json"
    ).read_bytes()


def test_unreadable_headline_is_ignored(sample_report: Report, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "headline.json").write_text("{not json", encoding="utf-8")
    later = _later(sample_report, "r2", 1)
    assert previous_headline(tmp_path, later) is None
    assert later.generated_at - sample_report.generated_at == timedelta(hours=1)
    assert later.generated_at.tzinfo == UTC and isinstance(later.generated_at, datetime)
