"""The default sentiment model: per-language stacked heads on embeddings plus sparse n-grams.

For each language (Korean, English) the model holds

* a *dense* multinomial logistic regression on the sentence embedding the pipeline already
  computes for themes (meaning, paraphrase, domain);
* a *sparse* one on TF-IDF character and word n-grams (``nlp.sentiment.features``: endings,
  negation, intensifiers, slang, "ㅋㅋ"/"ㅠㅠ", emoji);
* a *combiner*: a small logistic regression over the six logits of the two, fitted on
  out-of-fold predictions. It weighs the two views and calibrates the probabilities. Long
  texts (``long_words`` words or more) get their own combiner when training had enough of
  them: in long reviews n-grams mislead (symptom words in a positive drug review, complaints
  quoted in a positive lounge review) and the embedding deserves more weight.

Texts are routed to a head by script-based language detection; other languages use the
``fallback`` head. Everything is stored in one JSON artifact (no pickle), and prediction is
numpy/scipy arithmetic; scikit-learn is needed only to fit (``nlp.sentiment.fit_hybrid``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.language import detect_language
from nlp.protocols import SENTIMENT_LABELS
from nlp.sentiment.features import FEATURE_VERSION, SparseFeatures
from nlp.sentiment.head import ARTIFACT_FORMAT as DENSE_FORMAT
from nlp.sentiment.head import EmbeddingHeadSentiment, softmax

ARTIFACT_FORMAT = "vocflow-sentiment-hybrid"
ARTIFACT_FORMAT_VERSION = 1
# Six significant digits keep the artifact small; weights are rounded *before* the model is
# used or hashed, so a saved and a freshly fitted model predict identically.
WEIGHT_DIGITS = 6


def round_sig(values: np.ndarray, digits: int = WEIGHT_DIGITS) -> np.ndarray:
    """Rounds to ``digits`` significant digits (through the shortest decimal repr)."""
    flat = np.asarray(values, dtype=np.float64)
    return np.asarray([float(f"{v:.{digits}g}") for v in flat.ravel()]).reshape(flat.shape)


@dataclass
class Linear:
    """Affine map ``x @ coef.T + intercept`` (one row of ``coef`` per label)."""

    coef: np.ndarray
    intercept: np.ndarray

    def __post_init__(self) -> None:
        self.coef = round_sig(np.atleast_2d(self.coef))
        self.intercept = round_sig(np.asarray(self.intercept).reshape(-1))
        if self.coef.shape[0] != self.intercept.shape[0]:
            raise ValueError(f"coef {self.coef.shape} does not match intercept")

    def __call__(self, x: Any) -> np.ndarray:
        """Returns the logits ``(n, k)`` for dense or scipy-sparse ``x``."""
        return np.asarray(x @ self.coef.T) + self.intercept

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"coef": self.coef.tolist(), "intercept": self.intercept.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Linear:
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(data["coef"], dtype=np.float64), np.asarray(data["intercept"]))


@dataclass
class LanguageHead:
    """Dense + sparse + combiner for one language.

    Attributes:
        features: Fitted TF-IDF vocabulary of the sparse part.
        sparse: Logistic regression on the TF-IDF features.
        dense: Logistic regression on embeddings.
        combiner: Logistic regression on ``[sparse logits, dense logits]``.
        combiner_long: Combiner for texts of ``long_words`` words or more (None: one
            combiner for all lengths).
        long_words: Word count (whitespace-separated) from which ``combiner_long`` applies.
    """

    features: SparseFeatures
    sparse: Linear
    dense: Linear
    combiner: Linear
    combiner_long: Linear | None = None
    long_words: int = 0

    def __post_init__(self) -> None:
        # Same rounding as the weights, so a fitted head and its reloaded copy agree exactly.
        self.features.idf = round_sig(self.features.idf)

    def base_logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Returns ``[sparse logits, dense logits]``, shape ``(n, 2k)``."""
        return np.hstack([self.sparse(self.features.transform(texts)), self.dense(embeddings)])

    def proba(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities ``(n, k)``."""
        logits = self.base_logits(texts, embeddings)
        out = softmax(self.combiner(logits))
        if self.combiner_long is not None:
            long = np.array([len(t.split()) >= self.long_words for t in texts], dtype=bool)
            if long.any():
                out[long] = softmax(self.combiner_long(logits[long]))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "vocabulary": self.features.vocabulary,
            "idf": self.features.idf.tolist(),
            "sparse": self.sparse.to_dict(),
            "dense": self.dense.to_dict(),
            "combiner": self.combiner.to_dict(),
            "combiner_long": self.combiner_long.to_dict() if self.combiner_long else None,
            "long_words": self.long_words,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LanguageHead:
        """Inverse of :meth:`to_dict`."""
        return cls(
            SparseFeatures(data["vocabulary"], data["idf"]),
            Linear.from_dict(data["sparse"]),
            Linear.from_dict(data["dense"]),
            Linear.from_dict(data["combiner"]),
            Linear.from_dict(data["combiner_long"]) if data.get("combiner_long") else None,
            int(data.get("long_words", 0)),
        )


class HybridSentiment:
    """``SentimentModel``: per-language stacked heads (see the module docstring).

    Attributes:
        model_version: ``"hybrid-head:" + sha256(content)[:12]`` over everything that affects
            predictions (labels, embedder, feature version, all weights); notes are excluded.
        labels: ``SENTIMENT_LABELS``.
        needs_embeddings: True.
        embedder_id: ``Embedder.model_id`` the dense parts were trained on.
        heads: Head per ISO 639-1 language code.
        fallback: Language whose head classifies texts of any other language.
        metadata: Training notes (data, split, dev figures); informational only.
    """

    needs_embeddings = True

    def __init__(
        self,
        heads: Mapping[str, LanguageHead],
        *,
        embedder_id: str,
        fallback: str,
        labels: Sequence[str] = SENTIMENT_LABELS,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Wraps fitted heads.

        Args:
            heads: Head per language.
            embedder_id: ``model_id`` of the embedder the dense parts were trained on.
            fallback: Language (a key of ``heads``) for texts of other languages.
            labels: Class names, in column order of every head.
            metadata: JSON-serialisable training notes.

        Raises:
            ValueError: If ``fallback`` has no head.
        """
        if fallback not in heads:
            raise ValueError(f"fallback {fallback!r} is not one of the heads {sorted(heads)}")
        self.heads = dict(heads)
        self.fallback = fallback
        self.labels: tuple[str, ...] = tuple(labels)
        self.embedder_id: str | None = embedder_id
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.content_sha256 = hashlib.sha256(
            json.dumps(self._content(), sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        self.model_version = f"hybrid-head:{self.content_sha256[:12]}"

    def _content(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "format_version": ARTIFACT_FORMAT_VERSION,
            "feature_version": FEATURE_VERSION,
            "labels": list(self.labels),
            "embedder_id": self.embedder_id,
            "fallback": self.fallback,
            "heads": {lang: head.to_dict() for lang, head in sorted(self.heads.items())},
        }

    def route(self, texts: Sequence[str]) -> list[str]:
        """Returns the head language used for each text."""
        out = []
        for text in texts:
            lang = detect_language(text)
            out.append(lang if lang in self.heads else self.fallback)
        return out

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns calibrated class probabilities.

        Args:
            texts: Cleaned texts.
            embeddings: Their embeddings from the embedder named ``embedder_id``.

        Returns:
            Float64 array ``(len(texts), len(labels))``; rows sum to 1.

        Raises:
            ValueError: If embeddings are missing or do not match the texts.
        """
        if embeddings is None:
            raise ValueError(
                f"{self.model_version} also classifies embeddings: pass embeddings= computed "
                f"with the embedder {self.embedder_id!r}"
            )
        if len(embeddings) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(embeddings)} embeddings")
        out = np.zeros((len(texts), len(self.labels)))
        if len(texts) == 0:
            return out
        routes = np.asarray(self.route(texts))
        vectors = np.asarray(embeddings, dtype=np.float64)
        for lang, head in self.heads.items():
            rows = np.flatnonzero(routes == lang)
            if rows.size:
                out[rows] = head.proba([texts[int(i)] for i in rows], vectors[rows])
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON artifact (content, its sha256, and metadata)."""
        return {**self._content(), "sha256": self.content_sha256, "training": self.metadata}

    def save(self, path: str | Path) -> Path:
        """Writes the artifact (compact JSON: it holds tens of thousands of weights)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n",
            encoding="utf-8",
        )
        return target

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HybridSentiment:
        """Rebuilds a model from :meth:`to_dict` output, verifying its sha256.

        Raises:
            ValueError: On another format, a newer version, an unknown feature version or a
                sha256 that does not match the content.
        """
        if data.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"not a {ARTIFACT_FORMAT} artifact (format={data.get('format')!r})")
        if int(data.get("format_version", -1)) > ARTIFACT_FORMAT_VERSION:
            raise ValueError(f"artifact format_version {data['format_version']} is too new")
        if data.get("feature_version") != FEATURE_VERSION:
            raise ValueError(
                f"artifact features {data.get('feature_version')!r} differ from this code's "
                f"{FEATURE_VERSION!r}: retrain with `vocflow train-sentiment`"
            )
        model = cls(
            {lang: LanguageHead.from_dict(h) for lang, h in data["heads"].items()},
            embedder_id=str(data["embedder_id"]),
            fallback=str(data["fallback"]),
            labels=tuple(data["labels"]),
            metadata=data.get("training") or {},
        )
        stored = data.get("sha256")
        if stored is not None and stored != model.content_sha256:
            raise ValueError("artifact sha256 does not match its content (edited or corrupt)")
        return model

    @classmethod
    def load(cls, path: str | Path) -> HybridSentiment:
        """Loads an artifact written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return (
            f"HybridSentiment(model_version={self.model_version!r}, "
            f"embedder_id={self.embedder_id!r}, heads={sorted(self.heads)})"
        )


def load_head(path: str | Path) -> HybridSentiment | EmbeddingHeadSentiment:
    """Loads a sentiment head artifact of either format (hybrid, or the older dense-only one).

    Args:
        path: Artifact file.

    Returns:
        The model its ``format`` field names.

    Raises:
        ValueError: On an unknown format.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") == ARTIFACT_FORMAT:
        return HybridSentiment.from_dict(data)
    if data.get("format") == DENSE_FORMAT:
        return EmbeddingHeadSentiment.from_dict(data)
    raise ValueError(f"{path}: unknown sentiment artifact format {data.get('format')!r}")
