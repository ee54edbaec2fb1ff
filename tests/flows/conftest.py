import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        # The heartbeat thread costs ~1 s per flow run and tests nothing here.
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


def _sample(src: Path, dst: Path, n: int, delimiter: str) -> list[dict[str, str]]:
    with src.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    # Every k-th row keeps the rating mix and the date spread of the full file.
    step = max(1, len(rows) // n)
    picked = rows[::step][:n]
    with dst.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(picked)
    return picked


@pytest.fixture
def small_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A project folder with a config over ~300 real demo rows (English and Korean)."""
    data = tmp_path / "data"
    data.mkdir()
    sky = _sample(REPO / "data/demo/skytrax_seat_reviews.csv", data / "sky.csv", 160, ",")
    ko = _sample(REPO / "data/demo/nsmc_reviews_ko.tsv", data / "ko.tsv", 160, "\t")
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"][0]["options"]["path"] = "data/sky.csv"
    base["sources"][1]["options"]["path"] = "data/ko.tsv"
    base["themes"]["min_theme_size"] = 8
    base["analysis"]["n_bootstrap"] = 300
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setenv("VOCFLOW_CUSTOMER_KEY_SALT", "test-salt")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return {"root": tmp_path, "sky": sky, "ko": ko}
