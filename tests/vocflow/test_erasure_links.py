"""Erasure and the latest-<scope> links of ad-hoc runs."""

from pathlib import Path

from vocflow.erasure import remove_report_folders, reports_quoting


def _folder(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "report.md").write_text(text, encoding="utf-8")
    return folder


def test_links_are_not_reported_twice_and_dangling_ones_go(tmp_path: Path) -> None:
    quoting = _folder(tmp_path, "run-1", "quote: 환불이 안 돼요 from a forgotten customer")
    _folder(tmp_path, "run-2", "nothing to see")
    (tmp_path / "latest-demo-nsmc").symlink_to("run-1", target_is_directory=True)
    (tmp_path / "latest-other").symlink_to("run-2", target_is_directory=True)
    found = reports_quoting(tmp_path, ["환불이 안 돼요"])
    assert found == [quoting]
    assert remove_report_folders(found) == 1
    assert not (tmp_path / "latest-demo-nsmc").is_symlink()  # pointed at the removed run
    assert (tmp_path / "latest-other").resolve() == (tmp_path / "run-2").resolve()
