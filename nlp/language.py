"""Language detection from Unicode script counts (Korean, English, Japanese, Chinese).

Rule (per text):

1. Count letters by script: Hangul (syllables and jamo), kana (hiragana/katakana), Han
   (CJK ideographs), Latin (letters in the Latin blocks). Digits, emoji, punctuation and other
   scripts (Cyrillic, Arabic…) are ignored.
2. Weight each count by how much text one character carries: a Hangul syllable or a Han
   character packs about as much as 3 Latin letters (a Korean syllable spells
   consonant-vowel-consonant), a kana about 2. Without this, "아이폰 battery 너무 빨리 닳아요"
   (10 syllables, 7 letters) would look nearly half English.
3. Weighted total < 2 (fewer than two Latin letters and no CJK) → "und": emoji, digits,
   punctuation and one-letter strings say nothing about the language.
4. Otherwise the script with the largest weighted share wins, except that Hangul, kana or Han
   win as soon as they reach ``_CJK_MIN_SHARE`` (35 %) of the weight: Korean/Japanese VoC is
   full of Latin product names and error codes ("갤럭시 S23 Ultra 배터리 빨리 닳음"), whereas
   an English text rarely carries that much CJK.
5. Kana anywhere (with Han) → "ja"; Han without kana or Hangul → "zh"; Han beside Hangul is
   Korean hanja and counts for Korean.

Latin script is reported as "en": this is a script detector, not a Latin-language identifier
(French or German text also comes out "en"); the project's corpora are Korean and English.
"""

from __future__ import annotations

from collections.abc import Iterable

_HANGUL_RANGES = (
    (0xAC00, 0xD7A3),  # syllables
    (0x1100, 0x11FF),  # conjoining jamo
    (0x3130, 0x318F),  # compatibility jamo (ㅋㅋ, ㅠㅠ)
    (0xA960, 0xA97F),  # jamo extended-A
    (0xD7B0, 0xD7FF),  # jamo extended-B
)
_KANA_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HAN_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))

_WEIGHT_HANGUL = 3.0
_WEIGHT_HAN = 3.0
_WEIGHT_KANA = 2.0
_MIN_WEIGHT = 2.0
_CJK_MIN_SHARE = 0.35

UNDETERMINED = "und"


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _is_latin_letter(ch: str) -> bool:
    # Basic Latin, Latin-1 letters, Latin Extended-A/B and the IPA/Extended Additional blocks;
    # full-width Latin (Ａ) counts too since Asian keyboards produce it.
    code = ord(ch)
    return ch.isalpha() and (code < 0x0250 or 0x1E00 <= code <= 0x1EFF or 0xFF21 <= code <= 0xFF5A)


def script_weights(text: str) -> dict[str, float]:
    """Returns the weighted letter count per script of a text.

    Args:
        text: Any text.

    Returns:
        Mapping with keys "hangul", "kana", "han", "latin" to weighted counts (see module
        docstring for the weights).
    """
    hangul = kana = han = latin = 0
    for ch in text:
        code = ord(ch)
        if code < 0x80:
            latin += ch.isalpha()
        elif _in_ranges(code, _HANGUL_RANGES):
            hangul += 1
        elif _in_ranges(code, _KANA_RANGES):
            kana += 1
        elif _in_ranges(code, _HAN_RANGES):
            han += 1
        elif _is_latin_letter(ch):
            latin += 1
    return {
        "hangul": hangul * _WEIGHT_HANGUL,
        "kana": kana * _WEIGHT_KANA,
        "han": han * _WEIGHT_HAN,
        "latin": float(latin),
    }


def detect_language(text: str) -> str:
    """Detects the language of a text from its scripts.

    Args:
        text: Any text (cleaned or raw).

    Returns:
        "ko", "en", "ja", "zh" or "und" (see the module docstring for the rule).
    """
    weights = script_weights(text)
    # Han next to Hangul is hanja (Korean), next to kana it is kanji (Japanese).
    if weights["hangul"] > 0 and weights["kana"] == 0:
        weights["hangul"] += weights.pop("han")
    elif weights["kana"] > 0:
        weights["kana"] += weights.pop("han")
    total = sum(weights.values())
    if total < _MIN_WEIGHT:
        return UNDETERMINED
    codes = {"hangul": "ko", "kana": "ja", "han": "zh", "latin": "en"}
    cjk = [(w, s) for s, w in weights.items() if s != "latin" and w / total >= _CJK_MIN_SHARE]
    if cjk:
        return codes[max(cjk)[1]]
    return codes[max(weights, key=lambda s: weights[s])]


def detect_languages(texts: Iterable[str]) -> list[str]:
    """Detects the language of each text.

    Args:
        texts: Texts to classify.

    Returns:
        One code per text, in order ("ko", "en", "ja", "zh" or "und").
    """
    return [detect_language(text) for text in texts]
