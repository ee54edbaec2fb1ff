"""Projects for the hardening flow tests: tiny real samples, optional PII and bad-input files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.flows.conftest import REPO, _sample, prefect_harness  # noqa: F401  (fixture reuse)

VOCFLOW = Path(sys.executable).with_name("vocflow")


def write_project(
    root: Path,
    n_per_language: int = 40,
    batch_size: int = 10,
    min_theme_size: int = 5,
    extra_sources: list[dict[str, Any]] | None = None,
    edit_rows: Callable[[str, list[dict[str, str]]], None] | None = None,
    settings: dict[str, Any] | None = None,
    edit_config: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Writes data/ and configs/ under ``root`` over real demo rows (English and Korean).

    Args:
        root: Project folder.
        n_per_language: Rows sampled from each demo file.
        batch_size: Ingest batch size (several batches make mid-ingest crash points).
        min_theme_size: Theme size; above half the rows per language no theme is fitted,
            which skips UMAP (tens of seconds of JIT per process).
        extra_sources: More source configs (paths relative to ``root``).
        edit_rows: Called with ("sky"|"ko", rows) to change rows before they are written.
        settings: Top-level settings merged into the config.
        edit_config: Called with the config mapping before it is written.

    Returns:
        ``{"root", "sky", "ko"}`` with the sampled rows.
    """
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    rows = {}
    for key, src, name, sep in (
        ("sky", "skytrax_seat_reviews.csv", "sky.csv", ","),
        ("ko", "nsmc_reviews_ko.tsv", "ko.tsv", "\t"),
    ):
        picked = _sample(REPO / "data/demo" / src, data / name, n_per_language, sep)
        if edit_rows is not None:
            import csv

            edit_rows(key, picked)
            with (data / name).open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(picked[0]), delimiter=sep)
                writer.writeheader()
                writer.writerows(picked)
        rows[key] = picked
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"][0]["options"]["path"] = "data/sky.csv"
    base["sources"][1]["options"]["path"] = "data/ko.tsv"
    for source in base["sources"]:
        source["options"]["batch_size"] = batch_size
    base["sources"] += extra_sources or []
    base["themes"]["min_theme_size"] = min_theme_size
    base["analysis"]["n_bootstrap"] = 100
    base.update(settings or {})
    if edit_config is not None:
        edit_config(base)
    configs = root / "configs"
    configs.mkdir(exist_ok=True)
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    return {"root": root, **rows}


def run_cli(
    root: Path,
    api_url: str,
    args: list[str],
    env: dict[str, str | None] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """Runs the ``vocflow`` command on a project against a running Prefect API.

    ``env`` entries override the defaults; a None value removes the variable.
    """
    full_env: dict[str, str | None] = {
        **os.environ,
        "VOCFLOW_CONFIG_DIR": str(root / "configs"),
        "VOCFLOW_CUSTOMER_KEY_SALT": "hardening-test-salt",
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(root / ".prefect"),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "DO_NOT_TRACK": "1",
        **(env or {}),
    }
    return subprocess.run(  # noqa: S603 - fixed argv, test-controlled
        [str(VOCFLOW), *args],
        cwd=root,
        env={k: v for k, v in full_env.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:  # noqa: F811 - the re-exported session fixture
    """URL of the session's test Prefect API, for subprocesses."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "prefect_test_harness sets PREFECT_API_URL"
    return str(url)
