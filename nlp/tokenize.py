"""Theme-keyword tokenizer for Korean (Kiwi morphology) and English (regex + stop lists).

Used as ``CountVectorizer(tokenizer=ThemeTokenizer(), lowercase=False, token_pattern=None)``
so that c-TF-IDF keywords are content words a product manager can read, never particles.

Korean text (any Hangul in it) goes through Kiwi and keeps only content morphemes:

* NNG/NNP (common and proper nouns) and XR (roots such as 깔끔 in 깔끔하다);
* VV/VA (verb and adjective stems, irregular variants included) rendered as stem + "다"
  (늦다, 좁다, 재미없다), minus light verbs that carry no theme (하다, 되다, 있다, …) and the
  bare verdicts 좋다/나쁘다 (like good/great/bad in English);
* SL (foreign-script words) joined with directly adjacent digits ("iPhone15" → "iphone15")
  and filtered like English words.

Everything else is dropped: particles (JKS/JKO/JX… 은/는/이/가/을/를/의/에), endings (EF/EC/EP/
ETN/ETM), suffixes, dependent nouns (것, 수, 점), pronouns, numerals, adverbs (너무, 진짜),
symbols and laughter (ㅋㅋ). One-syllable nouns and roots are mostly noise after
morphological analysis (때, 뒤, 말, 거 and mis-split fragments), so they are kept only when in
``KOREAN_SINGLE_SYLLABLE_ALLOW``: short words that name a concrete VoC topic (돈 "money",
맛 "taste", 짐 "luggage", 앱 "app", 팬 "fan", 잠 "sleep" …).

Other text: lower-cased word tokens with at least 2 characters and at least one letter (digits
inside words stay: "a320", "4g"), minus sklearn's ENGLISH_STOP_WORDS and ``VOC_STOP_WORDS``.
Contractions keep their stem ("didn't" → "didn", which is a stop word). Runs of kanji/kana or
hanzi (no segmenter available) become character bigrams. No stemming: plural folding
("seat"/"seats") is done when labels are built, where a wrong stem cannot leak into keywords.

Phrase breaks (``phrase_breaks=True``): sklearn builds bigrams from consecutive tokens, so
dropping words creates phrases nobody wrote ("entered the wrong pin too many times" →
"pin times"; two reviews joined by BERTopic → "좋다 영화"). With phrase breaks on, the
tokenizer emits ``PHRASE_BREAK`` at punctuation, at ``DOC_BREAK`` characters (put between
documents before they are concatenated), and in English where two or more words in a row
were dropped. Vocabulary entries containing ``PHRASE_BREAK`` are then discarded, so bigrams
only come from words that really stand together. A single dropped word does not break:
"delete my account" → "delete account", "배송이 너무 늦어요" → "배송 늦다".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

# Words that are frequent in feedback but never name a theme. Kept small and explicit:
# c-TF-IDF with reduce_frequent_words already damps words common to every theme.
VOC_STOP_WORDS: frozenset[str] = frozenset(
    """
    would could should get got gets getting one also really even us just can will still
    im ive id ill youre dont didnt doesnt cant wont isnt wasnt arent havent
    don didn doesn isn wasn weren aren haven hasn couldn wouldn shouldn ve ll re
    lot lots thing things way much many make made go going went gone know want
    say said let like ok okay yes yeah hi hello hey thanks thank please pls guys
    bit quite pretty sure maybe actually especially though however yet since
    etc via per able well good great bad does did doing whats thats theres heres lets
    possible need needs want wants wanted anyone someone something anything everything
    use uses used using
    """.split()
)
ENGLISH_STOP: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | VOC_STOP_WORDS

# Light and auxiliary verbs/adjectives: grammatical glue, not themes ("배송이 안 돼요" is about
# 배송, not 되다). 좋다/나쁘다 like good/great/bad above: praise or blame common to every theme
# (sentiment is scored separately).
KOREAN_STOP_PREDICATES: frozenset[str] = frozenset(
    """
    하다 되다 있다 없다 같다 보다 주다 않다 싶다 말다 나다 오다 가다 이다 아니다 그렇다 이렇다
    저렇다 어떻다 드리다 놓다 두다 지다 버리다 대하다 위하다 통하다 의하다 보이다 나오다 좋다 나쁘다
    """.split()
)
# Nouns that Kiwi tags NNG but that work as adverbs or fillers in reviews.
KOREAN_STOP_NOUNS: frozenset[str] = frozenset(
    """
    정도 하나 진짜 정말 이번 그냥 때문 자체 경우 부분 가지 사실 생각 이것 그것 저것 여기 거기
    무엇 뭔가 우리 제일 다음 이후 이전 이상 이하 자기 자신
    """.split()
)
KOREAN_SINGLE_SYLLABLE_ALLOW: frozenset[str] = frozenset(
    """
    돈 맛 짐 밥 값 빵 물 방 차 옷 앱 폰 책 잠 꿈 힘 욕 술 약 몸 눈 집 표 줄 층 길 문 창 빛 색
    향 팬 곡 신 벌 꽃 땀 죽 국 면 떡 쌀 뷰
    """.split()
)

_NOUN_TAGS = frozenset({"NNG", "NNP", "XR"})
_PREDICATE_TAGS = frozenset({"VV", "VA"})
_LATIN_TAGS = frozenset({"SL", "SN"})
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_CJK = r"\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*)")

# Separator to place between documents that get concatenated (BERTopic joins all documents
# of a topic with a space); U+2029 PARAGRAPH SEPARATOR never occurs in normalised text.
DOC_BREAK = "\u2029"
# Emitted in place of a phrase boundary; cannot collide with a real token (those are made of
# word characters only).
PHRASE_BREAK = "|"
# Kiwi tags for sentence and clause punctuation, quotes, brackets and ellipses.
_KIWI_BREAK_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE"})
_LATIN_BREAK_CHARS = frozenset('.,!?;:()[]{}"“”…/\n' + DOC_BREAK)

_kiwi: Kiwi | None = None
_kiwi_lock = threading.Lock()


def get_kiwi() -> Kiwi:
    """Returns this process's Kiwi analyser, creating it on first use (about 1 s).

    Returns:
        A shared ``kiwipiepy.Kiwi`` instance.
    """
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            _kiwi = Kiwi()
        return _kiwi


def _latin_token(word: str, stop: frozenset[str]) -> str | None:
    word = word.lower().replace("’", "'")
    # "didn't" → "didn", "customer's" → "customer": the stem carries the meaning, if any.
    word = word.split("'", 1)[0]
    if len(word) < 2 or word.isdigit() or not any(ch.isalpha() for ch in word):
        return None
    return None if word in stop else word


class ThemeTokenizer:
    """Picklable ``text -> tokens`` callable for sklearn vectorizers (see module docstring).

    Pickling keeps only the settings; the Kiwi analyser is per process and re-created lazily,
    so fitted BERTopic/CountVectorizer objects that hold a ThemeTokenizer can be saved.

    Args:
        extra_stop_words: Further words to drop (compared after lower-casing for Latin text
            and on the rendered form for Korean, e.g. "영화" or "좋다").
        phrase_breaks: Emit ``PHRASE_BREAK`` at phrase boundaries (see module docstring);
            only useful when the vocabulary is filtered afterwards.
    """

    def __init__(self, extra_stop_words: Iterable[str] = (), phrase_breaks: bool = False) -> None:
        self.extra_stop_words: frozenset[str] = frozenset(w.lower() for w in extra_stop_words)
        self.phrase_breaks = phrase_breaks
        self._english_stop = ENGLISH_STOP | self.extra_stop_words

    def __call__(self, text: str) -> list[str]:
        """Tokenizes one text into theme-keyword candidates.

        Args:
            text: Any text (Korean, English or mixed); ``DOC_BREAK`` separates documents.

        Returns:
            Content tokens in text order (with ``PHRASE_BREAK`` markers if enabled).
        """
        tokens: list[str] = []
        for segment in text.split(DOC_BREAK):
            if tokens:
                tokens.append(PHRASE_BREAK)
            if _HANGUL_RE.search(segment):
                self._korean(segment, tokens)
            else:
                self._latin(segment, tokens)
        if not self.phrase_breaks:
            return [t for t in tokens if t != PHRASE_BREAK]
        # Leading, trailing and repeated breaks carry nothing.
        out: list[str] = []
        for t in tokens:
            if t != PHRASE_BREAK or (out and out[-1] != PHRASE_BREAK):
                out.append(t)
        if out and out[-1] == PHRASE_BREAK:
            out.pop()
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {"extra_stop_words": self.extra_stop_words, "phrase_breaks": self.phrase_breaks}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.extra_stop_words = frozenset(state["extra_stop_words"])
        self.phrase_breaks = bool(state.get("phrase_breaks", False))
        self._english_stop = ENGLISH_STOP | self.extra_stop_words

    def __repr__(self) -> str:
        return (
            f"ThemeTokenizer(extra_stop_words={sorted(self.extra_stop_words)!r}, "
            f"phrase_breaks={self.phrase_breaks})"
        )

    def _latin(self, text: str, tokens: list[str]) -> None:
        prev_end = 0
        dropped = 0
        for m in _TOKEN_RE.finditer(text):
            if not _LATIN_BREAK_CHARS.isdisjoint(text[prev_end : m.start()]):
                tokens.append(PHRASE_BREAK)
                dropped = 0
            prev_end = m.end()
            run = m.group("cjk")
            if run is not None:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
                dropped = 0
                continue
            token = _latin_token(m.group("word"), self._english_stop)
            if token is None:
                dropped += 1
                continue
            if dropped >= 2:
                tokens.append(PHRASE_BREAK)
            dropped = 0
            tokens.append(token)

    def _korean(self, text: str, tokens: list[str]) -> None:
        latin_run = ""
        latin_end = -1
        for tok in get_kiwi().tokenize(text):
            tag = tok.tag.split("-", 1)[0]  # "VA-I"/"VV-R" are irregular VA/VV
            if tag in _LATIN_TAGS:
                # Kiwi splits "A320" into SL "A" + SN "320"; glue pieces that touch.
                latin_run = latin_run + tok.form if tok.start == latin_end else tok.form
                latin_end = tok.start + tok.len
                continue
            if latin_run:
                self._flush_latin(latin_run, tokens)
                latin_run, latin_end = "", -1
            if tag in _KIWI_BREAK_TAGS:
                tokens.append(PHRASE_BREAK)
                continue
            token = self._korean_token(tok.form, tag)
            if token is not None:
                tokens.append(token)
        if latin_run:
            self._flush_latin(latin_run, tokens)

    def _flush_latin(self, run: str, tokens: list[str]) -> None:
        token = _latin_token(run, self._english_stop)
        if token is not None:
            tokens.append(token)

    def _korean_token(self, form: str, tag: str) -> str | None:
        if tag in _PREDICATE_TAGS:
            word = form + "다"
            if word in KOREAN_STOP_PREDICATES:
                return None
        elif tag in _NOUN_TAGS:
            word = form
            if len(word) == 1 and word not in KOREAN_SINGLE_SYLLABLE_ALLOW:
                return None
            if word in KOREAN_STOP_NOUNS:
                return None
        else:
            return None
        return None if word in self.extra_stop_words else word
