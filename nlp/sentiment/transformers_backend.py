"""Sentiment from any Hugging Face text-classification model (for users who have one).

No sentiment transformer with bundled weights exists on PyPI, so this backend is opt-in: pass a
hub id (needs network or a warm cache) or a local directory. The model's labels are mapped to
``SENTIMENT_LABELS``; a two-class model gets probability 0 on neutral.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.protocols import SENTIMENT_LABELS

NEG, NEU, POS = SENTIMENT_LABELS
_GENERIC_LABEL = re.compile(r"^(?:label[_ ]?)?(\d+)$")
_STARS = re.compile(r"^(\d)\s*stars?$")


def infer_label_map(id2label: Mapping[int, str]) -> dict[str, str]:
    """Maps a model's class names to negative/neutral/positive by name.

    Recognised: names containing neg/neu/pos (any case, e.g. "NEGATIVE", "neutral");
    generic ``LABEL_0``/``0`` ids (2 classes: 0 negative, 1 positive; 3 classes: negative,
    neutral, positive); star ratings ``1 star`` .. ``5 stars`` (1-2 negative, 3 neutral,
    4-5 positive).

    Args:
        id2label: The model config's ``id2label``.

    Returns:
        ``{model label: canonical label}``.

    Raises:
        ValueError: If some label cannot be mapped (pass ``label_map`` explicitly then).
    """
    names = [id2label[i] for i in sorted(id2label)]
    mapping: dict[str, str] = {}
    for index, name in enumerate(names):
        key = name.strip().lower()
        generic = _GENERIC_LABEL.match(key)
        stars = _STARS.match(key)
        if key.startswith("neg"):
            mapping[name] = NEG
        elif key.startswith("neu"):
            mapping[name] = NEU
        elif key.startswith("pos"):
            mapping[name] = POS
        elif stars:
            value = int(stars.group(1))
            mapping[name] = NEG if value <= 2 else NEU if value == 3 else POS
        elif generic and len(names) in (2, 3) and int(generic.group(1)) == index:
            order = (NEG, POS) if len(names) == 2 else SENTIMENT_LABELS
            mapping[name] = order[index]
        else:
            raise ValueError(
                f"cannot map model label {name!r} (labels: {names}); pass label_map="
                "{model label: 'negative'|'neutral'|'positive'}"
            )
    return mapping


class TransformersSentiment:
    """``SentimentModel`` over ``transformers.pipeline("text-classification")``.

    Attributes:
        model_version: ``"transformers:<model>"`` (plus a file fingerprint for local dirs).
        labels: ``SENTIMENT_LABELS``.
        needs_embeddings: False.
        embedder_id: None.
        label_map: Model label -> canonical label actually used.
    """

    labels: tuple[str, ...] = SENTIMENT_LABELS
    needs_embeddings = False
    embedder_id: str | None = None

    def __init__(
        self,
        model: str,
        device: str = "auto",
        label_map: dict[str, str] | None = None,
        batch_size: int = 32,
        max_length: int = 256,
    ) -> None:
        """Loads the model and tokenizer.

        Args:
            model: Hub id or local directory of a sequence-classification model.
            device: ``"auto"`` (cuda if available, else cpu), ``"cpu"``, ``"cuda"``, ...
            label_map: ``{model label: canonical label}``; inferred from names when None.
            batch_size: Texts per forward pass.
            max_length: Tokens kept per text (longer texts are truncated).

        Raises:
            ValueError: If a label cannot be mapped or the map is invalid.
        """
        from transformers import pipeline

        from nlp.embedders import local_model_fingerprint, resolve_device

        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        self._pipe: Any = pipeline(
            "text-classification", model=model, device=self.device, top_k=None
        )
        config: Any = self._pipe.model.config
        id2label = {int(k): str(v) for k, v in (config.id2label or {}).items()}
        self.label_map = dict(label_map) if label_map else infer_label_map(id2label)
        unknown = {v for v in self.label_map.values()} - set(SENTIMENT_LABELS)
        missing = set(id2label.values()) - set(self.label_map)
        if unknown or missing:
            raise ValueError(
                f"label_map must map every model label {sorted(id2label.values())} to one of "
                f"{SENTIMENT_LABELS}; unknown targets {sorted(unknown)}, unmapped {sorted(missing)}"
            )
        local = Path(model).expanduser()
        suffix = f":{local_model_fingerprint(local)}" if local.exists() else ""
        name = local.resolve().name if local.exists() else model
        self.model_version = f"transformers:{name}{suffix}"

    def predict_proba(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Returns (negative, neutral, positive) probabilities.

        Probabilities of model classes that map to the same canonical label are summed.

        Args:
            texts: Texts to classify.
            embeddings: Ignored.

        Returns:
            Array ``(len(texts), 3)``; rows sum to 1.
        """
        items = [str(t) for t in texts]
        out = np.zeros((len(items), len(SENTIMENT_LABELS)), dtype=np.float64)
        if not items:
            return out
        column = {label: i for i, label in enumerate(SENTIMENT_LABELS)}
        results = self._pipe(
            items, batch_size=self.batch_size, truncation=True, max_length=self.max_length
        )
        for row, scored in enumerate(results):
            for entry in scored:
                out[row, column[self.label_map[entry["label"]]]] += float(entry["score"])
        # Guards against models whose scores are not a softmax (e.g. sigmoid multi-label).
        totals = out.sum(axis=1, keepdims=True)
        return np.divide(out, totals, out=np.full_like(out, 1 / 3), where=totals > 0)
