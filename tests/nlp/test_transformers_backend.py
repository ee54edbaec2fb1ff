"""TransformersSentiment on tiny randomly initialised models the tests build themselves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from nlp.protocols import SENTIMENT_LABELS, SentimentModel  # noqa: E402
from nlp.sentiment.transformers_backend import TransformersSentiment, infer_label_map  # noqa: E402

WORDS = "the a service was good bad slow fast great terrible delivery price app".split()
TEXTS = ["the service was good", "bad slow delivery", "great app", "terrible price", "the"]


def _build_classifier(root: Path, id2label: dict[int, str]) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    model = BertForSequenceClassification(config)
    # Larger random head weights so the classes get clearly different probabilities.
    with torch.no_grad():
        model.classifier.weight.mul_(50)
    out = root / "model"
    model.save_pretrained(out)
    BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True).save_pretrained(out)
    return out


def _direct_proba(path: Path, texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        logits = model(**tok(texts, return_tensors="pt", padding=True)).logits
    return torch.softmax(logits, dim=-1).numpy()


@pytest.fixture(scope="module")
def three_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Deliberately not in canonical order: column mapping must follow names, not ids.
    return _build_classifier(
        tmp_path_factory.mktemp("clf3"), {0: "positive", 1: "negative", 2: "neutral"}
    )


def test_three_class_model_shape_order_and_determinism(three_class: Path) -> None:
    model = TransformersSentiment(str(three_class), device="cpu", batch_size=2)
    assert isinstance(model, SentimentModel)
    assert model.labels == SENTIMENT_LABELS
    assert model.needs_embeddings is False and model.embedder_id is None
    assert model.model_version.startswith("transformers:model:")
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    direct = _direct_proba(three_class, TEXTS)  # columns: positive, negative, neutral
    np.testing.assert_allclose(proba, direct[:, [1, 2, 0]], atol=1e-5)
    np.testing.assert_array_equal(model.predict_proba(TEXTS), proba)
    assert model.predict_proba([]).shape == (0, 3)


def test_two_class_generic_labels_put_zero_on_neutral(tmp_path: Path) -> None:
    path = _build_classifier(tmp_path, {0: "LABEL_0", 1: "LABEL_1"})
    model = TransformersSentiment(str(path), device="cpu")
    assert model.label_map == {"LABEL_0": "negative", "LABEL_1": "positive"}
    proba = model.predict_proba(TEXTS)
    assert np.all(proba[:, 1] == 0.0)
    np.testing.assert_allclose(proba[:, [0, 2]], _direct_proba(path, TEXTS), atol=1e-5)


def test_explicit_label_map_and_validation(tmp_path: Path) -> None:
    path = _build_classifier(tmp_path, {0: "bad", 1: "meh", 2: "good"})
    with pytest.raises(ValueError, match="cannot map model label 'bad'"):
        TransformersSentiment(str(path), device="cpu")
    with pytest.raises(ValueError, match="unmapped"):
        TransformersSentiment(str(path), device="cpu", label_map={"bad": "negative"})
    model = TransformersSentiment(
        str(path), device="cpu", label_map={"bad": "negative", "meh": "neutral", "good": "positive"}
    )
    np.testing.assert_allclose(model.predict_proba(TEXTS), _direct_proba(path, TEXTS), atol=1e-5)


@pytest.mark.parametrize(
    ("id2label", "expected"),
    [
        ({0: "NEGATIVE", 1: "POSITIVE"}, ["negative", "positive"]),
        ({0: "neg", 1: "neu", 2: "pos"}, ["negative", "neutral", "positive"]),
        ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "neutral", "positive"]),
        ({0: "0", 1: "1"}, ["negative", "positive"]),
        (
            {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
            ["negative", "negative", "neutral", "positive", "positive"],
        ),
    ],
)
def test_infer_label_map(id2label: dict[int, str], expected: list[str]) -> None:
    mapping = infer_label_map(id2label)
    assert [mapping[id2label[i]] for i in sorted(id2label)] == expected


def test_infer_label_map_rejects_unknown_generic_layouts() -> None:
    with pytest.raises(ValueError, match="label_map"):
        infer_label_map({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2", 3: "LABEL_3"})
