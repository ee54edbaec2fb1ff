"""VADER lexicon baseline (English only; every Korean text scores neutral)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlp.protocols import SENTIMENT_LABELS

# The thresholds recommended by VADER's authors for three-way classification.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
# Sharpness of the compound -> probability mapping below: at |compound| = 0.5 the winning
# class gets ~0.8, at 0.9 ~0.96; at compound 0 neutral gets ~0.4.
_SCALE = 4.0


def compound_to_proba(compound: np.ndarray) -> np.ndarray:
    """Turns VADER compound scores into (negative, neutral, positive) probabilities.

    VADER gives a score, not probabilities; this softmax over logits ``(-s*c, s*0.05, s*c)``
    is built so that its argmax reproduces the standard thresholds exactly (compound >= 0.05
    positive, <= -0.05 negative, else neutral; ties at the thresholds go to the polar class).

    Args:
        compound: Compound scores in [-1, 1], shape ``(n,)``.

    Returns:
        Array ``(n, 3)``; rows sum to 1.
    """
    c = np.asarray(compound, dtype=np.float64).reshape(-1)
    # A hair below the threshold so that exactly +-0.05 resolves to the polar class.
    neutral = np.full_like(c, POSITIVE_THRESHOLD - 1e-9)
    logits = _SCALE * np.stack([-c, neutral, c], axis=1)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def compound_to_label(compound: float) -> str:
    """Standard VADER three-way label of one compound score."""
    if compound >= POSITIVE_THRESHOLD:
        return SENTIMENT_LABELS[2]
    if compound <= NEGATIVE_THRESHOLD:
        return SENTIMENT_LABELS[0]
    return SENTIMENT_LABELS[1]


class VaderSentiment:
    """``SentimentModel`` wrapping ``nltk-vader-sentiment`` (lexicon and rules, no training).

    Attributes:
        model_version: ``"vader-nltk-1.0.0"``.
        labels: ``SENTIMENT_LABELS``.
        needs_embeddings: False.
        embedder_id: None.
    """

    model_version = "vader-nltk-1.0.0"
    labels: tuple[str, ...] = SENTIMENT_LABELS
    needs_embeddings = False
    embedder_id: str | None = None

    def __init__(self) -> None:
        """Builds the analyzer (lexicons are bundled Python data; no downloads)."""
        from vader import SentimentIntensityAnalyzer

        self._analyzer: Any = SentimentIntensityAnalyzer()

    def compound(self, texts: Sequence[str]) -> np.ndarray:
        """Returns VADER's compound score per text, shape ``(n,)``."""
        return np.array(
            [float(self._analyzer.polarity_scores(str(t))["compound"]) for t in texts],
            dtype=np.float64,
        )

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns (negative, neutral, positive) probabilities; embeddings are ignored.

        Args:
            texts: Texts to score.
            embeddings: Ignored (VADER works on the text).

        Returns:
            Array ``(len(texts), 3)``; rows sum to 1; argmax follows the standard thresholds.
        """
        return compound_to_proba(self.compound(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Returns the standard three-way VADER label per text."""
        return [compound_to_label(c) for c in self.compound(texts)]
