"""``vocflow eval sentiment`` and clause-level classification with a user's transformers model
(a tiny randomly initialised BERT the test builds), plus clause storage and theme mentions."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from connectors.schema import Channel, FeedbackItem  # noqa: E402
from nlp import registry  # noqa: E402
from nlp.protocols import SENTIMENT_LABELS  # noqa: E402
from tests.nlp.test_transformers_backend import _build_classifier  # noqa: E402
from vocflow.analysis import classify_items  # noqa: E402
from vocflow.clause_store import clause_version, load_clauses, theme_mention_sentiment  # noqa: E402
from vocflow.ingest import prepare_items  # noqa: E402
from vocflow.store import Store  # noqa: E402

ROWS = [
    ("the service was good", 5), ("bad slow delivery", 1), ("great app", 4),
    ("terrible price", 2), ("the delivery was fast", 3), ("the app was bad", 1),
]  # fmt: skip


class HashEmbedder:
    model_id = "hash:8"
    dim = 8

    def embed(self, texts: Sequence[str], on_progress: object = None) -> np.ndarray:
        out = np.ones((len(texts), self.dim), dtype=np.float32) * 0.1
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(word.encode()) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_classifier(
        tmp_path_factory.mktemp("tiny"), {0: "negative", 1: "neutral", 2: "positive"}
    )


@pytest.fixture
def project(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    configs = tmp_path / "configs"
    configs.mkdir()
    config = {
        "embedder": {"name": "test-hash"},
        "sentiment": {
            "name": "transformers",
            "options": {"model": str(tiny_model), "device": "cpu"},
        },
    }
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(config), "utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setitem(registry.EMBEDDERS, "test-hash", lambda **_: HashEmbedder())
    return tmp_path


def test_eval_sentiment_json_on_a_rated_file_with_a_transformers_model(project: Path) -> None:
    from vocflow.cli import app

    path = project / "rated.jsonl"
    lines = [json.dumps({"review": t, "stars": s}) for t, s in ROWS]
    lines.append(json.dumps({"review": "the app", "stars": 9}))  # outside the map: skipped
    path.write_text("\n".join(lines) + "\n")
    args = ["eval", "sentiment", str(path), "--text-col", "review", "--label-col", "stars",
            "--label-map", "1-2:negative,3:neutral,4-5:positive", "--json",
            "--cache-dir", str(project / "cache")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 6 and out["skipped"]["label_not_mapped"] == 1
    assert out["model_version"].startswith("transformers:model:")
    assert set(out["per_language"]) == {"en"} and out["per_language"]["en"]["n"] == 6
    assert {"n", "accuracy", "macro_f1"} <= set(out["per_language"]["en"])
    assert set(out["baselines"]) == {"majority", "vader", "prototype"}
    for figures in out["baselines"].values():
        assert 0.0 <= figures["accuracy"] <= 1.0 and "macro_f1" in figures
    assert out["baselines"]["majority"]["accuracy"] == pytest.approx(0.5)
    assert sum(sum(row.values()) for row in out["confusion"].values()) == 6
    assert 0.0 <= out["ece"] <= 1.0
    table = CliRunner().invoke(app, [a for a in args if a != "--json"])  # readable table
    assert table.exit_code == 0 and "baseline vader" in table.stdout


def test_eval_sentiment_reports_bad_input(project: Path) -> None:
    from vocflow.cli import app

    path = project / "x.csv"
    path.write_text("text,label\nhello there,5\n")
    result = CliRunner().invoke(app, ["eval", "sentiment", str(path), "--text-col", "text",
                                      "--label-col", "label"])  # fmt: skip
    assert result.exit_code == 2 and "label-map" in result.stdout


def test_clause_level_classification_with_the_transformers_backend(
    project: Path, tiny_model: Path
) -> None:
    from nlp.registry import build_sentiment

    model = build_sentiment("transformers", {"model": str(tiny_model), "device": "cpu"})
    texts = ["the service was good but the delivery was slow", "great app", "the price"]
    items = prepare_items(
        FeedbackItem(source="s", external_id=str(i), channel=Channel.REVIEW,
                     created_at=datetime(2026, 1, 1, tzinfo=UTC), text=t)
        for i, t in enumerate(texts)
    )  # fmt: skip
    with Store(project / "v.duckdb") as store:
        store.upsert_items(items, "r")
        items = store.load_items()
        labels, count = classify_items(
            store, model, items, None, None, clauses=True, mixed_margin=0.4
        )
        assert count.computed == 3 and labels.notna().all()
        version = clause_version(model.model_version, 0.4)
        clauses = load_clauses(store, items["item_key"].tolist(), version)
        per_item = clauses.groupby("item_key").size().to_dict()
        first = items["item_key"][items["text_clean"] == texts[0]].iloc[0]
        assert per_item[first] == 2  # "... good" | "but the delivery was slow"
        assert set(clauses["label"]) <= set(SENTIMENT_LABELS)
        again, count = classify_items(
            store, model, items, None, None, clauses=True, mixed_margin=0.4
        )
        assert count.computed == 0 and again.equals(labels)  # cached under the clause version


def test_theme_mentions_of_mixed_items_take_the_closest_clause(project: Path) -> None:
    # Words in distinct hash buckets: with "terrible price" the two clauses hashed alike.
    text = "great app but slow delivery"
    items = prepare_items(
        [FeedbackItem(source="s", external_id="1", channel=Channel.REVIEW,
                      created_at=datetime(2026, 1, 1, tzinfo=UTC), text=text)]
    )  # fmt: skip
    embedder = HashEmbedder()
    with Store(project / "v.duckdb") as store:
        store.upsert_items(items, "r")
        items = store.load_items()
        from nlp.sentiment.clauses import classify_clauses
        from vocflow.clause_store import save_clauses

        proba = np.array([[0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])

        class Fixed:
            labels, needs_embeddings, embedder_id, model_version = (
                SENTIMENT_LABELS,
                False,
                None,
                "f",
            )

            def predict_proba(self, texts: Sequence[str], embeddings: object = None) -> np.ndarray:
                return proba[: len(texts)]

        result = classify_clauses(Fixed(), [text], ["en"], np.array([[0.3, 0.4, 0.3]]))
        assert result.item_labels == ["mixed"]
        save_clauses(store, items["item_key"].tolist(), items["text_hash"].tolist(), "v", result)
        price = embedder.embed(["slow delivery"])[0]
        app = embedder.embed(["great app"])[0]
        rows = pd.DataFrame({"theme_id": [0, 1], "centroid": [price.tolist(), app.tolist()]})
        labels = pd.Series(["mixed"], index=items.index)
        on_price = theme_mention_sentiment(store, embedder, items, labels, "v", np.array([0]), rows)
        on_app = theme_mention_sentiment(store, embedder, items, labels, "v", np.array([1]), rows)
        outlier = theme_mention_sentiment(store, embedder, items, labels, "v", np.array([-1]), rows)
    assert on_price.tolist() == ["negative"] and on_app.tolist() == ["positive"]
    assert outlier.tolist() == ["mixed"]
