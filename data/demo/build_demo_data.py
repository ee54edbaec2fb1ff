"""Rebuilds the bundled demo data from the real sets in ../shared/data (provenance: PROVENANCE.md).

Run from the repository root: ``python data/demo/build_demo_data.py [--shared ../shared/data]``.
The output is committed; the product never reads ../shared at run time.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
from pathlib import Path

SKYTRAX_COLUMNS = [
    "airline_name",
    "link",
    "title",
    "author",
    "author_country",
    "date",
    "content",
    "cabin_flown",
    "type_traveller",
    "overall_rating",
    "recommended",
]
NSMC_ROWS = 1500
SEED = 20261123


def main() -> None:
    """Writes data/demo/skytrax_seat_reviews.csv and data/demo/nsmc_reviews_ko.tsv."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    out = Path(__file__).parent

    with (args.shared / "skytrax" / "seat.csv").open(encoding="utf-8", newline="") as src:
        rows = list(csv.DictReader(src))
    with (out / "skytrax_seat_reviews.csv").open("w", encoding="utf-8", newline="") as dst:
        writer = csv.DictWriter(dst, fieldnames=SKYTRAX_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    with gzip.open(args.shared / "nsmc" / "nsmc_sample60k.tsv.gz", "rt", encoding="utf-8") as src:
        reader = csv.DictReader(src, delimiter="\t", quoting=csv.QUOTE_NONE)
        nsmc = list(reader)
    random.Random(SEED).shuffle(nsmc)
    sample = sorted(nsmc[:NSMC_ROWS], key=lambda row: (row["date"], row["review_id"]))
    with (out / "nsmc_reviews_ko.tsv").open("w", encoding="utf-8", newline="") as dst:
        writer = csv.DictWriter(
            dst, fieldnames=list(sample[0].keys()), delimiter="\t", quoting=csv.QUOTE_MINIMAL
        )
        writer.writeheader()
        writer.writerows(sample)


if __name__ == "__main__":
    main()
