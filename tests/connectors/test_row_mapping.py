"""RowMapper.to_items (one time parse per batch) maps rows exactly like to_item row by row."""

from datetime import UTC, datetime

from connectors.file_options import MappingOptions
from connectors.row_mapping import RowMapper

NOW = datetime(2026, 11, 23, tzinfo=UTC)

ROWS = [
    {"id": "1", "body": "배송이 너무 늦어요", "day": "2026-01-01", "edited": "2026-01-02 10:00"},
    {"id": "2", "body": "The app keeps crashing", "day": "2026-01-02T08:30:00Z", "edited": ""},
    {"id": "3", "body": "환불이 안 돼요", "day": "2026-03-29 02:30:00", "edited": None},  # DST gap
    {"id": "4", "body": "좋아요", "day": "not a date", "edited": "2026-01-05"},
    {"id": "5", "body": "Too expensive", "day": "", "edited": "2026-01-05"},
    {"id": "6", "body": "Login fails", "day": "2099-01-01", "edited": "2026-01-05"},
    {"id": "7", "body": "결제 오류", "day": "2026-01-04 09:00+09:00", "edited": "2026-01-04"},
    {"id": "8", "body": "Refund", "day": "2026-10-25 02:30", "edited": "2026-10-26"},  # DST fold
    {"id": "9", "body": "   ", "day": "2026-01-04", "edited": "2026-01-04"},
]


def _mapper(timezone: str) -> RowMapper:
    options = MappingOptions.model_validate(
        {
            "channel": "review",
            "columns": {"id": "id", "text": "body", "created_at": "day", "updated_at": "edited"},
            "timezone": timezone,
        }
    )
    return RowMapper("src", options, "salt", ref_prefix="file.csv", now=NOW)


def test_batch_mapping_equals_row_by_row_mapping_in_any_timezone() -> None:
    # Berlin: 02:30 does not exist on 2026-03-29 and happens twice on 2026-10-25 (invalid).
    expected_items = {"UTC": 5, "Asia/Seoul": 5, "Europe/Berlin": 3}
    for timezone, n_items in expected_items.items():
        mapper = _mapper(timezone)
        batch = mapper.to_items([dict(r) for r in ROWS])
        single = [mapper.to_item(dict(r)) for r in ROWS]
        assert batch == single, timezone
        kinds = [type(x).__name__ for x in batch]
        assert kinds.count("FeedbackItem") == n_items, timezone
        assert kinds.count("QuarantinedRow") == len(ROWS) - n_items
        seoul = next(x for x in batch if getattr(x, "external_id", "") == "7")
        assert seoul.created_at == datetime(2026, 1, 4, 0, 0, tzinfo=UTC)  # type: ignore[union-attr]


def test_empty_batch() -> None:
    assert _mapper("UTC").to_items([]) == []
