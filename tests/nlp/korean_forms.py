"""What Kiwi tags as a Korean content morpheme *in context*, for checking theme labels.

A label word must be checked where it was written, not on its own: Kiwi reads the bare word
"흐름" ("flow", a noun in "스토리 흐름이 좋아요") as the verb 흐르 + the ending ᆷ (EF), so
re-tokenising label words one by one flags nouns as endings (issue 16: it failed on a Xeon,
where a theme happened to be labelled 흐름, and passed on an EPYC, where none was).
"""

from __future__ import annotations

from collections.abc import Iterable

from nlp.tokenize import get_kiwi

NOUN_TAGS = frozenset({"NNG", "NNP", "XR"})
PREDICATE_TAGS = frozenset({"VV", "VA"})


def content_forms(texts: Iterable[str]) -> set[str]:
    """Returns every content morpheme of the texts as the theme tokenizer renders it.

    Nouns and roots as written (배송, 깔끔), verb and adjective stems in dictionary form
    (늦 → 늦다), judged by the tags Kiwi gives them inside their sentence.

    Args:
        texts: Documents.

    Returns:
        The rendered forms.
    """
    forms: set[str] = set()
    for tokens in get_kiwi().tokenize(list(texts)):
        for tok in tokens:
            tag = tok.tag.split("-", 1)[0]  # "VA-I"/"VV-R": irregular predicates
            if tag in NOUN_TAGS:
                forms.add(tok.form)
            elif tag in PREDICATE_TAGS:
                forms.add(tok.form + "다")
    return forms


def hangul_words(terms: Iterable[str]) -> set[str]:
    """Returns the words of keywords or label terms that contain a Hangul syllable."""
    return {
        w for term in terms for w in term.split() if any("\uac00" <= ch <= "\ud7a3" for ch in w)
    }
