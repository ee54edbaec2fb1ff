"""Sharding of the embedding and sentiment stages over worker processes (no Prefect inside).

The flow decides *where* shards run (``flows/nightly.py`` submits them to a Dask cluster through
prefect-dask); this module decides *what* a shard is and puts the results back in order:

* :func:`split_shards` cuts texts (and their embeddings, for embedding heads) into numbered
  shards; :func:`merge_shards` checks that every shard came back exactly once, from the same
  model, with one row per text, and concatenates them in shard order.
* :func:`run_shard` is what a worker executes: it builds the model named by a :class:`ModelSpec`
  once per worker process (:func:`worker_model`, a per-process cache keyed by the spec) and
  returns vectors or probabilities. Workers never touch the store: DuckDB allows one writer,
  so the flow's process writes everything (:func:`precompute_embeddings`).
* :class:`ShardedEmbedder` and :class:`ShardedSentiment` put a ``map`` function (local or
  Dask) behind the ``Embedder`` / ``SentimentModel`` protocols.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from nlp.protocols import Embedder, SentimentModel
from vocflow.analysis import embed_missing, longest_first
from vocflow.store import Store

ProgressCallback = Callable[[int, int], None]

# Sentiment backends that take a torch ``device`` option (the embedders all do).
_SENTIMENT_WITH_DEVICE = frozenset({"transformers"})


@dataclass(frozen=True)
class ModelSpec:
    """Names a model so that a worker process can build it itself.

    Attributes:
        kind: ``embedder`` or ``sentiment``.
        name: Registry name (``nlp.registry``).
        options_json: The registry options, as canonical JSON (hashable cache key).
        calibration: Path of an adopted calibration artifact to wrap a sentiment model in.
        calibration_digest: SHA-256 prefix of that file, so that a long-lived worker builds
            the model again after a recalibration instead of serving its cached copy.
    """

    kind: Literal["embedder", "sentiment"]
    name: str
    options_json: str = "{}"
    calibration: str | None = None
    calibration_digest: str | None = None

    @classmethod
    def of(
        cls,
        kind: Literal["embedder", "sentiment"],
        name: str,
        options: dict[str, Any] | None = None,
        calibration: Path | None = None,
    ) -> ModelSpec:
        """Builds a spec from registry options (sorted into canonical JSON)."""
        digest = None
        if calibration is not None:
            digest = hashlib.sha256(calibration.read_bytes()).hexdigest()[:16]
        return cls(
            kind,
            name,
            json.dumps(options or {}, sort_keys=True, default=str),
            str(calibration) if calibration is not None else None,
            digest,
        )

    @property
    def options(self) -> dict[str, Any]:
        """The registry options."""
        loaded: dict[str, Any] = json.loads(self.options_json)
        return loaded


def model_options(
    kind: Literal["embedder", "sentiment"], name: str, options: dict[str, Any], device: str
) -> dict[str, Any]:
    """Adds the configured ``device`` to a model's options where the model takes one.

    Args:
        kind: ``embedder`` or ``sentiment``.
        name: Registry name.
        options: The model's own options (its ``device`` wins).
        device: ``execution.device``.

    Returns:
        The options to build the model with.
    """
    if kind == "embedder" or name in _SENTIMENT_WITH_DEVICE:
        return {"device": device, **options}
    return dict(options)


@dataclass(frozen=True)
class Shard:
    """A numbered slice of the work.

    Attributes:
        index: Position of the shard (results are merged in this order).
        texts: Texts of the shard.
        vectors: Their embeddings (sentiment heads on embeddings), else None.
    """

    index: int
    texts: list[str]
    vectors: np.ndarray | None = None


@dataclass(frozen=True)
class ShardResult:
    """What a worker returns for one shard.

    Attributes:
        index: The shard's index.
        model_id: ``model_id`` / ``model_version`` of the model the worker used.
        values: Embeddings or probabilities, one row per text of the shard.
    """

    index: int
    model_id: str
    values: np.ndarray


MapShards = Callable[[ModelSpec, list[Shard]], list[ShardResult]]


def split_shards(
    texts: Sequence[str], shard_size: int, vectors: np.ndarray | None = None
) -> list[Shard]:
    """Cuts texts (and their vectors) into shards of at most ``shard_size``, in order.

    Args:
        texts: Texts to process.
        shard_size: Texts per shard (>= 1).
        vectors: Row-aligned embeddings or None.

    Returns:
        Shards numbered 0, 1, ...; no shard is empty.

    Raises:
        ValueError: If ``shard_size`` < 1 or ``vectors`` is not row-aligned with ``texts``.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    if vectors is not None and len(vectors) != len(texts):
        raise ValueError(f"{len(vectors)} vectors for {len(texts)} texts")
    items = [str(t) for t in texts]
    return [
        Shard(
            index=number,
            texts=items[start : start + shard_size],
            vectors=None if vectors is None else vectors[start : start + shard_size],
        )
        for number, start in enumerate(range(0, len(items), shard_size))
    ]


