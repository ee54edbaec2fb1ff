"""Sentiment as a logistic-regression head on precomputed sentence embeddings.

The head is a multinomial logistic regression (softmax over ``SENTIMENT_LABELS``) fitted with
balanced class weights. It is stored as one small JSON file (no pickle: loading a pickle runs
arbitrary code, and JSON is diffable and reviewable). Prediction is a matrix product plus a
softmax in numpy, so scikit-learn is only needed to fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.protocols import SENTIMENT_LABELS

ARTIFACT_FORMAT = "vocflow-embedding-head"
ARTIFACT_FORMAT_VERSION = 1
DEFAULT_C_GRID: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def _canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits.

    Args:
        logits: Array of shape ``(n, k)``.

    Returns:
        Float64 probabilities of the same shape; rows sum to 1.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class EmbeddingHeadSentiment:
    """``SentimentModel`` that classifies embeddings from the embedder named ``embedder_id``.

    Attributes:
        model_version: ``"embedding-head:" + sha256(content)[:12]``, where the content is
            everything that affects predictions (labels, embedder id, coefficients, intercepts).
            Training metadata is excluded so re-saving with other notes keeps the version.
        labels: Column order of ``predict_proba`` (``SENTIMENT_LABELS``).
        needs_embeddings: Always True.
        embedder_id: ``Embedder.model_id`` of the embeddings the head was trained on.
        coef: Weights, shape ``(len(labels), dim)``.
        intercept: Biases, shape ``(len(labels),)``.
        metadata: Training notes (data, split, metrics); informational only.
    """

    needs_embeddings = True

    def __init__(
        self,
        coef: np.ndarray,
        intercept: np.ndarray,
        *,
        embedder_id: str,
        labels: Sequence[str] = SENTIMENT_LABELS,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Wraps fitted weights.

        Args:
            coef: Weights, shape ``(len(labels), dim)``.
            intercept: Biases, shape ``(len(labels),)``.
            embedder_id: ``model_id`` of the embedder the head was trained on.
            labels: Class names in row order of ``coef``.
            metadata: JSON-serialisable training notes.

        Raises:
            ValueError: If the shapes do not match the labels.
        """
        self.labels: tuple[str, ...] = tuple(labels)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
        if self.coef.ndim != 2 or self.coef.shape[0] != len(self.labels):
            raise ValueError(f"coef must be ({len(self.labels)}, dim), got {self.coef.shape}")
        if self.intercept.shape != (len(self.labels),):
            raise ValueError(f"intercept must be ({len(self.labels)},), got {self.intercept.shape}")
        self.embedder_id: str | None = embedder_id
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.content_sha256 = hashlib.sha256(_canonical_json(self._content())).hexdigest()
        self.model_version = f"embedding-head:{self.content_sha256[:12]}"

    @property
    def dim(self) -> int:
        """Embedding dimension the head expects."""
        return int(self.coef.shape[1])

    def _content(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "format_version": ARTIFACT_FORMAT_VERSION,
            "labels": list(self.labels),
            "embedder_id": self.embedder_id,
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
        }

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[str],
        *,
        embedder_id: str,
        seed: int = 13,
        c_grid: Sequence[float] = DEFAULT_C_GRID,
        cv_folds: int = 4,
        strata: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> EmbeddingHeadSentiment:
        """Fits the head, choosing C by stratified cross-validation on macro-F1.

        Args:
            embeddings: Training embeddings, shape ``(n, dim)``.
            labels: Gold label per row (each in ``SENTIMENT_LABELS``; all three must occur).
            embedder_id: ``model_id`` of the embedder that produced ``embeddings``.
            seed: Seed of the CV folds and the solver.
            c_grid: Candidate inverse regularisation strengths.
            cv_folds: Number of CV folds.
            strata: Optional stratum per row for the folds (e.g. source x label); defaults to
                the labels.
            metadata: Extra training notes; the CV results are added under ``"cv"``.

        Returns:
            The fitted head.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score
        from sklearn.model_selection import StratifiedKFold

        x = np.asarray(embeddings, dtype=np.float64)
        y = np.asarray(labels, dtype=object)
        missing = set(SENTIMENT_LABELS) - set(y.tolist())
        if missing:
            raise ValueError(f"training labels lack {sorted(missing)}")
        groups = np.asarray(strata if strata is not None else y, dtype=object)

        def make(c: float) -> LogisticRegression:
            # lbfgs on >2 classes is the multinomial (softmax) model; balanced weights keep the
            # rare neutral class from being ignored.
            return LogisticRegression(
                C=c, class_weight="balanced", max_iter=3000, random_state=seed
            )

        folds = list(
            StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=seed).split(x, groups)
        )
        scores: dict[float, float] = {}
        for c in c_grid:
            fold_scores = []
            for train_idx, test_idx in folds:
                model = make(c).fit(x[train_idx], y[train_idx])
                fold_scores.append(
                    f1_score(y[test_idx], model.predict(x[test_idx]), average="macro")
                )
            scores[c] = float(np.mean(fold_scores))
        # Ties go to the smaller C (stronger regularisation generalises better off-domain).
        best_c = max(c_grid, key=lambda c: (round(scores[c], 4), -c))
        final = make(best_c).fit(x, y)
        order = [list(final.classes_).index(label) for label in SENTIMENT_LABELS]
        notes = dict(metadata or {})
        notes["cv"] = {
            "folds": cv_folds,
            "metric": "macro_f1",
            "best_c": best_c,
            "scores": {str(c): round(s, 4) for c, s in scores.items()},
        }
        return cls(
            final.coef_[order],
            final.intercept_[order],
            embedder_id=embedder_id,
            labels=SENTIMENT_LABELS,
            metadata=notes,
        )

    def decision_function(self, embeddings: np.ndarray) -> np.ndarray:
        """Returns the logits, shape ``(n, len(labels))``."""
        x = np.asarray(embeddings, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"embeddings must have shape (n, {self.dim}), got {x.shape}")
        return np.asarray(x @ self.coef.T + self.intercept)

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns class probabilities (softmax of the logistic regression).

        Args:
            texts: The texts (only their count is used).
            embeddings: Their embeddings from the embedder named ``embedder_id``, shape
                ``(len(texts), dim)``.

        Returns:
            Float64 array ``(len(texts), len(labels))``; rows sum to 1.

        Raises:
            ValueError: If embeddings are missing or do not match the texts or the head.
        """
        if embeddings is None:
            raise ValueError(
                f"{self.model_version} classifies embeddings: pass embeddings= computed with "
                f"the embedder {self.embedder_id!r}"
            )
        if len(embeddings) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(embeddings)} embeddings")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return softmax(self.decision_function(embeddings))

    def predict(self, embeddings: np.ndarray) -> list[str]:
        """Returns the most probable label per embedding row."""
        logits = self.decision_function(embeddings)
        return [self.labels[i] for i in logits.argmax(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        """Returns the JSON-serialisable artifact (content, its sha256, and metadata)."""
        return {**self._content(), "sha256": self.content_sha256, "training": self.metadata}

    def save(self, path: str | Path) -> Path:
        """Writes the artifact as JSON.

        Args:
            path: Target file; parent directories are created.

        Returns:
            The path written.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Full float64 repr keeps save -> load bit-identical; the file stays ~30 KB at dim 384.
        target.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return target

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbeddingHeadSentiment:
        """Rebuilds a head from :meth:`to_dict` output, verifying its sha256.

        Args:
            data: The artifact.

        Returns:
            The head.

        Raises:
            ValueError: On an unknown format or a sha256 that does not match the content.
        """
        if data.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"not a {ARTIFACT_FORMAT} artifact (format={data.get('format')!r})")
        if int(data.get("format_version", -1)) > ARTIFACT_FORMAT_VERSION:
            raise ValueError(f"artifact format_version {data['format_version']} is too new")
        head = cls(
            np.asarray(data["coef"], dtype=np.float64),
            np.asarray(data["intercept"], dtype=np.float64),
            embedder_id=str(data["embedder_id"]),
            labels=tuple(data["labels"]),
            metadata=data.get("training") or {},
        )
        stored = data.get("sha256")
        if stored is not None and stored != head.content_sha256:
            raise ValueError("artifact sha256 does not match its content (edited or corrupt)")
        return head

    @classmethod
    def load(cls, path: str | Path) -> EmbeddingHeadSentiment:
        """Loads a head saved with :meth:`save`.

        Args:
            path: Artifact file.

        Returns:
            The head.
        """
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        return (
            f"EmbeddingHeadSentiment(model_version={self.model_version!r}, "
            f"embedder_id={self.embedder_id!r}, dim={self.dim})"
        )
