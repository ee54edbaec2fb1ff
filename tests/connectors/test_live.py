"""Opt-in live tests: real vendor APIs, run only when credentials are in the environment.

Set ``VOCFLOW_LIVE_SOURCES`` to a YAML file with a ``sources:`` list in the same shape as
``configs/vocflow.yaml`` (options name env vars or Prefect Secret blocks, never secrets), export
the credentials those options name, and run ``pytest tests/connectors/test_live.py``. Each
source is checked (auth and one page) and its first batch is read, without touching any store
or bookmark. Without ``VOCFLOW_LIVE_SOURCES`` every test here is skipped.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.registry import build_connector

LIVE_FILE = os.environ.get("VOCFLOW_LIVE_SOURCES")


def _live_sources() -> list[dict[str, Any]]:
    if not LIVE_FILE:
        return []
    data = yaml.safe_load(Path(LIVE_FILE).read_text(encoding="utf-8")) or {}
    return list(data.get("sources") or [])


@pytest.mark.skipif(not LIVE_FILE, reason="opt-in: set VOCFLOW_LIVE_SOURCES (see module doc)")
@pytest.mark.parametrize(
    "source", _live_sources() or [None], ids=lambda s: s["name"] if s else "none"
)
def test_live_source_checks_and_reads_one_well_formed_batch(source: dict[str, Any]) -> None:
    from vocflow.secrets import install_block_loader

    if source is None:
        pytest.fail(f"{LIVE_FILE} declares no sources")
    install_block_loader()
    connector = build_connector(
        source["name"], source["kind"], source.get("options") or {},
        base_dir=Path(LIVE_FILE or ".").resolve().parent, customer_salt="live-test",
    )  # fmt: skip
    assert connector.check()
    batch = next(iter(connector.read(None)), None)
    if batch is None:
        pytest.skip(f"{source['name']}: the source returned no batch")
    keys = [item.item_key for item in batch.items]
    assert len(keys) == len(set(keys)), "duplicate item keys in one batch"
    for item in batch.items:
        assert item.source == source["name"]
        assert item.text.strip()
        assert item.created_at.utcoffset() == timedelta(0)
    for row in batch.quarantined:
        assert row.reason