def spread_size(n: int, shard_size: int, workers: int) -> int:
    """Shard size that spreads ``n`` texts over all ``workers``, capped at ``shard_size``.

    Callers that embed in small chunks (e.g. 256 clauses at a time) would otherwise send one
    shard per chunk and keep a single worker busy.
    """
    return max(1, min(shard_size, math.ceil(n / max(1, workers))))


def merge_shards(
    shards: Sequence[Shard], results: Sequence[ShardResult], model_id: str, width: int
) -> np.ndarray:
    """Concatenates shard results in shard order, after checking them.

    Args:
        shards: The shards that were sent.
        results: What came back, in any order.
        model_id: The id every result must carry (the flow's own model).
        width: Columns of each row (embedding dim or number of labels).

    Returns:
        One row per text of the shards, in the original text order.

    Raises:
        ValueError: If a shard is missing or duplicated, a worker used another model (e.g.
            another package version on a remote worker: its vectors must not be cached under
            this id), or a result has the wrong shape.
    """
    by_index: dict[int, ShardResult] = {}
    for result in results:
        if result.index in by_index:
            raise ValueError(f"shard {result.index} returned twice")
        by_index[result.index] = result
    expected = [s.index for s in shards]
    if sorted(by_index) != sorted(expected):
        raise ValueError(f"shard results {sorted(by_index)} do not match shards {expected}")
    parts = []
    for shard in sorted(shards, key=lambda s: s.index):
        result = by_index[shard.index]
        if result.model_id != model_id:
            raise ValueError(
                f"shard {shard.index} was computed by {result.model_id!r}, expected {model_id!r}"
            )
        if result.values.shape != (len(shard.texts), width):
            raise ValueError(
                f"shard {shard.index}: shape {result.values.shape}, "
                f"expected {(len(shard.texts), width)}"
            )
        parts.append(result.values)
    if not parts:
        return np.zeros((0, width), dtype=np.float32)
    return np.concatenate(parts, axis=0)


_MODELS: dict[ModelSpec, Any] = {}
_MODELS_LOCK = threading.Lock()


def worker_model(spec: ModelSpec) -> Any:
    """Returns the model named by ``spec``, built once per process (the per-worker cache).

    Args:
        spec: Which model.

    Returns:
        An ``Embedder`` or ``SentimentModel``.
    """
    with _MODELS_LOCK:
        model = _MODELS.get(spec)
        if model is None:
            model = _build(spec)
            _MODELS[spec] = model
        return model


def loaded_models() -> list[ModelSpec]:
    """The specs this process has built models for (for tests and diagnostics)."""
    with _MODELS_LOCK:
        return list(_MODELS)


def _build(spec: ModelSpec) -> Any:
    from nlp.registry import build_embedder, build_sentiment

    if spec.kind == "embedder":
        return build_embedder(spec.name, spec.options)
    model = build_sentiment(spec.name, spec.options)
    if spec.calibration is not None:
        from nlp.sentiment.calibrate import CalibratedSentiment

        model = CalibratedSentiment.load(Path(spec.calibration), model)
    return model


