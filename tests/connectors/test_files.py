from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from connectors.base import Bookmark, ConnectorError
from connectors.files import FileConnector, FileSourceOptions
from connectors.schema import Channel, ScoreType

NOW = datetime(2026, 11, 23, tzinfo=UTC)

ROWS = [
    {"id": "1", "body": "배송이 너무 늦어요", "day": "2026-01-01", "nps": "3", "who": "a@x.kr"},
    {"id": "2", "body": "The app keeps crashing", "day": "2026-01-02", "nps": "9", "who": "B"},
    {"id": "3", "body": "   ", "day": "2026-01-02", "nps": "7", "who": "c"},
    {"id": "4", "body": "좋아요", "day": "not a date", "nps": "10", "who": "d"},
    {"id": "5", "body": "Too expensive", "day": "2026-01-03", "nps": "11", "who": "e"},
    {"id": "6", "body": "Refund took weeks", "day": "2026-01-03", "nps": "x", "who": "f"},
    {"id": "7", "body": "Login fails", "day": "2099-01-01", "nps": "2", "who": "g"},
    {"id": "8", "body": "결제 오류가 자주 나요", "day": "2026-01-04", "nps": "", "who": "h"},
]


def _options(path: Path, **extra: object) -> FileSourceOptions:
    return FileSourceOptions.model_validate(
        {
            "path": path,
            "channel": "survey",
            "columns": {
                "id": "id", "text": "body", "created_at": "day", "score": "nps",
                "customer": "who",
            },
            "score": {"type": "nps"},
            "batch_size": 2,
            **extra,
        }
    )  # fmt: skip


@pytest.fixture(params=["csv", "tsv", "jsonl", "parquet"])
def feedback_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"feedback.{request.param}"
    if request.param == "csv":
        frame.to_csv(path, index=False)
    elif request.param == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif request.param == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path)
    return path


def _read_all(connector: FileConnector, bookmark: Bookmark | None = None):
    batches = list(connector.read(bookmark))
    items = [i for b in batches for i in b.items]
    bad = [q for b in batches for q in b.quarantined]
    return batches, items, bad


def test_every_format_maps_items_and_quarantines_bad_rows_with_reasons(feedback_file: Path):
    connector = FileConnector("survey", _options(feedback_file), "salt", now=NOW)
    batches, items, bad = _read_all(connector)
    assert sorted(i.external_id for i in items) == ["1", "2", "8"]
    reasons = {q.raw.split('"id": "')[1][0]: q.reason for q in bad}
    assert reasons == {
        "3": "empty_text",
        "4": "invalid_date",
        "5": "score_out_of_range",
        "6": "invalid_score",
        "7": "future_date",
    }
    first = next(i for i in items if i.external_id == "1")
    assert first.text == "배송이 너무 늦어요"
    assert first.score is not None and first.score.type is ScoreType.NPS
    assert first.score.value == 3.0
    assert first.channel is Channel.SURVEY
    assert first.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    # The raw customer id never appears, only its salted hash.
    assert first.customer_key and "a@x.kr" not in first.customer_key
    assert next(i for i in items if i.external_id == "8").score is None
    assert sum(b.rows_read for b in batches) == len(ROWS)


def test_bookmark_resumes_at_cursor_and_skips_what_was_read(tmp_path: Path):
    path = tmp_path / "f.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    connector = FileConnector("s", _options(path), "salt", now=NOW)
    batches, _, _ = _read_all(connector)
    last = [b.bookmark for b in batches if b.bookmark][-1]
    # The last row stored (id 8), not the quarantined one dated 2099 (id 7).
    assert last is not None and last.value.startswith("2026-01-04")
    # Resume from the bookmark of the batch holding 2026-01-03: only rows at or after it.
    mid = Bookmark("day", "2026-01-03T00:00:00+00:00")
    _, items, bad = _read_all(connector, mid)
    assert [i.external_id for i in items] == ["8"]
    assert sorted(q.reason for q in bad) == [
        "future_date", "invalid_date", "invalid_score", "score_out_of_range",
    ]  # fmt: skip


def test_naive_timestamps_are_read_in_the_configured_timezone(tmp_path: Path):
    path = tmp_path / "f.csv"
    pd.DataFrame([{**ROWS[0], "day": "2026-01-01 09:00"}]).to_csv(path, index=False)
    connector = FileConnector("s", _options(path, timezone="Asia/Seoul"), "salt", now=NOW)
    _, items, _ = _read_all(connector)
    assert items[0].created_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def test_composite_id_is_stable_and_distinguishes_rows(tmp_path: Path):
    path = tmp_path / "f.csv"
    pd.DataFrame(ROWS[:2]).to_csv(path, index=False)
    options = _options(path).model_copy(deep=True)
    options.columns.id = ["who", "day"]
    first = [i.item_key for i in _read_all(FileConnector("s", options, "k", now=NOW))[1]]
    again = [i.item_key for i in _read_all(FileConnector("s", options, "k", now=NOW))[1]]
    assert first == again and len(set(first)) == 2


def test_truncated_jsonl_line_is_quarantined_and_good_lines_kept(tmp_path: Path):
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"id": "1", "body": "good", "day": "2026-01-01", "nps": "9", "who": "a"}\n'
        '{"id": "2", "body": "trunc\n',
        encoding="utf-8",
    )
    _, items, bad = _read_all(FileConnector("s", _options(path), "salt", now=NOW))
    assert [i.external_id for i in items] == ["1"]
    assert [q.reason for q in bad] == ["invalid_json"]


def test_missing_file_and_missing_columns_give_actionable_errors(tmp_path: Path):
    with pytest.raises(ConnectorError, match="file not found"):
        FileConnector("s", _options(tmp_path / "nope.csv"), "salt").check()
    path = tmp_path / "f.csv"
    pd.DataFrame([{"id": "1"}]).to_csv(path, index=False)
    with pytest.raises(ConnectorError, match="not in f.csv"):
        FileConnector("s", _options(path), "salt").check()
