"""Labelled sentiment data (shared/data) as one DataFrame, plus the seeded train/dev split.

Every loader returns the columns ``text, label, language, source, rating, split``: ``label`` is
one of ``SENTIMENT_LABELS``, ``language`` an ISO 639-1 code, ``source`` a short data-set name,
``rating`` the source's original score (NaN where the source only has a label) and ``split``
the data set's own train/test assignment ("train"/"dev") where it has one, else "".

Label mappings (documented in ``nlp/artifacts/SENTIMENT_MODEL_CARD.md``):

* NSMC (Korean movie reviews, rating 1-10): 1-4 negative, 5-7 neutral, 8-10 positive.
* UCI Sentiment Labelled Sentences (Amazon, Yelp, IMDb; 0/1): 0 negative, 1 positive.
* VADER ground truth (mean of ~20 raters on -4..+4): mean <= -0.5 negative, mean >= +0.5
  positive, else neutral. The raters' scale steps by 1 (-4..+4), so a mean within half a step
  of zero means the raters on average did not lean either way; narrower bands turn many
  near-zero means (raters split between +1 and -1) into polar labels. Per file this gives
  26-48 % negative and 23-56 % positive, with the neutral share largest on NYT editorial
  snippets (43 %) and smallest on movie snippets (5 %).
* Drug reviews (UCI Drug Review subset): their own negative/neutral/positive labels, and their
  own split: ``drugsComTest.tsv`` (379 reviews) is the dev set, ``drugsComTrain.tsv`` (600)
  trains. The official test file is twice the size of a 20 % slice, which matters for a
  3-class macro-F1 whose neutral class has only ~10 % of the reviews.
* Skytrax *lounge* reviews (overall rating 1-5): 1-2 negative, 3 neutral, 4-5 positive; the 67
  rows rated above 5 (a 1-10 scale slipped in) and unrated rows are skipped.

Skytrax *seat* reviews are deliberately never loaded here: they are the demo's data, and the
demo must not be scored on texts the head was trained on (they stay for evaluation and the
calibration test). For the same reason the NSMC reviews bundled in ``data/demo`` are excluded
by review id.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nlp.protocols import SENTIMENT_LABELS
from nlp.text import normalize_text

NEG, NEU, POS = SENTIMENT_LABELS
COLUMNS = ("text", "label", "language", "source", "rating", "split")
DATA_DIR_ENV = "VOCFLOW_SHARED_DATA"
EXCLUDED_SOURCES = ("skytrax_seat",)
DEMO_NSMC = Path(__file__).resolve().parents[2] / "data" / "demo" / "nsmc_reviews_ko.tsv"

# Per-source caps for the default head. NSMC is used whole (~58.5k after removing the demo
# reviews): the sparse n-gram part keeps improving with data (measured: 5k -> 47k training
# reviews lifts NSMC binary accuracy from ~0.82 to ~0.87). The VADER sets are capped so that
# embedding everything stays around an hour on two busy cores (the embedding cache makes
# re-runs cheap). Sources smaller than their cap are taken whole.
DEFAULT_MAX_PER_SOURCE: dict[str, int] = {
    "vader_amazon": 2500,
    "vader_tweets": 2500,
    "vader_movies": 2500,
    "vader_nyt": 2500,
}

_UCI_FILES = {
    "uci_amazon": "amazon_cells_labelled.txt",
    "uci_yelp": "yelp_labelled.txt",
    "uci_imdb": "imdb_labelled.txt",
}
_VADER_FILES = {
    "vader_amazon": "amazonReviewSnippets_GroundTruth.txt",
    "vader_tweets": "tweets_GroundTruth.txt",
    "vader_movies": "movieReviewSnippets_GroundTruth.txt",
    "vader_nyt": "nytEditorialSnippets_GroundTruth.txt",
}
VADER_NEUTRAL_BAND = 0.5


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """Finds the shared data directory.

    Args:
        data_dir: Explicit directory; when None, ``$VOCFLOW_SHARED_DATA`` or else
            ``<repo>/../shared/data``.

    Returns:
        The directory (not checked for existence).
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def nsmc_label(rating: float) -> str:
    """Maps an NSMC 1-10 rating to a label (1-4 negative, 5-7 neutral, 8-10 positive)."""
    if rating <= 4:
        return NEG
    return NEU if rating <= 7 else POS


def vader_label(mean_score: float) -> str:
    """Maps a VADER ground-truth mean (-4..+4) to a label (+-0.5 neutral band)."""
    if mean_score <= -VADER_NEUTRAL_BAND:
        return NEG
    return POS if mean_score >= VADER_NEUTRAL_BAND else NEU


