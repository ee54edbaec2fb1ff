import json

import pandas as pd
import pytest

from nlp.redact import redact_pii
from nlp.text import normalize_text

pytestmark = pytest.mark.slow


def test_nightly_flow_on_real_sample_reports_quotes_from_input_and_is_incremental(
    prefect_harness, small_project
):
    from flows.nightly import nightly
    from flows.params import RunParameters

    root = small_project["root"]
    first = nightly(RunParameters(top_n=5))

    latest = root / "reports" / "latest"
    for name in ("report.html", "report.md", "pain_points.csv", "pain_points.parquet", "run.json"):
        assert (latest / name).is_file(), name
    run = json.loads((latest / "run.json").read_text(encoding="utf-8"))
    n_rows = len(small_project["sky"]) + len(small_project["ko"])
    assert run["items"]["read"] == n_rows
    counted = run["items"]["ingested_new"] + run["items"]["duplicates_in_source"]
    assert counted + run["items"]["quarantined"] == n_rows
    assert run["texts_embedded"] == run["items"]["analysed"] > 250
    assert run["themes"] >= 3
    assert set(run["timings_s"]) >= {"ingest", "embed", "sentiment", "themes"}

    table = pd.read_csv(latest / "pain_points.csv")
    required = [
        "rank", "theme_id", "label", "volume", "negative_share", "nps_impact",
        "impact_ci_low", "impact_ci_high", "example_quote",
    ]  # fmt: skip
    assert list(table.columns[: len(required)]) == required or set(required) <= set(table.columns)
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    inputs = [redact_pii(normalize_text(r["content"])).text for r in small_project["sky"]] + [
        redact_pii(normalize_text(r["review"])).text for r in small_project["ko"]
    ]
    for quote in table["example_quote"].dropna():
        stem = quote.removesuffix("…").strip()
        assert any(stem in text for text in inputs), quote
    scored = table.dropna(subset=["impact_ci_low"])
    assert (scored["impact_ci_low"] <= scored["nps_impact"]).all()
    assert (scored["nps_impact"] <= scored["impact_ci_high"]).all()
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html.split("<body")[0] and "<script src" not in html

    second = nightly(RunParameters(top_n=5))
    assert second["items"]["ingested_new"] == 0
    assert second["texts_embedded"] == 0
    assert second["texts_classified"] == 0
    assert first["run_id"] != second["run_id"]
