"""Sparse text features of the sentiment model: character and word n-grams with negation marks.

Frozen sentence embeddings barely separate a sentence from its negation (shared/notes/perf.md),
and short Korean reviews carry their polarity in endings, slang and tokens such as "ㅋㅋ" or
"ㅠㅠ". Sparse n-grams see exactly those, so the default model adds a TF-IDF layer to the
embedding head. Everything here is plain Python and numpy so that the vocabulary, IDF and
weights live in the JSON artifact and prediction needs no fitted scikit-learn object.

Terms of one text (prefixes keep the families apart):

* ``c:`` character 1..4-grams of the folded text (spaces included, so "안 좋" and "not g"
  span word boundaries: Korean negation "안/못 + verb" and intensifiers "너무/정말 + adj" are
  covered);
* ``w:`` word unigrams and bigrams, where English words after a negator ("not", "never",
  "n't", "no", "without", ...) up to the next punctuation or contrast word carry a ``NOT_``
  mark, so "not good" and "good" are different features;
* repeated characters are folded to two ("ㅋㅋㅋㅋ" -> "ㅋㅋ", "!!!!" -> "!!",
  "soooo" -> "soo"), so laughter, crying and emphasis tokens of any length share features;
  emoji and emoticons are kept as characters.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

FEATURE_VERSION = "c1-4+w1-2neg:v1"
CHAR_NGRAMS = (1, 4)
_REPEAT = re.compile(r"(.)\1{2,}", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?|\d+|[^\w\s]", re.UNICODE)
_NEGATORS = frozenset(
    "not no never none nothing nobody nowhere neither nor cannot without hardly barely "
    "scarcely isnt arent wasnt werent dont doesnt didnt cant couldnt wont wouldnt shouldnt "
    "havent hasnt hadnt aint".split()
)
# Negation scope ends at punctuation or where the sentence turns ("not cheap, but good").
_SCOPE_END = frozenset(".,;:!?") | frozenset("but however though although yet".split())
_MAX_SCOPE = 4


def fold(text: str) -> str:
    """Lower-cases and folds character repeats of three or more to two.

    Args:
        text: Cleaned text.

    Returns:
        The folded text.
    """
    return _REPEAT.sub(r"\1\1", text.lower())


def words(text: str) -> list[str]:
    """Word tokens of a folded text, with English negation scope marked ``NOT_``.

    Args:
        text: Output of :func:`fold`.

    Returns:
        Tokens (letters, digit runs, single punctuation marks; "n't" joined to its word).
    """
    raw = _WORD.findall(text.replace("n't", "nt").replace("’", "'"))
    out: list[str] = []
    scope = 0
    for token in raw:
        if token in _SCOPE_END:
            scope = 0
            out.append(token)
            continue
        if scope > 0:
            out.append("NOT_" + token)
            scope -= 1
        else:
            out.append(token)
        if token in _NEGATORS:
            scope = _MAX_SCOPE
    return out


def terms(text: str) -> list[str]:
    """All feature terms of one text (see the module docstring).

    Args:
        text: Cleaned text.

    Returns:
        Terms with repeats (counts matter for TF).
    """
    folded = fold(text)
    padded = f" {folded} "
    out = [
        "c:" + padded[i : i + n]
        for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1)
        for i in range(len(padded) - n + 1)
        if padded[i : i + n].strip()
    ]
    tokens = words(folded)
    out.extend("w:" + t for t in tokens)
    out.extend(f"w:{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return out


class SparseFeatures:
    """TF-IDF over :func:`terms` with a fixed vocabulary (sublinear TF, L2-normalised rows).

    The same arithmetic as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``; the fitted
    vocabulary and IDF are plain lists, stored in the model artifact.

    Args:
        vocabulary: Terms, in column order.
        idf: IDF weight per term.
    """

    def __init__(self, vocabulary: Sequence[str], idf: Sequence[float]) -> None:
        if len(vocabulary) != len(idf):
            raise ValueError(f"{len(vocabulary)} terms but {len(idf)} idf weights")
        self.vocabulary = list(vocabulary)
        self.index = {term: i for i, term in enumerate(self.vocabulary)}
        if len(self.index) != len(self.vocabulary):
            raise ValueError("vocabulary has duplicate terms")
        self.idf = np.asarray(idf, dtype=np.float64)

    @property
    def dim(self) -> int:
        """Number of columns."""
        return len(self.vocabulary)

    @classmethod
    def fit(
        cls, texts: Iterable[str], *, max_features: int, min_df: int = 2
    ) -> tuple[SparseFeatures, list[Counter[str]]]:
        """Chooses the vocabulary (most frequent by document frequency) and its IDF.

        Args:
            texts: Training texts.
            max_features: Vocabulary size cap (keeps the artifact small).
            min_df: Minimum number of documents a term must occur in.

        Returns:
            The features and the term counts of every text (reuse them for ``transform``).
        """
        counts = [Counter(terms(t)) for t in texts]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        kept = [t for t, n in df.items() if n >= min_df]
        # Sorted by document frequency, then the term itself, so the choice is deterministic.
        kept.sort(key=lambda t: (-df[t], t))
        kept = sorted(kept[:max_features])
        n_docs = len(counts)
        idf = [float(np.log((1 + n_docs) / (1 + df[t])) + 1.0) for t in kept]
        return cls(kept, idf), counts

    def transform(
        self, texts: Sequence[str], counts: Sequence[Mapping[str, int]] | None = None
    ) -> object:
        """Returns the TF-IDF matrix as ``scipy.sparse.csr_matrix`` ``(len(texts), dim)``.

        Args:
            texts: Texts to featurise.
            counts: Precomputed term counts of ``texts`` (from :meth:`fit`), optional.

        Returns:
            A float64 CSR matrix with L2-normalised rows (empty rows stay zero).
        """
        from scipy.sparse import csr_matrix

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for row, text in enumerate(texts):
            counter = counts[row] if counts is not None else Counter(terms(text))
            hits = [(self.index[t], n) for t, n in counter.items() if t in self.index]
            if not hits:
                continue
            idx = np.fromiter((i for i, _ in hits), dtype=np.int64, count=len(hits))
            tf = 1.0 + np.log(np.fromiter((n for _, n in hits), dtype=np.float64))
            weights = tf * self.idf[idx]
            weights /= np.linalg.norm(weights)
            rows.extend([row] * len(hits))
            cols.extend(idx.tolist())
            vals.extend(weights.tolist())
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), self.dim), dtype=np.float64)
