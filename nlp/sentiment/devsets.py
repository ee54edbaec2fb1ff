"""Re-derives the dev rows a head artifact was *not* trained on and writes them as TSV files.

The artifact records how its data was loaded (caps, sampling seed) and split (seed, dev share)
plus a sha256 fingerprint of the train and dev texts; this module repeats the loading and the
split, checks both fingerprints, and writes one ``<family>_dev.tsv`` per source family
(``text, label, rating, source, language``) for ``vocflow eval sentiment``. The texts are
normalised (no tabs or line breaks), so the TSV needs no quoting.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from nlp.sentiment.data import fingerprint_texts, load_sentiment_data, split_train_dev

FAMILIES = ("nsmc", "uci", "vader", "drug_reviews", "skytrax_lounge")


def family_of(source: str) -> str:
    """Source family of a data source name (``uci_yelp`` -> ``uci``)."""
    for family in FAMILIES:
        if source == family or source.startswith(family + "_"):
            return family
    return source


def dev_rows(head_path: str | Path, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The dev rows of the artifact's training run, verified by fingerprint.

    Args:
        head_path: Artifact written by ``nlp.sentiment.train``.
        data_dir: Shared data folder (None: default resolution).

    Returns:
        Dev rows (``text, label, language, source, rating``).

    Raises:
        ValueError: If the artifact lacks split notes or the fingerprints do not match (the
            data or the loading code changed since training).
    """
    meta = json.loads(Path(head_path).read_text(encoding="utf-8")).get("training") or {}
    split = meta.get("split")
    if not split:
        raise ValueError(f"{head_path} records no training split")
    data = load_sentiment_data(
        data_dir, max_per_source=meta["max_per_source"], seed=meta["sampling_seed"]
    )
    train_idx, dev_idx = split_train_dev(
        data, seed=split["seed"], dev_fraction=split["dev_fraction"]
    )
    train, dev = data.iloc[train_idx], data.iloc[dev_idx]
    if (
        fingerprint_texts(train["text"].tolist()) != split["train_sha256"]
        or fingerprint_texts(dev["text"].tolist()) != split["dev_sha256"]
    ):
        raise ValueError("data or loading changed since the head was trained: retrain it")
    return dev.reset_index(drop=True)


def export_dev_sets(
    head_path: str | Path, out_dir: str | Path, data_dir: str | Path | None = None
) -> dict[Path, int]:
    """Writes ``<family>_dev.tsv`` files of the verified dev rows.

    Args:
        head_path: Artifact written by ``nlp.sentiment.train``.
        out_dir: Folder to write into (created).
        data_dir: Shared data folder.

    Returns:
        Written path -> number of rows.
    """
    dev = dev_rows(head_path, data_dir)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[Path, int] = {}
    families = dev["source"].map(family_of)
    for family, part in dev.groupby(families, sort=True):
        path = folder / f"{family}_dev.tsv"
        lines = ["text\tlabel\trating\tsource\tlanguage"]
        for row in part.itertuples(index=False):
            rating = "" if pd.isna(row.rating) else f"{row.rating:g}"
            lines.append(f"{row.text}\t{row.label}\t{rating}\t{row.source}\t{row.language}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[path] = len(part)
    return written
