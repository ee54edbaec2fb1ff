"""Sentiment data loaders on tiny inline files in the shared-data layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nlp.sentiment import data as data_module
from nlp.sentiment.data import (
    COLUMNS,
    fingerprint_texts,
    load_drug_reviews,
    load_nsmc,
    load_sentiment_data,
    load_skytrax_lounge,
    load_uci,
    load_vader_groundtruth,
    nsmc_label,
    resolve_data_dir,
    split_train_dev,
    vader_label,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "nsmc").mkdir()
    nsmc_rows = ["review_id\tmovie_id\tdate\trating\treview"]
    for i, rating in enumerate(range(1, 11)):
        nsmc_rows.append(f"{i}\t1\t2015-01-01\t{rating}\t리뷰  {rating}점 &amp; 끝")
    nsmc_rows.append("99\t1\t2015-01-01\t10\t리뷰 10점 & 끝")  # duplicate after unescaping
    nsmc_rows.append("98\t1\t2015-01-01\t3\t")  # empty review
    with gzip.open(tmp_path / "nsmc" / "nsmc_sample60k.tsv.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(nsmc_rows) + "\n")

    (tmp_path / "uci_sentiment").mkdir()
    for name in ("amazon_cells_labelled.txt", "yelp_labelled.txt", "imdb_labelled.txt"):
        (tmp_path / "uci_sentiment" / name).write_text(
            f'sentence\tscore\nGreat "case",  works.\t1\nBroke after a day.\t0\n{name} only\t1\n'
        )

    (tmp_path / "vader_groundtruth").mkdir()
    for name in (
        "amazonReviewSnippets_GroundTruth.txt",
        "tweets_GroundTruth.txt",
        "movieReviewSnippets_GroundTruth.txt",
        "nytEditorialSnippets_GroundTruth.txt",
    ):
        (tmp_path / "vader_groundtruth" / name).write_text(
            f"1\t-0.5\t{name} awful\n2\t-0.49\t{name} meh\n3\t0.49\t{name} okay\n"
            f"4\t0.5\t{name} nice &amp; good\n5\t3.2\t{name} superb\n"
        )

    (tmp_path / "drug_reviews").mkdir()
    header = "\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n"
    (tmp_path / "drug_reviews" / "drugsComTrain.tsv").write_text(
        header
        + '1\tA\tPain\t"""It didn&#039;t   help."""\tnegative\tMay 1, 2011\t3\n'
        + '2\tB\tPain\t"""Fine, I guess."""\tneutral\tMay 2, 2011\t1\n'
    )
    (tmp_path / "drug_reviews" / "drugsComTest.tsv").write_text(
        header + '3\tC\tAcne\t"""Cleared my skin!"""\tpositive\tMay 3, 2011\t9\n'
    )
    (tmp_path / "skytrax").mkdir()
    (tmp_path / "skytrax" / "seat.csv").write_text("content,overall_rating\nGreat seat,10\n")
    (tmp_path / "skytrax" / "lounge.csv").write_text(
        "content,overall_rating\nDirty lounge,1\nIt was ok,3\nLovely showers,5\n"
        "On a 1-10 scale,8\nNo rating,\n"
    )
    return tmp_path


def test_nsmc_mapping_cleaning_and_dedup(data_dir: Path) -> None:
    df = load_nsmc(data_dir)
    assert tuple(df.columns) == COLUMNS
    assert len(df) == 10  # the unescaped duplicate and the empty review are dropped
    by_rating = dict(zip(df["rating"].astype(int), df["label"], strict=True))
    assert [by_rating[r] for r in range(1, 11)] == (
        ["negative"] * 4 + ["neutral"] * 3 + ["positive"] * 3
    )
    assert df["text"].iloc[0] == "리뷰 1점 & 끝"
    assert set(df["language"]) == {"ko"} and set(df["source"]) == {"nsmc"}


