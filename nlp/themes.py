"""Theme discovery: BERTopic on precomputed embeddings, with outlier handling and labels.

Pipeline (``BERTopicThemeModel.fit``):

1. Duplicates folded (``theme_refine.fold_duplicates``): identical texts are fitted once, in
   a canonical order, so repeated templates cannot form fake themes and the input order does
   not matter; sizes still count every copy.
2. UMAP (cosine, min_dist 0) → HDBSCAN (eom) inside BERTopic on the caller's embeddings
   (``embedding_model=None``: nothing is embedded or downloaded here), scaled to the corpus:
   ``min_cluster_size = max(min_theme_size, round(min_theme_share · n))``, HDBSCAN
   ``min_samples = min(5, min_cluster_size)`` (hdbscan's default, = min_cluster_size, makes
   border documents noise: banking77 test, 5 seeds: outliers 14 % → 9 %, final NMI
   0.753 → 0.770), UMAP neighbours ``min(n_neighbors, n // 3)``; "leaf" selection when one
   eom cluster holds over ``max_theme_share`` (``theme_refine.leaf_if_swallowed``). Above
   ``fit_sample_size`` distinct documents, UMAP + HDBSCAN see a seeded random sample of that
   size (BERTopic's maintainer's advice for large corpora, issue #1954: UMAP alone took 353 s on
   200k documents here, shared/notes/perf.md) and step 4 assigns the rest.
3. Keywords: c-TF-IDF over ``ThemeTokenizer`` tokens (Korean content morphemes, English
   words minus stop lists), unigrams and bigrams, ``reduce_frequent_words``.
4. Outliers (``outlier_strategy``): "lda" (default, ``theme_refine.refine_with_lda``) fits a
   shrinkage LDA on the clustered cores and assigns every document except those whose best
   centroid cosine is below ``outlier_similarity`` (off-domain text stays an outlier);
   "centroid" (``reassign_outliers``) moves outliers to the nearest centroid above the same
   threshold. Keywords are then recomputed on the final assignment.
5. Themes renumbered 0..k-1 by size, labelled from keywords found in ≥ 10 % of their
   documents (``theme_labels.covered_first``, ``make_labels``), 3 diverse quotes each.

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
from nlp.theme_labels import covered_first, make_labels, select_representatives
from nlp.theme_refine import (
    DEFAULT_OUTLIER_SIMILARITY,
    empty_result,
    fold_duplicates,
    leaf_if_swallowed,
    normalise_rows,
    reassign_outliers,
    refine_with_lda,
)
from nlp.tokenize import DOC_BREAK, PHRASE_BREAK, ThemeTokenizer

# Corpora below this size count terms that occur once: with a few dozen short documents,
# min_df=2 leaves some themes without a single keyword.
_MIN_DF_CORPUS = 100
# BERTopic pads empty topic documents with this token; it must never become a keyword.
_BERTOPIC_EMPTY_DOC = "emptydoc"


class BERTopicThemeModel:
    """``ThemeModel`` built on BERTopic with precomputed embeddings (see module docstring).

    Args:
        min_theme_size: Smallest theme worth reporting (HDBSCAN ``min_cluster_size`` floor).
        min_theme_share: Share of the corpus that ``min_cluster_size`` grows to in large
            corpora (see module docstring). 0.001, measured on a 21k-item benchmark store
            (NSMC, banking77, reviews; benchmarks/run.py corpus), NMI on its 2,726 banking77
            queries against their 77 intents: 0.005 -> 0.620 (24 themes for 77 intents),
            0.002 -> 0.734, 0.001 -> 0.750; BERTopic defaults on MiniLM 0.753. 0.005 meant
            themes of 100+ items in a 20k fit, merging distinct intents.
        min_samples: HDBSCAN ``min_samples`` cap (None = hdbscan's default).
        outlier_strategy: "lda" or "centroid" (see module docstring).
        max_theme_share: With "eom", a cluster above this share of the documents makes the
            fit re-select clusters with "leaf" (``theme_refine.leaf_if_swallowed``).
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
        fit_sample_size: Most distinct documents UMAP + HDBSCAN are fitted on; larger corpora
            are sampled (seeded) and the rest assigned by the outlier step. None = never.
    """

    def __init__(
        self,
        min_theme_size: int = 10,
        min_theme_share: float = 0.001,
        min_samples: int | None = 5,
        outlier_strategy: str = "lda",
        max_theme_share: float = 0.4,
        seed: int = 42,
        n_neighbors: int = 15,
        n_components: int = 5,
        top_keywords: int = 8,
        quotes_per_theme: int = 3,
        outlier_similarity: float = DEFAULT_OUTLIER_SIMILARITY,
        max_themes: int | None = None,
        cluster_selection: str = "eom",
        extra_stop_words: Sequence[str] = (),
        fit_sample_size: int | None = 20_000,
    ) -> None:
        if min_theme_size < 2:
            raise ValueError(f"min_theme_size must be >= 2, got {min_theme_size}")
        if max_themes is not None and max_themes < 1:
            raise ValueError(f"max_themes must be >= 1 or None, got {max_themes}")
        if outlier_strategy not in ("lda", "centroid"):
            raise ValueError(
                f"outlier_strategy must be 'lda' or 'centroid', got {outlier_strategy!r}"
            )
        self.min_theme_size = min_theme_size
        self.min_theme_share = min_theme_share
        self.min_samples = min_samples
        self.outlier_strategy = outlier_strategy
        self.max_theme_share = max_theme_share
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
        if fit_sample_size is not None and fit_sample_size < 100:
            raise ValueError(f"fit_sample_size must be >= 100 or None, got {fit_sample_size}")
        self.fit_sample_size = fit_sample_size

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
        all_docs = list(texts)
        n = len(all_docs)
        if embeddings.ndim != 2 or embeddings.shape[0] != n or len(languages) != n:
            raise ValueError(
                f"texts ({n}), embeddings {embeddings.shape} and languages ({len(languages)}) "
                "must have the same length"
            )
        unique, inverse = fold_duplicates(all_docs)
        docs = [all_docs[i] for i in unique]
        m = len(docs)
        # Copies per fitted document: sizes and shares count every item, not every text.
        weights = np.bincount(inverse, minlength=m)
        info: dict[str, Any] = {
            "n_docs": n,
            "n_unique_docs": m,
            "languages": dict(Counter(languages)),
            "settings": self._settings(m),
        }
        min_size = self._min_cluster_size(m)
        if m < 2 * min_size:
            return empty_result(
                n, f"fewer than 2*min_cluster_size={2 * min_size} distinct docs", info, t0
            )
        emb = normalise_rows(np.asarray(embeddings, dtype=np.float32)[unique])
        # Distinct points counted on a fixed random projection: O(n·d) instead of sorting rows.
        direction = np.random.default_rng(0).normal(size=(emb.shape[1],)).astype(np.float32)
        projection = emb @ direction
        n_distinct = len(np.unique(np.round(projection, 4)))
        if n_distinct < self.n_components + 2:
            # UMAP's spectral layout needs more distinct points than output dimensions + 1.
            return empty_result(n, f"only {n_distinct} distinct embeddings", info, t0)
        vocabulary = self._vocabulary(docs, info)
        if not vocabulary:
            return empty_result(n, "no keyword tokens in the documents", info, t0)

        # UMAP + HDBSCAN run on a sample of a large corpus (their cost grows superlinearly);
        # the outlier step below then assigns every document, sampled or not.
        fit_idx = self._fit_sample(m)
        m_fit = len(fit_idx)
        info["n_fit_docs"] = m_fit
        info["settings"].update(
            min_cluster_size=self._min_cluster_size(m_fit),
            min_samples=self._min_samples(m_fit),
            n_neighbors=self._n_neighbors(m_fit),
        )
        topic_model = self._bertopic(m_fit, vocabulary)
        # BERTopic concatenates each topic's documents; DOC_BREAK stops bigrams across them.
        bt_docs = [doc + DOC_BREAK for doc in docs]
        fit_docs = [bt_docs[i] for i in fit_idx]
        topics, _ = topic_model.fit_transform(fit_docs, embeddings=emb[fit_idx])
        sampled = np.asarray(topics, dtype=np.int64)
        n_found = len(set(sampled.tolist()) - {-1})
        if self.max_themes is not None and n_found > self.max_themes:
            # BERTopic's nr_topics counts the outlier topic as one of the topics.
            nr_topics = self.max_themes + int((sampled < 0).any())
            topic_model.reduce_topics(fit_docs, nr_topics=nr_topics)
            sampled = np.asarray(topic_model.topics_, dtype=np.int64)
        bertopic_topics = np.full(m, -1, dtype=np.int64)
        bertopic_topics[fit_idx] = sampled
        if self.cluster_selection == "eom" and self.max_theme_share < 1.0:
            sampled, info["leaf_fallback"] = leaf_if_swallowed(
                sampled, topic_model.umap_model.embedding_, weights[fit_idx],
                self.max_theme_share, self._min_cluster_size(m_fit), self._min_samples(m_fit),
            )  # fmt: skip
        initial = np.full(m, -1, dtype=np.int64)
        initial[fit_idx] = sampled
        # Items (copies counted) HDBSCAN left as noise, among those it saw.
        info["outlier_share_initial"] = float(np.average(sampled < 0, weights=weights[fit_idx]))
        if n_found == 0:
            return empty_result(n, "HDBSCAN found no cluster", info, t0)

        if self.outlier_strategy == "lda":
            final, best_sim = refine_with_lda(initial, emb, self.outlier_similarity)
        else:
            final, best_sim = reassign_outliers(initial, emb, self.outlier_similarity)
        n_reassigned = int(weights[(initial < 0) & (final >= 0)].sum())
        if not np.array_equal(final, bertopic_topics):
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
        themes, local = self._build_themes(topic_model, final, emb, docs, weights, unique)
        assignments = local[inverse]
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

    def _fit_sample(self, n_docs: int) -> np.ndarray:
        """Positions of the documents UMAP + HDBSCAN are fitted on (all, or a seeded sample)."""
        if self.fit_sample_size is None or n_docs <= self.fit_sample_size:
            return np.arange(n_docs)
        rng = np.random.default_rng(self.seed)
        return np.sort(rng.choice(n_docs, size=self.fit_sample_size, replace=False))

    def _min_cluster_size(self, n_docs: int) -> int:
        return max(self.min_theme_size, round(self.min_theme_share * n_docs))

    def _min_samples(self, n_docs: int) -> int | None:
        if self.min_samples is None:
            return None
        return min(self.min_samples, self._min_cluster_size(n_docs))

    def _settings(self, n_docs: int) -> dict[str, Any]:
        return {
            "min_theme_size": self.min_theme_size,
            "min_cluster_size": self._min_cluster_size(n_docs),
            "min_samples": self._min_samples(n_docs),
            "outlier_strategy": self.outlier_strategy,
            "max_theme_share": self.max_theme_share,
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
            "fit_sample_size": self.fit_sample_size,
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
        # Imported here: BERTopic, UMAP and HDBSCAN take seconds to import (numba).
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
            min_cluster_size=self._min_cluster_size(n_docs),
            min_samples=self._min_samples(n_docs),
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
        self,
        topic_model: Any,
        final: np.ndarray,
        emb: np.ndarray,
        docs: list[str],
        weights: np.ndarray,
        original_index: np.ndarray,
    ) -> tuple[list[Theme], np.ndarray]:
        sizes: Counter[int] = Counter()
        for t, w in zip(final.tolist(), weights.tolist(), strict=True):
            if t >= 0:
                sizes[int(t)] += int(w)
        # Size descending, old id as tie-breaker so that equal sizes order deterministically.
        order = sorted(sizes, key=lambda t: (-sizes[t], t))
        new_id = {old: new for new, old in enumerate(order)}
        assignments = np.array([new_id.get(int(t), -1) for t in final.tolist()], dtype=np.int64)
        keywords = [self._keywords(topic_model, old) for old in order]
        tokenizer = ThemeTokenizer(self.extra_stop_words, phrase_breaks=True)
        members_of = [[docs[i] for i in np.flatnonzero(final == old)] for old in order]
        labels = make_labels(
            [covered_first(k, m, tokenizer) for k, m in zip(keywords, members_of, strict=True)]
        )
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
                    # Quotes are positions among the distinct documents: map them back.
                    representative_idx=tuple(int(original_index[q]) for q in quotes),
                )
            )
        return themes, assignments