def _frame(
    texts: Sequence[str],
    labels: Sequence[str],
    language: str,
    source: str,
    ratings: Sequence[float],
    split: Sequence[str] | str = "",
) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "text": [normalize_text(str(t)) for t in texts],
            "label": list(labels),
            "language": language,
            "source": source,
            "rating": np.asarray(ratings, dtype=float),
            "split": split if isinstance(split, str) else list(split),
        }
    )
    # Empty texts carry no signal, and exact repeats within a source would let one text land in
    # both train and dev.
    df = df[df["text"].str.len() > 0]
    return df.drop_duplicates("text", keep="first").reset_index(drop=True)


def load_nsmc(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Loads the NSMC Korean movie-review sample (``nsmc/nsmc_sample60k.tsv.gz``).

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).

    Returns:
        DataFrame with ``COLUMNS``; ``rating`` is the 1-10 score.
    """
    path = resolve_data_dir(data_dir) / "nsmc" / "nsmc_sample60k.tsv.gz"
    raw = pd.read_csv(path, sep="\t", usecols=["review_id", "rating", "review"], quoting=3)
    raw = raw.dropna(subset=["review", "rating"])
    if DEMO_NSMC.is_file():
        demo = pd.read_csv(DEMO_NSMC, sep="\t", usecols=["review_id"], quoting=3)
        raw = raw[~raw["review_id"].astype(str).isin(set(demo["review_id"].astype(str)))]
    ratings = raw["rating"].astype(float).tolist()
    labels = [nsmc_label(r) for r in ratings]
    return _frame(raw["review"].astype(str).tolist(), labels, "ko", "nsmc", ratings)


def _read_tsv_lines(path: Path) -> list[list[str]]:
    # Parsed by hand: these files are unquoted and sentences contain stray quote characters,
    # which the csv module would treat as field delimiters.
    with path.open(encoding="utf-8", errors="replace") as handle:
        return [line.rstrip("\r\n").split("\t") for line in handle if line.strip()]


def load_uci(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Loads UCI Sentiment Labelled Sentences (Amazon, Yelp, IMDb; 0 negative, 1 positive).

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).

    Returns:
        DataFrame with ``COLUMNS``; ``rating`` is 0 or 1.
    """
    frames = []
    for source, name in _UCI_FILES.items():
        rows = _read_tsv_lines(resolve_data_dir(data_dir) / "uci_sentiment" / name)
        texts, ratings = [], []
        for fields in rows:
            score = fields[-1].strip()
            if score not in ("0", "1"):
                continue  # header line
            texts.append("\t".join(fields[:-1]))
            ratings.append(float(score))
        labels = [POS if r == 1 else NEG for r in ratings]
        frames.append(_frame(texts, labels, "en", source, ratings))
    return pd.concat(frames, ignore_index=True)


def load_vader_groundtruth(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Loads VADER's human-rated ground truth (``id<TAB>mean<TAB>text``).

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).

    Returns:
        DataFrame with ``COLUMNS``; ``rating`` is the raters' mean on -4..+4.
    """
    frames = []
    for source, name in _VADER_FILES.items():
        rows = _read_tsv_lines(resolve_data_dir(data_dir) / "vader_groundtruth" / name)
        texts, ratings = [], []
        for fields in rows:
            if len(fields) < 3:
                continue
            try:
                score = float(fields[1])
            except ValueError:
                continue
            texts.append("\t".join(fields[2:]))
            ratings.append(score)
        labels = [vader_label(r) for r in ratings]
        frames.append(_frame(texts, labels, "en", source, ratings))
    return pd.concat(frames, ignore_index=True)


def load_drug_reviews(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Loads the drug-review subset (both TSV files) with its own three labels.

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).

    Returns:
        DataFrame with ``COLUMNS``; ``rating`` is NaN (the subset has labels only).
    """
    folder = resolve_data_dir(data_dir) / "drug_reviews"
    raw = pd.concat(
        [
            pd.read_csv(folder / name, sep="\t").assign(split=split)
            for name, split in (("drugsComTrain.tsv", "train"), ("drugsComTest.tsv", "dev"))
        ],
        ignore_index=True,
    )
    raw = raw.dropna(subset=["review", "rating"])
    raw = raw[raw["rating"].isin(SENTIMENT_LABELS)]
    # Reviews are wrapped in an extra pair of double quotes in the source export.
    texts = raw["review"].astype(str).str.strip().str.strip('"').tolist()
    return _frame(
        texts, raw["rating"].tolist(), "en", "drug_reviews", [np.nan] * len(texts),
        raw["split"].tolist(),
    )  # fmt: skip


def lounge_label(rating: float) -> str:
    """Maps a Skytrax lounge 1-5 rating to a label (1-2 negative, 3 neutral, 4-5 positive)."""
    if rating <= 2:
        return NEG
    return NEU if rating <= 3 else POS


