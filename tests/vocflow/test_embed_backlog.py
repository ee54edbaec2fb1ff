"""The embedding loop shared by the flow, Dask scale-out and the bounded-memory backfill."""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from connectors.schema import Channel, FeedbackItem
from vocflow.analysis import embed_backlog, embed_items
from vocflow.ingest import prepare_items
from vocflow.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TEXTS = [
    "배송이 너무 늦어요",
    "App crashes on login every single time since the last update",
    "좋아요",
    "배송이 너무 늦어요",  # the same text as item 0: embedded once
    "Refund took three weeks",
    "앱이 자꾸 꺼지고 로그인이 안 돼서 너무 불편합니다",
]


class RecordingEmbedder:
    """A deterministic embedder that records every call (and can fail on a given call)."""

    model_id = "recording-test"
    dim = 4

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise RuntimeError("worker lost")
        self.calls.append(list(texts))
        rows = [[len(t), t.count(" ") + 1, ord(t[0]) % 97, 1.0] for t in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "v.duckdb") as s:
        items = [
            FeedbackItem(
                source="s", external_id=str(i), channel=Channel.REVIEW, created_at=T0, text=t
            )
            for i, t in enumerate(TEXTS)
        ]
        s.upsert_items(prepare_items(items), "run-1")
        yield s


def test_backlog_embeds_each_distinct_text_once_longest_first_in_chunks(store: Store):
    embedder = RecordingEmbedder()
    progress: list[tuple[int, int]] = []
    done = embed_backlog(store, embedder, chunk=2, on_progress=lambda d, t: progress.append((d, t)))
    sent = [t for call in embedder.calls for t in call]
    assert done == 5 and sorted(sent) == sorted(set(TEXTS))
    assert [len(t) for t in sent] == sorted((len(t) for t in sent), reverse=True)
    assert [len(call) for call in embedder.calls] == [2, 2, 1]
    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert embed_backlog(store, RecordingEmbedder()) == 0


def test_an_interrupted_backlog_keeps_the_saved_chunks_and_resumes_with_the_rest(store: Store):
    with pytest.raises(RuntimeError, match="worker lost"):
        embed_backlog(store, RecordingEmbedder(fail_on_call=1), chunk=2)
    resumed = RecordingEmbedder()
    assert embed_backlog(store, resumed, chunk=2) == 3
    assert len({t for call in resumed.calls for t in call}) == 3


def test_flow_embedding_reuses_the_backlog_and_matches_a_direct_embedding(store: Store):
    embedder = RecordingEmbedder()
    embed_backlog(store, embedder)
    items = store.load_items()
    vectors, count = embed_items(store, RecordingEmbedder(), items)
    assert (count.total, count.computed) == (6, 0)
    direct = RecordingEmbedder().embed(items["text_clean"].tolist())
    np.testing.assert_allclose(vectors, direct, atol=2e-3)
