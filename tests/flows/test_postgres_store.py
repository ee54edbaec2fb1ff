"""The nightly flow against a PostgreSQL store (``store_url``) instead of the DuckDB file."""

import csv
from pathlib import Path

import pytest
import yaml

from tests.flows.conftest import REPO, _sample
from tests.store_targets import postgres_database, postgres_store_server  # noqa: F401
from vocflow.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_store_server: object,  # noqa: F811 - imported fixture
) -> dict[str, object]:
    """A project over 40 demo rows (20 English, 20 Korean) whose store is PostgreSQL."""
    data = tmp_path / "data"
    data.mkdir()
    sky = _sample(REPO / "data/demo/skytrax_seat_reviews.csv", data / "sky.csv", 20, ",")
    ko = _sample(REPO / "data/demo/nsmc_reviews_ko.tsv", data / "ko.tsv", 20, "\t")
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"][0]["options"]["path"] = "data/sky.csv"
    base["sources"][1]["options"]["path"] = "data/ko.tsv"
    base["themes"]["min_theme_size"] = 3
    base["analysis"]["n_bootstrap"] = 100
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    url = postgres_database(postgres_store_server, monkeypatch)  # type: ignore[arg-type]
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setenv("VOCFLOW_CUSTOMER_KEY_SALT", "test-salt")
    monkeypatch.setenv("VOCFLOW_STORE_URL", url)  # password: VOCFLOW_STORE_PASSWORD
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return {"root": tmp_path, "url": url, "rows": len(sky) + len(ko)}


def _counts(url: str) -> dict[str, int]:
    with Store(url, read_only=True) as store:
        return {
            table: int(store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            for table in ("items", "embeddings", "enrichments", "themes", "item_themes", "runs")
        }


def test_nightly_flow_on_a_postgres_store_lands_everything_and_a_rerun_adds_nothing(
    prefect_harness: None, postgres_project: dict[str, object]
) -> None:
    from flows.nightly import nightly
    from flows.params import RunParameters
    from vocflow.settings import load_settings

    url = str(postgres_project["url"])
    assert load_settings().store_target == url
    first = nightly(RunParameters(top_n=3))
    assert not (Path(str(postgres_project["root"])) / ".vocflow").exists()  # no DuckDB file
    counts = _counts(url)
    stored = first["items"]["ingested_new"]
    assert 30 <= stored <= int(str(postgres_project["rows"]))
    assert counts["items"] == stored == first["items"]["analysed"]
    assert counts["embeddings"] >= stored and counts["enrichments"] >= stored
    assert counts["themes"] >= 1 and counts["item_themes"] == stored
    with Store(url, read_only=True) as store:
        text_hash, model_id = store.con.execute(
            "SELECT e.text_hash, e.model_id FROM embeddings e JOIN items i USING (text_hash) LIMIT 1"
        ).fetchall()[0]
        vector = store.load_embeddings([str(text_hash)], str(model_id))
        assert vector.shape[0] == 1 and abs(float((vector**2).sum()) - 1.0) < 1e-2
    report = Path(str(first["report_dir"])) / "pain_points.csv"
    with report.open(encoding="utf-8") as handle:
        assert list(csv.DictReader(handle))

    second = nightly(RunParameters(top_n=3))
    assert second["items"]["ingested_new"] == 0
    assert second["texts_embedded"] == 0 and second["texts_classified"] == 0
    after = _counts(url)
    assert {k: v for k, v in after.items() if k not in ("runs", "themes", "item_themes")} == {
        k: v for k, v in counts.items() if k not in ("runs", "themes", "item_themes")
    }
    assert after["runs"] == counts["runs"] + 1
