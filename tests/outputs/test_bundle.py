import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from outputs.bundle import BUNDLE_FILES, check_run_id, write_bundle
from outputs.report import Report
from outputs.tables import pain_points_frame


def _run_json() -> dict:
    return {"run_id": "x", "started": datetime(2026, 11, 23, tzinfo=UTC), "note": "한국어"}


def test_writes_five_files_and_latest_copy(sample_report: Report, tmp_path: Path) -> None:
    run_dir = write_bundle(sample_report, tmp_path, _run_json())
    assert run_dir == tmp_path / sample_report.run_id
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(BUNDLE_FILES)
    latest = tmp_path / "latest"
    for name in BUNDLE_FILES:
        assert (latest / name).read_bytes() == (run_dir / name).read_bytes()
    # No staging folders left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([run_dir.name, "latest"])


def test_file_contents(sample_report: Report, tmp_path: Path) -> None:
    run_dir = write_bundle(sample_report, tmp_path, _run_json())
    run_json = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert run_json["started"] == "2026-11-23 00:00:00+00:00"  # default=str
    assert "한국어" in (run_dir / "run.json").read_text(encoding="utf-8")  # ensure_ascii=False
    expected = pain_points_frame(sample_report)
    pd.testing.assert_frame_equal(pd.read_parquet(run_dir / "pain_points.parquet"), expected)
    csv = pd.read_csv(run_dir / "pain_points.csv", encoding="utf-8")
    assert csv["label"].tolist() == expected["label"].tolist()
    assert not (run_dir / "pain_points.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (run_dir / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_latest_follows_newest_run(sample_report: Report, tmp_path: Path) -> None:
    write_bundle(sample_report, tmp_path, {"n": 1})
    second = sample_report.model_copy(update={"run_id": "second"})
    run_dir = write_bundle(second, tmp_path, {"n": 2})
    latest = tmp_path / "latest"
    assert json.loads((latest / "run.json").read_text(encoding="utf-8")) == {"n": 2}
    assert (latest / "report.md").read_bytes() == (run_dir / "report.md").read_bytes()
    assert (tmp_path / sample_report.run_id / "run.json").exists()  # older run kept
    # Rewriting the same run id replaces its folder.
    write_bundle(second, tmp_path, {"n": 3})
    assert json.loads((run_dir / "run.json").read_text(encoding="utf-8")) == {"n": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [sample_report.run_id, "second", "latest"]
    )


@pytest.mark.parametrize(
    "run_id", ["", "..", "../escape", "a/b", "a\\b", "latest", ".hidden", "x..y", "nul\x00"]
)
def test_bad_run_id_rejected(sample_report: Report, tmp_path: Path, run_id: str) -> None:
    bad = sample_report.model_copy(update={"run_id": run_id})
    with pytest.raises(ValueError, match="unsafe run_id"):
        write_bundle(bad, tmp_path / "reports", {})
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_good_run_id_accepted() -> None:
    assert check_run_id("2026-11-23T02:00:00Z_abc") == "2026-11-23T02:00:00Z_abc"


def test_an_ad_hoc_run_links_its_scope_and_leaves_latest_alone(
    sample_report: Report, tmp_path: Path
) -> None:
    write_bundle(sample_report, tmp_path, {"n": 1})
    nightly_html = (tmp_path / "latest" / "report.html").read_bytes()
    adhoc = sample_report.model_copy(update={"run_id": "adhoc"})
    run_dir = write_bundle(adhoc, tmp_path, {"n": 2}, scope="demo-nsmc_ko")
    assert json.loads((tmp_path / "latest" / "run.json").read_text()) == {"n": 1}
    assert (tmp_path / "latest" / "report.html").read_bytes() == nightly_html
    link = tmp_path / "latest-demo-nsmc_ko"
    assert link.is_symlink() and link.resolve() == run_dir.resolve()
    assert json.loads((link / "run.json").read_text()) == {"n": 2}
    # The next run of that scope moves the link; the older run's folder stays.
    again = sample_report.model_copy(update={"run_id": "adhoc-2"})
    write_bundle(again, tmp_path, {"n": 3}, scope="demo-nsmc_ko")
    assert link.resolve() == (tmp_path / "adhoc-2").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [sample_report.run_id, "adhoc", "adhoc-2", "latest", "latest-demo-nsmc_ko"]
    )


@pytest.mark.parametrize("scope", ["", "../up", ".hidden", "a/b"])
def test_unsafe_scope_rejected(sample_report: Report, tmp_path: Path, scope: str) -> None:
    with pytest.raises(ValueError, match="unsafe report scope"):
        write_bundle(sample_report, tmp_path, {}, scope=scope)


def test_run_ids_that_look_like_latest_links_are_rejected() -> None:
    with pytest.raises(ValueError, match="unsafe run_id"):
        check_run_id("latest-demo")
