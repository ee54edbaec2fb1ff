import shutil
import webbrowser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vocflow.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "configs").mkdir()
    shutil.copy(REPO / "configs/vocflow.yaml", tmp_path / "configs/vocflow.yaml")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(tmp_path / "configs"))
    for folder in ("latest", "20261123T020000Z-abcd1234"):
        (tmp_path / "reports" / folder).mkdir(parents=True)
        (tmp_path / "reports" / folder / "report.html").write_text("<!DOCTYPE html>", "utf-8")
        (tmp_path / "reports" / folder / "report.md").write_text("# r", "utf-8")
    return tmp_path / "reports"


def test_report_latest_prints_paths(reports: Path) -> None:
    runner = CliRunner()
    html = runner.invoke(app, ["report", "latest"])
    assert html.exit_code == 0
    assert html.output.strip() == str(reports / "latest" / "report.html")
    md = runner.invoke(app, ["report", "latest", "--markdown"])
    assert md.output.strip() == str(reports / "latest" / "report.md")


def test_report_open(reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or True)
    runner = CliRunner()
    assert runner.invoke(app, ["report", "open"]).exit_code == 0
    assert runner.invoke(app, ["report", "open", "20261123T020000Z-abcd1234"]).exit_code == 0
    assert opened == [
        (reports / "latest" / "report.html").resolve().as_uri(),
        (reports / "20261123T020000Z-abcd1234" / "report.html").resolve().as_uri(),
    ]
    assert runner.invoke(app, ["report", "open", "no-such-run"]).exit_code == 1
    assert runner.invoke(app, ["report", "open", "../etc"]).exit_code == 2  # not a run id
    assert len(opened) == 2


def test_report_open_without_browser_prints_the_address(
    reports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda uri: False)
    result = CliRunner().invoke(app, ["report", "open"])
    assert result.exit_code == 0
    assert (reports / "latest" / "report.html").resolve().as_uri() in result.output
