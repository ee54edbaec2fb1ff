"""Small protocols behind which models are pluggable (chosen by name in config, see registry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

SENTIMENT_LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    Attributes:
        model_id: Stable identifier of the model and its settings; embeddings are cached by
            (content hash, model_id), so it must change whenever the vectors would.
        dim: Vector dimension.
    """

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeds texts.

        Args:
            texts: Texts to embed (already cleaned and redacted).

        Returns:
            Array of shape ``(len(texts), dim)``, dtype float32, rows L2-normalised.
        """
        ...


@runtime_checkable
class SentimentModel(Protocol):
    """Classifies texts into ``labels`` (a permutation-free tuple, default SENTIMENT_LABELS).

    Attributes:
        model_version: Identifier of model + weights; enrichments are keyed by it.
        labels: Class names, in the column order of ``predict_proba``.
        needs_embeddings: True when the model classifies precomputed embeddings (then the
            caller passes them and must use the embedder named by ``embedder_id``).
        embedder_id: ``Embedder.model_id`` the model was trained on, or None.
    """

    model_version: str
    labels: tuple[str, ...]
    needs_embeddings: bool
    embedder_id: str | None

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns class probabilities of shape ``(len(texts), len(labels))``."""
        ...


@dataclass(frozen=True)
class Theme:
    """One discovered theme.

    Attributes:
        theme_id: Integer id within one fit (>= 0).
        label: Short human-readable label.
        keywords: Top keywords, best first.
        size: Number of documents assigned (after outlier reassignment).
        representative_idx: Indices (into the fitted documents) of diverse representative
            documents, most representative first.
    """

    theme_id: int
    label: str
    keywords: tuple[str, ...]
    size: int
    representative_idx: tuple[int, ...]


@dataclass
class ThemeResult:
    """Result of fitting a theme model.

    Attributes:
        assignments: Theme id per document, -1 for outliers; shape ``(n_docs,)``.
        themes: Discovered themes, ordered by size descending.
        outlier_share_initial: Outlier share straight out of clustering.
        outlier_share: Outlier share after reassignment.
        info: Free-form diagnostics (settings used, timings).
    """

    assignments: np.ndarray
    themes: list[Theme]
    outlier_share_initial: float
    outlier_share: float
    info: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class ThemeModel(Protocol):
    """Discovers themes in documents with precomputed embeddings."""

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        languages: Sequence[str],
    ) -> ThemeResult:
        """Fits themes.

        Args:
            texts: Cleaned, redacted documents.
            embeddings: Their embeddings, shape ``(len(texts), dim)``.
            languages: ISO 639-1 code per document ("ko", "en", or "und").

        Returns:
            The fitted themes and per-document assignments.
        """
        ...
