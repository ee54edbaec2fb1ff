"""The benchmark corpus: real feedback from shared/data, sampled into scenario corpora.

Pool (every text once, normalised with ``nlp.text.normalize_text`` and de-duplicated):

* banking77 train + test queries (English, ``intent`` = gold category: the theme subset);
* the sentiment sets the shipped head knows (``nlp.sentiment.data``): NSMC (Korean, rating
  1-10), UCI sentences, VADER ground truth, drug reviews, Skytrax lounge (rating 1-5), all
  rows, uncapped;
* Skytrax seat reviews (English, overall rating 1-10), never used to train anything.

Gold sentiment (``gold_sentiment``) is set only on the head's *held-out* dev rows
(``nlp.sentiment.devsets.dev_rows``, verified by fingerprint): vocflow is never scored on texts
it was trained on. Those rows also carry no score, so that vocflow's automatic calibration on
rated items cannot learn from the evaluation labels.

Scores go where the data set has a rating: NSMC and Skytrax seat 1-10 (declared as a derived
0-10 NPS, as in the demo config), Skytrax lounge 1-5 (stars).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.sentiment.data import load_sentiment_data
from nlp.sentiment.devsets import dev_rows
from nlp.text import normalize_text

REPO = Path(__file__).resolve().parents[1]
HEAD = REPO / "nlp" / "artifacts" / "sentiment_head.json"

# Source instances of the benchmark config: one per score scale, and support tickets apart.
SOURCES: dict[str, dict[str, str | None]] = {
    "bench-nps": {"channel": "review", "score": "nps"},
    "bench-stars": {"channel": "review", "score": "stars"},
    "bench-support": {"channel": "ticket", "score": None},
    "bench-reviews": {"channel": "review", "score": None},
}
POOL_COLUMNS = ["text", "dataset", "language", "score", "source", "gold_sentiment", "intent"]


@dataclass(frozen=True)
class Sample:
    """A scenario corpus.

    Attributes:
        items: One row per item: ``item_id, text, dataset, language, score, source,
            gold_sentiment, intent, created_at``.
        with_replacement: Whether some pool rows were drawn more than once.
        pool_size: Distinct texts the sample was drawn from.
    """

    items: pd.DataFrame
    with_replacement: bool
    pool_size: int

    @property
    def distinct_texts(self) -> int:
        """Distinct texts in the sample."""
        return int(self.items["text"].nunique())


def _seat(data_dir: Path) -> pd.DataFrame:
    raw = pd.read_csv(data_dir / "skytrax" / "seat.csv")
    raw = raw.dropna(subset=["content"])
    rating = pd.to_numeric(raw["overall_rating"], errors="coerce")
    rating = rating.where(rating.between(0, 10))
    return pd.DataFrame(
        {
            "text": [normalize_text(str(t)) for t in raw["content"]],
            "dataset": "skytrax_seat",
            "language": "en",
            "score": rating.to_numpy(),
        }
    )


def _banking(data_dir: Path) -> pd.DataFrame:
    folder = data_dir / "banking77"
    raw = pd.concat([pd.read_csv(folder / f) for f in ("test.csv", "train.csv")])
    return pd.DataFrame(
        {
            "text": [normalize_text(str(t)) for t in raw["text"]],
            "dataset": "banking77",
            "language": "en",
            "score": np.nan,
            "intent": raw["category"].astype(str).to_numpy(),
        }
    )


def load_pool(data_dir: Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """Loads every real text once, with its labels and the source it is ingested from.

    Args:
        data_dir: The shared data folder (``../shared/data``).

    Returns:
        The pool (``POOL_COLUMNS``) and notes (held-out check, counts).
    """
    sent = load_sentiment_data(data_dir, max_per_source={})
    sent = sent.assign(dataset=sent["source"].astype(str))
    # NSMC ratings are 1-10 and Skytrax lounge 1-5; the other sets have no customer score.
    sent["score"] = np.where(
        sent["dataset"].isin(["nsmc", "skytrax_lounge"]), sent["rating"], np.nan
    )
    notes: dict[str, object] = {}
    try:
        dev = dev_rows(HEAD, data_dir)
        gold = dict(zip(dev["text"], dev["label"], strict=True))
        notes["sentiment_gold"] = (
            f"held-out dev rows of {HEAD.name} ({len(dev)} texts, fingerprint verified)"
        )
    except (ValueError, OSError, KeyError) as error:  # artifact retrained on other data
        gold = {}
        notes["sentiment_gold"] = f"unavailable: {error}"
    sent["gold_sentiment"] = sent["text"].map(gold).fillna("")
    frames = [
        _banking(data_dir),
        sent[["text", "dataset", "language", "score", "gold_sentiment"]],
        _seat(data_dir),
    ]
    pool = pd.concat(frames, ignore_index=True)
    pool = pool[pool["text"].str.len() > 0].drop_duplicates("text", keep="first")
    pool["gold_sentiment"] = pool["gold_sentiment"].fillna("")
    pool["intent"] = pool["intent"].fillna("")
    # Evaluation rows carry no score: calibration on rated items must not see their labels.
    pool.loc[pool["gold_sentiment"] != "", "score"] = np.nan
    pool["source"] = np.select(
        [
            pool["dataset"].isin(["nsmc", "skytrax_seat"]),
            pool["dataset"] == "skytrax_lounge",
            pool["dataset"] == "banking77",
        ],
        ["bench-nps", "bench-stars", "bench-support"],
        default="bench-reviews",
    )
    pool = pool.reset_index(drop=True)[POOL_COLUMNS]
    notes["pool_distinct_texts"] = len(pool)
    notes["pool_by_dataset"] = {str(k): int(v) for k, v in pool["dataset"].value_counts().items()}
    return pool, notes


def _draw(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, bool]:
    """N rows: without replacement while the pool suffices, then the rest with replacement."""
    if n <= len(pool):
        return pool.iloc[np.sort(rng.choice(len(pool), size=n, replace=False))], False
    extra = rng.choice(len(pool), size=n - len(pool), replace=True)
    return pool.iloc[np.concatenate([np.arange(len(pool)), np.sort(extra)])], True


def _stamp(
    frame: pd.DataFrame, prefix: str, start: datetime, end: datetime, rng: np.random.Generator
) -> pd.DataFrame:
    """Unique ids and UTC created_at spread uniformly over ``[start, end)``."""
    seconds = (end - start).total_seconds()
    offsets = np.sort(rng.uniform(0, seconds, size=len(frame)))
    created = [start + timedelta(seconds=float(s)) for s in offsets]
    order = rng.permutation(len(frame))  # no link between data set and date
    frame = frame.iloc[order].reset_index(drop=True)
    return frame.assign(
        item_id=[f"{prefix}{i:08d}" for i in range(len(frame))],
        created_at=[c.replace(microsecond=0).isoformat() for c in created],
    )


def cold_sample(pool: pd.DataFrame, n: int, seed: int, now: datetime) -> Sample:
    """N items over the last 90 days, without replacement while the pool suffices."""
    rng = np.random.default_rng(seed)
    rows, replaced = _draw(pool, n, rng)
    items = _stamp(rows, "c", now - timedelta(days=90), now - timedelta(hours=1), rng)
    return Sample(items, replaced, len(pool))


def nightly_sample(
    pool: pd.DataFrame, store_n: int, new_n: int, seed: int, now: datetime
) -> tuple[Sample, Sample]:
    """A store of ``store_n`` items (90 days back to yesterday) and ``new_n`` new items (today).

    The new items' texts are reserved first: distinct real texts that never occur in the store,
    so vocflow's content-hash embedding cache cannot make them free.
    """
    if new_n >= len(pool):
        raise ValueError(f"--new-n {new_n} leaves no texts for the store (pool {len(pool)})")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    new_rows = pool.iloc[np.sort(order[:new_n])]
    rest = pool.iloc[np.sort(order[new_n:])]
    store_rows, replaced = _draw(rest, store_n, rng)
    store = _stamp(store_rows, "s", now - timedelta(days=90), now - timedelta(days=1), rng)
    new = _stamp(new_rows, "n", now - timedelta(hours=23), now - timedelta(hours=1), rng)
    return Sample(store, replaced, len(rest)), Sample(new, False, len(pool))


def memory_sample(pool: pd.DataFrame, n: int, seed: int, now: datetime) -> Sample:
    """N items: every pool text once, then with replacement (maximum distinct texts)."""
    return cold_sample(pool, n, seed, now)


def write_sources(items: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """Writes one CSV per benchmark source (``item_id, text, created_at, language, score,
    product``); returns the file of each source."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for source in SOURCES:
        part = items[items["source"] == source]
        path = folder / f"{source}.csv"
        out = pd.DataFrame(
            {
                "item_id": part["item_id"],
                "text": part["text"],
                "created_at": part["created_at"],
                "language": part["language"],
                "score": part["score"],
                "product": part["dataset"],
            }
        )
        out.to_csv(path, index=False)
        paths[source] = path
    return paths


def write_baseline_input(items: pd.DataFrame, path: Path) -> Path:
    """Writes the naive script's input: every item's id, text and language."""
    path.parent.mkdir(parents=True, exist_ok=True)
    items[["item_id", "text", "language"]].to_parquet(path, index=False)
    return path


def utc_now() -> datetime:
    """The benchmark's clock (whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)
