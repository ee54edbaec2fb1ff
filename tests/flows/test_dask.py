"""The nightly flow with `execution.executor: dask` (prefect-dask, LocalCluster of 2 processes).

Both runs use the real default models (e5-onnx and the embedding head) on the same real Korean
demo rows (the NSMC source of the small project: short texts keep the test near two minutes), each with its own store and reports folder; the Dask run must store the same
embeddings and sentiment and rank the same pain points as the local run.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

SHARD = 64


def _use(monkeypatch: pytest.MonkeyPatch, root: Path, executor: str) -> None:
    monkeypatch.setenv("VOCFLOW_EXECUTION__EXECUTOR", executor)
    monkeypatch.setenv("VOCFLOW_EXECUTION__DASK_WORKERS", "2")
    monkeypatch.setenv("VOCFLOW_EXECUTION__SHARD_SIZE", str(SHARD))
    monkeypatch.setenv("VOCFLOW_STORE_PATH", str(root / f"{executor}.duckdb"))
    monkeypatch.setenv("VOCFLOW_REPORTS_DIR", str(root / f"reports-{executor}"))


def _stored(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from vocflow.store import Store

    with Store(path) as store:
        items = store.load_items()
        vectors = store.load_embeddings(items["text_hash"].tolist(), _embedder_id())
        embeddings = pd.DataFrame({"text_hash": items["text_hash"], "vector": list(vectors)})
        enrichments = store.con.execute(
            "SELECT * FROM enrichments ORDER BY item_key, model_version"
        ).df()
    return embeddings.sort_values("text_hash").reset_index(drop=True), enrichments


def _embedder_id() -> str:
    from nlp.embedders import DEFAULT_EMBEDDER, get_embedder

    return get_embedder(DEFAULT_EMBEDDER).model_id


def _shard_task_runs(flow_name: str) -> list:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        TaskRunFilter,
        TaskRunFilterName,
    )

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="compute-shard")),
        )


def test_dask_executor_shards_uncached_texts_and_matches_the_local_run(
    prefect_harness, small_project, monkeypatch
):
    from flows.nightly import nightly
    from flows.params import RunParameters
    from vocflow import scaleout

    PARAMS = RunParameters(top_n=5, sources=["demo-nsmc"])  # noqa: N806

    root = small_project["root"]
    _use(monkeypatch, root, "dask")
    dask_run = nightly(PARAMS)
    analysed = dask_run["items"]["analysed"]
    assert dask_run["texts_embedded"] == analysed > 120
    assert dask_run["texts_classified"] == analysed
    # The embedding and sentiment shards ran as Prefect tasks on the Dask workers ...
    runs = _shard_task_runs("vocflow-analyse-sharded")
    assert len(runs) >= 2 * math.ceil(analysed / SHARD)
    assert all(r.state is not None and r.state.is_completed() for r in runs)
    # ... which built the models: the test process never loaded a worker copy.
    assert scaleout.loaded_models() == []

    _use(monkeypatch, root, "local")
    local_run = nightly(PARAMS)
    assert local_run["texts_embedded"] == dask_run["texts_embedded"]
    assert local_run["texts_classified"] == dask_run["texts_classified"]
    assert len(_shard_task_runs("vocflow-analyse-sharded")) == len(runs)  # no new shards

    dask_emb, dask_enr = _stored(root / "dask.duckdb")
    local_emb, local_enr = _stored(root / "local.duckdb")
    assert dask_emb["text_hash"].tolist() == local_emb["text_hash"].tolist()
    # Stored as float16: a last-bit difference can round to one float16 step apart.
    assert np.allclose(np.stack(dask_emb["vector"]), np.stack(local_emb["vector"]), atol=1e-3)
    assert len(dask_enr) == len(local_enr) >= analysed
    assert dask_enr["item_key"].tolist() == local_enr["item_key"].tolist()
    assert dask_enr["label"].tolist() == local_enr["label"].tolist()
    dask_probs, local_probs = np.stack(dask_enr["probs"]), np.stack(local_enr["probs"])
    assert np.allclose(dask_probs, local_probs, atol=1e-4)

    # One source is an ad-hoc scope: its report is linked as latest-demo-nsmc, and latest/
    # (the full scope's, what product teams open) is not written.
    assert not (root / "reports-dask/latest").exists()
    dask_table = pd.read_csv(root / "reports-dask/latest-demo-nsmc/pain_points.csv")
    local_table = pd.read_csv(root / "reports-local/latest-demo-nsmc/pain_points.csv")
    pd.testing.assert_frame_equal(dask_table, local_table)

    # A second Dask run finds everything cached: no texts are sent to the workers.
    _use(monkeypatch, root, "dask")
    again = nightly(PARAMS)
    assert again["texts_embedded"] == 0 and again["texts_classified"] == 0
    assert len(_shard_task_runs("vocflow-analyse-sharded")) == len(runs)