def load_skytrax_lounge(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Loads Skytrax airline *lounge* reviews (``skytrax/lounge.csv``), rated 1-5.

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).

    Returns:
        DataFrame with ``COLUMNS``; ``rating`` is the 1-5 overall rating.
    """
    raw = pd.read_csv(resolve_data_dir(data_dir) / "skytrax" / "lounge.csv")
    raw = raw.dropna(subset=["content", "overall_rating"])
    raw = raw[raw["overall_rating"].between(1, 5)]
    ratings = raw["overall_rating"].astype(float).tolist()
    labels = [lounge_label(r) for r in ratings]
    return _frame(raw["content"].astype(str).tolist(), labels, "en", "skytrax_lounge", ratings)


LOADERS: dict[str, Callable[[str | Path | None], pd.DataFrame]] = {
    "nsmc": load_nsmc,
    "uci": load_uci,
    "vader": load_vader_groundtruth,
    "drug_reviews": load_drug_reviews,
    "skytrax_lounge": load_skytrax_lounge,
}


def load_sentiment_data(
    data_dir: str | Path | None = None,
    *,
    max_per_source: int | Mapping[str, int] | None = None,
    seed: int = 13,
    loaders: Sequence[str] = tuple(LOADERS),
) -> pd.DataFrame:
    """Loads all training sources (never the demo's Skytrax seat or NSMC reviews), capped.

    Args:
        data_dir: Shared data directory (see :func:`resolve_data_dir`).
        max_per_source: One cap for every source, a mapping ``source -> cap`` (sources not in
            it are uncapped), or None for ``DEFAULT_MAX_PER_SOURCE``.
        seed: Seed of the per-source samples.
        loaders: Which loader families of ``LOADERS`` to use.

    Returns:
        DataFrame with ``COLUMNS``, rows ordered by source then original order, texts unique.
    """
    caps = DEFAULT_MAX_PER_SOURCE if max_per_source is None else max_per_source
    frames = []
    for family in loaders:
        data = LOADERS[family](data_dir)
        for source, part in data.groupby("source", sort=True):
            cap = caps if isinstance(caps, int) else caps.get(str(source))
            if cap is not None and len(part) > cap:
                part = part.sample(n=cap, random_state=seed).sort_index()
            frames.append(part)
    if not frames:
        return pd.DataFrame({c: [] for c in COLUMNS})
    data = pd.concat(frames, ignore_index=True)
    # A text shared by two sources (short stock phrases) must not straddle the split either.
    return data.drop_duplicates("text", keep="first").reset_index(drop=True)[list(COLUMNS)]


def split_train_dev(
    data: pd.DataFrame, *, seed: int = 13, dev_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split stratified by source x label, honouring a data set's own split.

    Rows whose ``split`` column says "train" or "dev" go there. Every other stratum is
    shuffled on its own and ``round(n * dev_fraction)`` of its rows go to dev, so every source
    and label is represented in both parts and the split of one source does not depend on how
    many rows other sources have.

    Args:
        data: Frame with ``source`` and ``label`` columns.
        seed: Shuffle seed.
        dev_fraction: Share of each stratum held out, in (0, 1).

    Returns:
        ``(train_idx, dev_idx)``: sorted positional indices into ``data``.
    """
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be in (0, 1), got {dev_fraction}")
    rng = np.random.default_rng(seed)
    fixed = data["split"].fillna("").astype(str) if "split" in data else pd.Series("", data.index)
    strata = data["source"].astype(str) + "\x1f" + data["label"].astype(str)
    train: list[np.ndarray] = [np.flatnonzero((fixed == "train").to_numpy())]
    dev: list[np.ndarray] = [np.flatnonzero((fixed == "dev").to_numpy())]
    free = (fixed == "").to_numpy()
    for key in sorted(strata[free].unique()):
        positions = np.flatnonzero((strata == key).to_numpy() & free)
        positions = positions[rng.permutation(len(positions))]
        n_dev = int(round(len(positions) * dev_fraction))
        dev.append(positions[:n_dev])
        train.append(positions[n_dev:])
    return (
        np.sort(np.concatenate(train)) if train else np.zeros(0, dtype=int),
        np.sort(np.concatenate(dev)) if dev else np.zeros(0, dtype=int),
    )


def fingerprint_texts(texts: Sequence[str]) -> str:
    """Returns a SHA-256 over the sorted texts (identifies a train or dev set in metadata).

    Args:
        texts: Texts of the set.

    Returns:
        64 hex characters.
    """
    digest = hashlib.sha256()
    for text in sorted(texts):
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()
