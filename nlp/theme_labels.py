"""Readable theme labels from c-TF-IDF keywords, and diverse representative quotes (MMR)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from nlp.redact import PII_KINDS
from nlp.tokenize import PHRASE_BREAK, ThemeTokenizer

LABEL_SEPARATOR = " · "

_NON_WORD_RE = re.compile(r"[\W_]+")
# The placeholders ``nlp.redact`` puts where it removed PII ("[PHONE]", "[NAME]", …).
_PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(PII_KINDS) + r")\]")


def word_key(word: str) -> str:
    """Returns a comparison key that folds English plurals ("seats" ~ "seat").

    Used only to avoid "seat · seats" in one label; keywords themselves stay unstemmed.

    Args:
        word: One token (Latin or Hangul).

    Returns:
        The lower-cased word with a regular English plural ending removed.
    """
    w = word.lower()
    if not w.isascii() or len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("es") and w[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _keys(term: str) -> list[str]:
    return [word_key(w) for w in term.split()]


def label_terms(keywords: Sequence[str], max_terms: int = 3, max_words: int = 4) -> list[str]:
    """Picks the 2–3 keyword terms that make up one theme's label.

    The first term is the top keyword, upgraded to the best-ranked bigram that contains it
    when there is one ("card" → "card arrived"): a phrase reads better than two loose words.
    Further terms follow in keyword order, skipping any that repeat a word already in the
    label (plurals folded), until the label has 3 terms, or 2 terms and at least 3 words.

    Args:
        keywords: Keywords (unigrams or bigrams), best first.
        max_terms: Most terms in a label.
        max_words: Most words over all terms.

    Returns:
        The chosen terms, in order (empty when there are no keywords).
    """
    kws = [k for k in keywords if k.strip()]
    if not kws:
        return []
    first = kws[0]
    if " " not in first:
        top = word_key(first)
        for k in kws[1:]:
            keys = _keys(k)
            if len(keys) == 2 and top in keys and keys[0] != keys[1]:
                first = k
                break
    terms = [first]
    used = set(_keys(first))
    n_words = len(used)
    for k in kws:
        if len(terms) >= max_terms or (len(terms) >= 2 and n_words >= 3):
            break
        keys = _keys(k)
        if used.intersection(keys) or n_words + len(keys) > max_words:
            continue
        terms.append(k)
        used.update(keys)
        n_words += len(keys)
    return terms


def make_labels(keywords_per_theme: Sequence[Sequence[str]]) -> list[str]:
    """Builds one label per theme, unique across themes.

    Themes are labelled in order (pass them largest first, so the big theme keeps the short
    label). A label that repeats an earlier one is extended with the theme's next unused
    keywords until it is unique; as a last resort the theme number is appended.

    Args:
        keywords_per_theme: Keywords per theme, best first.

    Returns:
        Labels such as "card arrived · track", one per theme, all distinct.
    """
    labels: list[str] = []
    taken: set[str] = set()
    for i, keywords in enumerate(keywords_per_theme):
        terms = label_terms(keywords)
        label = LABEL_SEPARATOR.join(terms) if terms else f"theme {i}"
        if label in taken:
            used = {key for t in terms for key in _keys(t)}
            for k in keywords:
                keys = _keys(k)
                if k in terms or used.issuperset(keys):
                    continue
                terms.append(k)
                used.update(keys)
                label = LABEL_SEPARATOR.join(terms)
                if label not in taken:
                    break
        if label in taken:
            label = f"{label} #{i}"
        labels.append(label)
        taken.add(label)
    return labels


def _text_key(text: str) -> str:
    return _NON_WORD_RE.sub(" ", text.lower()).strip()


def is_quotable(text: str, min_words: int = 3, max_chars: int = 600) -> bool:
    """Says whether a text reads well as a quote: not a 2-word fragment, not an essay.

    Args:
        text: Document text.
        min_words: Fewest whitespace-separated words.
        max_chars: Longest length in characters.

    Returns:
        True when the text is within both bounds.
    """
    return len(text.split()) >= min_words and len(text) <= max_chars


def has_redaction(text: str) -> bool:
    """Says whether a text carries a PII placeholder left by ``nlp.redact`` (``[PHONE]`` …).

    Args:
        text: Document text (already redacted).

    Returns:
        True when any ``[KIND]`` placeholder of ``PII_KINDS`` occurs in it.
    """
    return _PLACEHOLDER_RE.search(text) is not None


def quote_tier(text: str) -> int:
    """Rank of a text as a quote candidate, 0 best; lower tiers are tried first.

    0: quotable and without a PII placeholder; 1: quotable but redacted ("call me on
    [PHONE]" reads as a redaction, not as the customer's point, and a report full of
    placeholders looks broken); 2 and 3: not quotable (``is_quotable``), without and with a
    placeholder. Readability comes first: a redacted sentence says more than a 2-word
    fragment.

    Args:
        text: Document text.

    Returns:
        0, 1, 2 or 3.
    """
    return 2 * (not is_quotable(text)) + has_redaction(text)


def select_representatives(
    member_idx: np.ndarray,
    embeddings: np.ndarray,
    texts: Sequence[str],
    k: int,
    diversity_lambda: float = 0.7,
    duplicate_cosine: float = 0.97,
    pool_size: int = 200,
) -> tuple[int, ...]:
    """Chooses ``k`` central yet diverse documents of one theme by maximal marginal relevance.

    Relevance is the cosine to the theme centroid; each pick maximises
    ``λ·relevance − (1−λ)·max cosine to the picks so far``. Candidates are tried tier by
    tier (``quote_tier``: quotable texts without a PII placeholder first, then redacted ones,
    then the unquotable), so a placeholder is quoted only where the theme offers no clean
    text, whatever the embedding kernels made central. Texts whose normalised form was
    already picked, or whose cosine to a pick is ≥ ``duplicate_cosine``, are skipped.
    Only the ``pool_size`` most central members are considered, which keeps large themes cheap
    and the quotes on topic.

    Args:
        member_idx: Indices of the theme's documents.
        embeddings: All document embeddings, rows L2-normalised.
        texts: All document texts.
        k: Number of documents to return.
        diversity_lambda: λ above; 1.0 = most central only.
        duplicate_cosine: Cosine at or above which two documents count as the same.
        pool_size: How many central members to consider.

    Returns:
        Up to ``k`` document indices, most representative first.
    """
    if k <= 0 or len(member_idx) == 0:
        return ()
    vectors = embeddings[member_idx]
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    relevance = vectors @ centroid
    # Stable sort so that ties keep document order (determinism).
    pool = np.argsort(-relevance, kind="stable")[:pool_size]
    tiers: list[list[int]] = [[] for _ in range(4)]
    for p in pool:
        tiers[quote_tier(texts[member_idx[p]])].append(int(p))
    picked: list[int] = []
    picked_keys: set[str] = set()
    for candidates in tiers:
        remaining = list(candidates)
        while remaining and len(picked) < k:
            if picked:
                max_sim = (vectors[remaining] @ vectors[picked].T).max(axis=1)
            else:
                max_sim = np.zeros(len(remaining))
            scores = diversity_lambda * relevance[remaining] - (1 - diversity_lambda) * max_sim
            best = int(np.argmax(scores))
            choice = remaining.pop(best)
            key = _text_key(texts[member_idx[choice]])
            if key in picked_keys or max_sim[best] >= duplicate_cosine:
                continue
            picked.append(choice)
            picked_keys.add(key)
    return tuple(int(member_idx[p]) for p in picked)


def distinctive_terms(
    texts: Sequence[str], member_idx: Sequence[int] | np.ndarray, top_n: int = 8, min_df: int = 2
) -> list[str]:
    """Keywords of a theme that no c-TF-IDF fit produced (curated themes, taxonomy seeds).

    Scores each content token (``ThemeTokenizer``) by ``df_in · log(lift)``, where ``df_in``
    is the number of member documents containing it and ``lift`` its document frequency
    among members over its (add-one smoothed) frequency in the whole corpus: frequent in the
    theme and rarer elsewhere, like c-TF-IDF but with no model state.

    Args:
        texts: All documents.
        member_idx: Indices of the theme's documents.
        top_n: Keywords returned.
        min_df: Fewest member documents a keyword occurs in.

    Returns:
        Keywords, best first (ties alphabetical).
    """
    tokenizer = ThemeTokenizer()
    doc_sets = [{t for t in tokenizer(text) if t != PHRASE_BREAK} for text in texts]
    members = {int(i) for i in member_idx}
    if not members:
        return []
    df_all: Counter[str] = Counter(t for tokens in doc_sets for t in tokens)
    df_in: Counter[str] = Counter(t for i in members for t in doc_sets[i])
    n_in, n_all = len(members), len(doc_sets)
    scored = []
    for term, count in df_in.items():
        lift = (count / n_in) / ((df_all[term] + 1) / (n_all + 1))
        if count >= min_df and lift > 1.0:
            scored.append((-count * math.log(lift), term))
    return [term for _, term in sorted(scored)[:top_n]]


def covered_first(
    keywords: Sequence[str],
    member_texts: Sequence[str],
    tokenizer: ThemeTokenizer,
    min_coverage: float = 0.1,
    max_docs: int = 300,
) -> list[str]:
    """Reorders keywords so that those found in many member documents come first.

    c-TF-IDF ranks terms that are *distinctive* of a theme; a label should also be
    *representative*: a word from 2 % of the theme's documents ("europe" in a theme about
    transfer delays) misleads whoever reads only the label. Keywords found in at least
    ``min_coverage`` of the member documents go first, most covered first (c-TF-IDF rank
    breaks ties): on banking77 this turns "account immediately · soon" into "delete account"
    and "company · happy · satisfied" into a label that says "close". The others follow in
    their c-TF-IDF order; the keyword list itself is not changed.

    Args:
        keywords: Keywords (unigrams or bigrams), best first.
        member_texts: The theme's documents (the first ``max_docs`` are read).
        tokenizer: The tokenizer the keywords came from (``phrase_breaks=True``).
        min_coverage: Share of member documents a label keyword must occur in.
        max_docs: Documents read at most (keeps large themes cheap).

    Returns:
        The keywords, reordered.
    """
    docs = list(member_texts[:max_docs])
    if not docs:
        return list(keywords)
    counts: Counter[str] = Counter()
    for text in docs:
        tokens = tokenizer(text)
        grams = {t for t in tokens if t != PHRASE_BREAK}
        grams.update(
            f"{a} {b}"
            for a, b in zip(tokens, tokens[1:], strict=False)
            if PHRASE_BREAK not in (a, b)
        )
        counts.update(grams)
    need = min_coverage * len(docs)
    covered = sorted(
        (k for k in keywords if counts[k] >= need), key=lambda k: -counts[k]
    )  # sorted() is stable: equal coverage keeps the c-TF-IDF order
    return covered + [k for k in keywords if counts[k] < need]
