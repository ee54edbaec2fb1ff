"""A CPU-independent reference for the int8 ``e5-onnx`` graph: exact integer arithmetic.

onnxruntime picks its u8s8 GEMM kernel from the CPU's feature bits at start-up, with no option
or environment variable to choose another (``MLAS_PLATFORM`` in onnxruntime's
``core/mlas/lib/platform.cpp``): AVX2 and AVX512-core multiply with ``vpmaddubsw``, whose
int16 pair sums saturate, while AVX512-VNNI, AVX-VNNI and AMX accumulate in int32 and do not.
So the same graph gives slightly different vectors on different CPUs. This module runs the
graph with ``onnx.reference.ReferenceEvaluator`` (numpy) and numpy versions of the four
onnxruntime contrib ops it uses; ``MatMulIntegerToFloat`` accumulates exactly, i.e. what a
non-saturating (VNNI/AMX) kernel computes. Tests compare onnxruntime on the machine at hand
with it, so a bound measured here holds for the other kernel family too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun
from scipy.special import erf


def _zero_point(value: Any) -> Any:
    """A zero point as a float scalar (one value) or array (per column), 0 when absent."""
    if value is None:
        return 0.0
    zp = np.asarray(value, np.float64).reshape(-1)
    return float(zp[0]) if zp.size == 1 else zp


class MatMulIntegerToFloat(OpRun):
    """``(A - a_zp) @ (B - b_zp) * a_scale * b_scale (+ bias)``, exact (no int16 saturation)."""

    op_domain = "com.microsoft"

    def _run(self, a: Any, b: Any, a_scale: Any, b_scale: Any, a_zp: Any = None,
             b_zp: Any = None, bias: Any = None) -> tuple[np.ndarray]:  # fmt: skip
        # Integer products summed in float64 are exact here (|sum| <= 255 * 127 * 1536, far
        # below 2**53) and run through BLAS; numpy's integer matmul has no fast path.
        left = a.astype(np.float64) - _zero_point(a_zp)
        right = b.astype(np.float64) - _zero_point(b_zp)
        out = (left @ right) * a_scale * b_scale
        if bias is not None:
            out = out + bias
        return (out.astype(np.float32),)


class MultiHeadAttention(OpRun):
    """Unpacked Q, K, V with one bias and a key padding mask (1 = token), float64 softmax."""

    op_domain = "com.microsoft"

    def _run(self, q: Any, k: Any, v: Any, bias: Any, mask: Any,
             num_heads: int = 1, **_: Any) -> tuple[np.ndarray]:  # fmt: skip
        batch, seq, hidden = q.shape
        q, k, v = (x + bias[i * hidden : (i + 1) * hidden] for i, x in enumerate((q, k, v)))
        dim = hidden // num_heads

        def heads(x: np.ndarray) -> np.ndarray:
            return x.astype(np.float64).reshape(batch, seq, num_heads, dim).transpose(0, 2, 1, 3)

        scores = heads(q) @ heads(k).transpose(0, 1, 3, 2) / math.sqrt(dim)
        scores = np.where(mask[:, None, None, :] > 0, scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        context = (weights @ heads(v)).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        return (context.astype(np.float32),)


class SkipLayerNormalization(OpRun):
    """``LayerNorm(input + skip + bias) * gamma + beta``."""

    op_domain = "com.microsoft"

    def _run(self, x: Any, skip: Any, gamma: Any, beta: Any, bias: Any = None,
             epsilon: float = 1e-12) -> tuple[np.ndarray]:  # fmt: skip
        total = x.astype(np.float64) + skip + (0 if bias is None else bias)
        mean = total.mean(axis=-1, keepdims=True)
        var = ((total - mean) ** 2).mean(axis=-1, keepdims=True)
        return (((total - mean) / np.sqrt(var + epsilon) * gamma + beta).astype(np.float32),)


class BiasGelu(OpRun):
    """Exact (erf) GELU of ``A + bias``."""

    op_domain = "com.microsoft"

    def _run(self, a: Any, bias: Any) -> tuple[np.ndarray]:
        x = a.astype(np.float64) + bias
        return ((0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32),)


def reference_session(model: Any) -> ReferenceEvaluator:
    """Returns a numpy evaluator of an ``e5-onnx`` graph (``run(outputs, feeds)`` like ORT).

    Args:
        model: An ``onnx.ModelProto`` or the path of a ``.onnx`` file.
    """
    ops = [MatMulIntegerToFloat, MultiHeadAttention, SkipLayerNormalization, BiasGelu]
    return ReferenceEvaluator(model, new_ops=ops)
