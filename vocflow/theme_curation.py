"""Taxonomy glue for the theme step: curated IDs, seed embeddings, pins, registry updates.

The curation itself is pure (``nlp.taxonomy.apply_taxonomy``); this module feeds it what
lives in the store (stable IDs of curated themes, stored centroids of pinned themes) and
writes the curated themes back to the registry, so that their IDs and centroids persist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from nlp.protocols import Embedder, ThemeResult
from nlp.taxonomy import Taxonomy, apply_taxonomy
from nlp.theme_refine import theme_centroids
from vocflow.theme_state import ACTIVE, ThemeState


def apply_curation(
    state: ThemeState, base: ThemeResult, texts: Sequence[str], emb: np.ndarray,
    taxonomy: Taxonomy, embedder: Embedder | None, run_id: str, quotes_per_theme: int,
) -> tuple[ThemeResult, dict[int, np.ndarray]]:  # fmt: skip
    """Applies the taxonomy to a stable-ID result and records the curated themes.

    Args:
        state: Theme state of the store.
        base: The model's result with stable IDs.
        texts: Item texts.
        emb: Item embeddings, rows L2-normalised.
        taxonomy: The curation.
        embedder: Embeds seed examples (seeds are skipped without one).
        run_id: Current run.
        quotes_per_theme: Quotes for themes whose members changed.

    Returns:
        The curated result and the centroid of each of its themes.
    """
    curated_ids = {n: state.curated_id(n, n, run_id) for n in taxonomy.curated_names}
    result, _ = apply_taxonomy(
        base, texts, emb, taxonomy,
        curated_ids=curated_ids,
        seed_centroids=_seed_centroids(taxonomy, embedder),
        pinned=_pinned(state, taxonomy),
        quotes_per_theme=quotes_per_theme,
    )  # fmt: skip
    ids = [t.theme_id for t in result.themes]
    centroids = (
        dict(zip(ids, theme_centroids(result.assignments, emb, ids), strict=True)) if ids else {}
    )
    _update_curated(state, result, centroids, curated_ids, run_id)
    return result, centroids


def _seed_centroids(taxonomy: Taxonomy, embedder: Embedder | None) -> dict[str, np.ndarray]:
    if embedder is None or not taxonomy.seeds:
        return {}
    out = {}
    for seed in taxonomy.seeds:
        vectors = np.asarray(embedder.embed(seed.examples), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        c = vectors.mean(axis=0)
        out[seed.name] = c / max(float(np.linalg.norm(c)), 1e-12)
    return out


def _pinned(state: ThemeState, taxonomy: Taxonomy) -> dict[int, tuple[str, np.ndarray | None]]:
    if not taxonomy.pinned:
        return {}
    rows = state.registry(status=None)
    out: dict[int, tuple[str, np.ndarray | None]] = {}
    for ref in taxonomy.pinned:
        for r in rows:
            if r.theme_id == ref or r.label == ref:
                out[r.theme_id] = (r.label, r.centroid)
    return out


def _update_curated(
    state: ThemeState, result: ThemeResult, centroids: dict[int, np.ndarray],
    curated_ids: dict[str, int], run_id: str,
) -> None:  # fmt: skip
    by_id = {t.theme_id: t for t in result.themes}
    rows = [
        r for r in state.registry(status=None, origin="curated")
        if r.curated_key in curated_ids and r.theme_id in by_id
    ]  # fmt: skip
    state.save_registry(
        [
            replace(
                r,
                label=by_id[r.theme_id].label,
                keywords=by_id[r.theme_id].keywords,
                centroid=centroids.get(r.theme_id),
                size=by_id[r.theme_id].size,
                status=ACTIVE,
                last_run_id=run_id,
            )  # fmt: skip
            for r in rows
        ]
    )