def run_shard(spec: ModelSpec, shard: Shard) -> ShardResult:
    """Computes one shard with this process's copy of the model (what a worker runs).

    Args:
        spec: The model.
        shard: Texts (and vectors for embedding heads).

    Returns:
        Embeddings (``embedder``) or probabilities (``sentiment``) of the shard.
    """
    model = worker_model(spec)
    if spec.kind == "embedder":
        values = np.asarray(model.embed(shard.texts), dtype=np.float32)
        return ShardResult(shard.index, str(model.model_id), values)
    probs = np.asarray(model.predict_proba(shard.texts, shard.vectors), dtype=np.float64)
    return ShardResult(shard.index, str(model.model_version), probs)


def local_map(spec: ModelSpec, shards: list[Shard]) -> list[ShardResult]:
    """Runs shards one after another in this process (the reference for Dask maps)."""
    return [run_shard(spec, shard) for shard in shards]


class ShardedEmbedder:
    """An ``Embedder`` whose ``embed`` splits texts into shards and maps them elsewhere.

    ``model_id`` and ``dim`` are the local embedder's; results from a worker with another
    model id are refused (:func:`merge_shards`).
    """

    def __init__(
        self,
        local: Embedder,
        spec: ModelSpec,
        map_shards: MapShards,
        shard_size: int,
        workers: int = 1,
    ) -> None:
        """Wraps ``local`` (the flow's own embedder: id, dim) with a shard map.

        Each call is cut into shards of at most ``shard_size`` texts, spread over ``workers``.
        """
        self.local = local
        self.spec = spec
        self.map_shards = map_shards
        self.shard_size = shard_size
        self.workers = workers
        self.model_id = local.model_id
        self.dim = local.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeds texts shard by shard through the map; rows in input order."""
        size = spread_size(len(texts), self.shard_size, self.workers)
        shards = split_shards(texts, size)
        if not shards:
            return np.zeros((0, self.dim), dtype=np.float32)
        results = self.map_shards(self.spec, shards)
        return merge_shards(shards, results, self.model_id, self.dim).astype(np.float32)


class ShardedSentiment:
    """A ``SentimentModel`` whose ``predict_proba`` maps shards elsewhere.

    Attributes mirror the local model, whose ``model_version`` keys the enrichments.
    """

    def __init__(
        self,
        local: SentimentModel,
        spec: ModelSpec,
        map_shards: MapShards,
        shard_size: int,
        workers: int = 1,
    ) -> None:
        """Wraps ``local`` (the flow's own model) with a shard map (see ShardedEmbedder)."""
        self.local = local
        self.spec = spec
        self.map_shards = map_shards
        self.shard_size = shard_size
        self.workers = workers
        self.model_version = local.model_version
        self.labels = local.labels
        self.needs_embeddings = local.needs_embeddings
        self.embedder_id = local.embedder_id

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Class probabilities, shard by shard through the map; rows in input order."""
        vectors = embeddings if self.needs_embeddings else None
        size = spread_size(len(texts), self.shard_size, self.workers)
        shards = split_shards(texts, size, vectors)
        if not shards:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        results = self.map_shards(self.spec, shards)
        return merge_shards(shards, results, self.model_version, len(self.labels))

    def __getattr__(self, name: str) -> Any:
        # Anything else a caller may read (e.g. clause helpers) comes from the local model.
        return getattr(self.local, name)


def precompute_embeddings(
    store: Store,
    embedder: Embedder,
    items: pd.DataFrame,
    wave: int,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Embeds the items' texts missing from the store's cache; the caller's process writes.

    Texts already cached for ``embedder.model_id`` are never sent. The missing ones are
    embedded ``wave`` at a time (a sharded embedder spreads a wave over its workers) and saved
    after each wave, so an interrupted run keeps what it already paid for.

    Args:
        store: The store (embedding cache); only this process writes to it.
        embedder: Usually a :class:`ShardedEmbedder`.
        items: Items with ``text_hash`` and ``text_clean``.
        wave: Texts per save (e.g. shard size x workers).
        on_progress: Callback ``(done, total)`` over the missing texts.

    Returns:
        How many texts were embedded.
    """
    missing = store.missing_embeddings(items["text_hash"].tolist(), embedder.model_id)
    text_of = dict(zip(items["text_hash"], items["text_clean"], strict=True))
    ordered = longest_first(missing, text_of)
    return embed_missing(store, embedder, ordered, lambda part: text_of, wave, on_progress)
