"""Theme quality metrics against gold categories, and the BERTopic-default baseline.

Metrics (``evaluate_themes``):

* ``nmi`` / ``ari``: normalised mutual information (arithmetic mean normalisation, sklearn's
  default) and adjusted Rand index between gold categories and theme assignments. Outliers
  (-1) count as one more cluster, so a model cannot score well by declaring the hard half of
  the corpus an outlier. ``nmi_clustered`` is NMI on the non-outlier documents only, for
  reference.
* ``outlier_share``: share of documents assigned to no theme; ``n_themes``.
* ``topic_diversity``: unique words / all words over the top-``top_k`` words of every theme
  (Dieng et al. 2020); 1.0 means no two themes share a keyword. Key phrases are split into
  their words first, and each theme contributes its first ``top_k`` distinct words.
* ``npmi``: mean normalised pointwise mutual information of every word pair within a theme's
  top-``top_k`` words, with document co-occurrence in the evaluated corpus itself (-1 for
  pairs that never co-occur, 0 for independence, 1 for pairs that always co-occur). The
  reference tokens of a document are the union of ``ThemeTokenizer`` tokens (Korean content
  morphemes in dictionary form, e.g. 늦다) and plain lower-cased words, so both vocflow's and
  BERTopic's default keywords (which keep stop words) are found in the reference corpus.

``fit_bertopic_default`` is the baseline the eval command compares against: ``BERTopic()``
with every default (UMAP 15 neighbours / 5 dimensions, HDBSCAN min_cluster_size 10 "eom",
default ``CountVectorizer``, ``language="english"``) on the same precomputed embeddings. The
one change is UMAP's ``random_state`` (BERTopic leaves it unset), so that a run can be
repeated; the UMAP settings are otherwise BERTopic's own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nlp.tokenize import PHRASE_BREAK, ThemeTokenizer

DEFAULT_TOP_K = 10
_PLAIN_WORD_RE = re.compile(r"\w+")


def topic_words(keywords: Sequence[str], top_k: int = DEFAULT_TOP_K) -> list[str]:
    """Returns the first ``top_k`` distinct words of a theme's keywords (phrases split).

    Args:
        keywords: Keywords or key phrases, best first.
        top_k: Words to keep.

    Returns:
        Lower-cased words, in keyword order.
    """
    words: list[str] = []
    for keyword in keywords:
        for word in keyword.lower().split():
            if word not in words:
                words.append(word)
            if len(words) >= top_k:
                return words
    return words


def topic_diversity(
    keywords_per_theme: Sequence[Sequence[str]], top_k: int = DEFAULT_TOP_K
) -> float:
    """Share of unique words among all themes' top words (see module docstring).

    Args:
        keywords_per_theme: Keywords per theme, best first.
        top_k: Words per theme.

    Returns:
        A value in [0, 1]; NaN when no theme has a keyword.
    """
    words = [w for kws in keywords_per_theme for w in topic_words(kws, top_k)]
    return len(set(words)) / len(words) if words else math.nan


def reference_tokens(texts: Sequence[str]) -> list[set[str]]:
    """Returns the token set of each document used as the NPMI reference corpus.

    Args:
        texts: Documents.

    Returns:
        Per document, the union of theme-tokenizer tokens and plain lower-cased words.
    """
    tokenizer = ThemeTokenizer()
    out = []
    for text in texts:
        tokens = {t for t in tokenizer(text) if t != PHRASE_BREAK}
        tokens.update(w.lower() for w in _PLAIN_WORD_RE.findall(text))
        out.append(tokens)
    return out


def npmi_coherence(
    keywords_per_theme: Sequence[Sequence[str]],
    doc_tokens: Sequence[set[str]],
    top_k: int = DEFAULT_TOP_K,
) -> float:
    """Mean NPMI of the word pairs within each theme's top words (see module docstring).

    Args:
        keywords_per_theme: Keywords per theme, best first.
        doc_tokens: Token set per reference document (``reference_tokens``).
        top_k: Words per theme.

    Returns:
        The mean over themes of the mean pair NPMI, in [-1, 1]; NaN when no theme has two
        words or the reference corpus is empty.
    """
    per_theme = [topic_words(kws, top_k) for kws in keywords_per_theme]
    vocab = sorted({w for words in per_theme for w in words})
    n_docs = len(doc_tokens)
    if not vocab or n_docs == 0:
        return math.nan
    index = {w: i for i, w in enumerate(vocab)}
    rows, cols = [], []
    for d, tokens in enumerate(doc_tokens):
        for word in tokens:
            j = index.get(word)
            if j is not None:
                rows.append(d)
                cols.append(j)
    presence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n_docs, len(vocab))
    )
    co = (presence.T @ presence).toarray() / n_docs
    p = np.diag(co)
    scores = []
    for words in per_theme:
        pairs = [
            _npmi(co[index[a], index[b]], p[index[a]], p[index[b]])
            for a, b in combinations(words, 2)
        ]
        if pairs:
            scores.append(float(np.mean(pairs)))
    return float(np.mean(scores)) if scores else math.nan


def _npmi(p_ab: float, p_a: float, p_b: float) -> float:
    if p_ab <= 0.0:
        return -1.0
    if p_ab >= 1.0:
        return 1.0
    return math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)


def evaluate_themes(
    gold: Sequence[Any],
    assignments: np.ndarray,
    keywords_per_theme: Sequence[Sequence[str]],
    doc_tokens: Sequence[set[str]] | None = None,
    top_k: int = DEFAULT_TOP_K,
) -> dict[str, float | int]:
    """Scores one theme assignment against gold categories (see module docstring).

    Args:
        gold: Gold category per document.
        assignments: Theme id per document, -1 = outlier.
        keywords_per_theme: Keywords of every theme (for diversity and coherence).
        doc_tokens: Reference token sets for NPMI; NPMI is NaN when omitted.
        top_k: Words per theme for diversity and coherence.

    Returns:
        ``nmi, ari, nmi_clustered, outlier_share, n_themes, topic_diversity, npmi``.

    Raises:
        ValueError: If gold and assignments differ in length.
    """
    pred = np.asarray(assignments)
    gold_arr = np.asarray(gold)
    if len(gold_arr) != len(pred):
        raise ValueError(f"{len(gold_arr)} gold labels but {len(pred)} assignments")
    clustered = pred >= 0
    return {
        "nmi": float(normalized_mutual_info_score(gold_arr, pred)),
        "ari": float(adjusted_rand_score(gold_arr, pred)),
        "nmi_clustered": (
            float(normalized_mutual_info_score(gold_arr[clustered], pred[clustered]))
            if clustered.any()
            else math.nan
        ),
        "outlier_share": float((~clustered).mean()) if len(pred) else 0.0,
        "n_themes": len(set(pred[clustered].tolist())),
        "topic_diversity": topic_diversity(keywords_per_theme, top_k),
        "npmi": (
            npmi_coherence(keywords_per_theme, doc_tokens, top_k)
            if doc_tokens is not None
            else math.nan
        ),
    }


def fit_bertopic_default(
    texts: Sequence[str], embeddings: np.ndarray, seed: int = 42
) -> tuple[np.ndarray, list[list[str]]]:
    """Fits BERTopic with default settings on precomputed embeddings (the baseline).

    Args:
        texts: Documents.
        embeddings: Their embeddings (the same ones the compared model gets).
        seed: UMAP ``random_state``, the only setting that differs from ``BERTopic()``.

    Returns:
        Topic per document (-1 = outlier) and the keywords of each topic, in the order of
        ``sorted(set(topics) - {-1})``.
    """
    # Imported here: BERTopic and UMAP take seconds to import (numba).
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(
        n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
    )
    model = BERTopic(embedding_model=None, umap_model=umap_model)
    topics, _ = model.fit_transform(list(texts), embeddings=np.asarray(embeddings))
    assignments = np.asarray(topics, dtype=np.int64)
    ids = sorted(set(assignments.tolist()) - {-1})
    keywords = [[w for w, _ in (model.get_topic(t) or []) if w] for t in ids]
    return assignments, keywords