def test_nsmc_demo_reviews_are_excluded(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = data_dir / "demo.tsv"
    demo.write_text("review_id\tmovie_id\tdate\trating\treview\n3\t1\t2015-01-01\t4\tx\n")
    monkeypatch.setattr(data_module, "DEMO_NSMC", demo)
    df = load_nsmc(data_dir)
    assert len(df) == 9 and 4.0 not in set(df["rating"])


def test_skytrax_lounge_mapping_skips_other_scales(data_dir: Path) -> None:
    df = load_skytrax_lounge(data_dir)
    assert df["text"].tolist() == ["Dirty lounge", "It was ok", "Lovely showers"]
    assert df["label"].tolist() == ["negative", "neutral", "positive"]
    assert set(df["source"]) == {"skytrax_lounge"} and set(df["language"]) == {"en"}


def test_uci_mapping(data_dir: Path) -> None:
    df = load_uci(data_dir)
    assert set(df["source"]) == {"uci_amazon", "uci_yelp", "uci_imdb"}
    assert len(df) == 9
    row = df[(df["source"] == "uci_yelp") & (df["text"] == 'Great "case", works.')].iloc[0]
    assert row["label"] == "positive" and row["rating"] == 1.0 and row["language"] == "en"
    assert set(df.loc[df["rating"] == 0, "label"]) == {"negative"}


def test_vader_mapping_thresholds(data_dir: Path) -> None:
    df = load_vader_groundtruth(data_dir)
    assert len(df) == 20
    got = dict(zip(df["rating"], df["label"], strict=False))
    assert got == {
        -0.5: "negative",
        -0.49: "neutral",
        0.49: "neutral",
        0.5: "positive",
        3.2: "positive",
    }
    assert df["text"].str.contains("nice & good").sum() == 4
    assert [vader_label(x) for x in (-4, -0.5, 0, 0.5, 4)] == [
        "negative",
        "negative",
        "neutral",
        "positive",
        "positive",
    ]


def test_drug_reviews_keep_labels_and_unescape(data_dir: Path) -> None:
    df = load_drug_reviews(data_dir)
    assert df["text"].tolist() == ["It didn't help.", "Fine, I guess.", "Cleared my skin!"]
    assert df["label"].tolist() == ["negative", "neutral", "positive"]
    assert df["rating"].isna().all()
    assert df["split"].tolist() == ["train", "train", "dev"]  # the data set's own split


def test_split_honours_a_data_sets_own_split() -> None:
    data = pd.DataFrame(
        {
            "text": [f"t{i}" for i in range(40)],
            "source": ["drug"] * 20 + ["other"] * 20,
            "label": ["negative", "positive"] * 20,
            "split": ["train"] * 15 + ["dev"] * 5 + [""] * 20,
        }
    )
    train, dev = split_train_dev(data, seed=1, dev_fraction=0.5)
    assert set(range(15)) <= set(train) and set(range(15, 20)) <= set(dev)
    assert len(set(dev) & set(range(20, 40))) == 10


def test_nsmc_label_boundaries() -> None:
    assert [nsmc_label(r) for r in (1, 4, 5, 7, 8, 10)] == [
        "negative",
        "negative",
        "neutral",
        "neutral",
        "positive",
        "positive",
    ]


def test_load_all_caps_seeded_and_never_skytrax_seat(data_dir: Path) -> None:
    full = load_sentiment_data(data_dir, max_per_source={})
    # Two UCI sentences occur in all three UCI files: kept once, so none straddles the split.
    assert len(full) == 10 + (9 - 4) + 20 + 3 + 3
    assert not full["text"].duplicated().any()
    assert not full["source"].str.contains("seat").any()
    assert "Great seat" not in set(full["text"])
    capped = load_sentiment_data(data_dir, max_per_source=2, seed=5)
    assert capped.groupby("source").size().max() == 2
    pd.testing.assert_frame_equal(capped, load_sentiment_data(data_dir, max_per_source=2, seed=5))
    other = load_sentiment_data(data_dir, max_per_source=2, seed=6)
    assert set(other["text"]) != set(capped["text"])
    only = load_sentiment_data(data_dir, max_per_source={"nsmc": 3}, loaders=("nsmc",))
    assert len(only) == 3


def test_split_is_stratified_disjoint_and_deterministic() -> None:
    data = pd.DataFrame(
        {
            "text": [f"t{i}" for i in range(200)],
            "source": ["a"] * 100 + ["b"] * 100,
            "label": (["negative"] * 30 + ["positive"] * 70) * 2,
        }
    )
    train, dev = split_train_dev(data, seed=3, dev_fraction=0.2)
    assert len(set(train) & set(dev)) == 0 and len(train) + len(dev) == 200
    counts = data.iloc[dev].groupby(["source", "label"]).size().to_dict()
    assert counts == {
        ("a", "negative"): 6,
        ("a", "positive"): 14,
        ("b", "negative"): 6,
        ("b", "positive"): 14,
    }
    again = split_train_dev(data, seed=3, dev_fraction=0.2)
    np.testing.assert_array_equal(again[1], dev)
    assert not np.array_equal(split_train_dev(data, seed=4)[1], dev)
    with pytest.raises(ValueError):
        split_train_dev(data, dev_fraction=1.0)


def test_fingerprint_ignores_order() -> None:
    assert fingerprint_texts(["a", "b"]) == fingerprint_texts(["b", "a"])
    assert fingerprint_texts(["a", "b"]) != fingerprint_texts(["a", "c"])


def test_resolve_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_data_dir(tmp_path) == tmp_path
    monkeypatch.setenv("VOCFLOW_SHARED_DATA", str(tmp_path / "x"))
    assert resolve_data_dir() == tmp_path / "x"
    monkeypatch.delenv("VOCFLOW_SHARED_DATA")
    assert resolve_data_dir().parts[-2:] == ("shared", "data")
