"""A source's phone region: from its options into the redaction of everything it stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.api_options import ApiSourceOptions
from connectors.file_options import FileSourceOptions
from connectors.schema import Channel, FeedbackItem
from vocflow.ingest import prepare_items
from vocflow.privacy import PrivacyPolicy, source_phone_region

BERLIN = "Rückruf bitte unter 030 12345678, der Akku ist kaputt."


@pytest.mark.parametrize(
    ("options", "region"),
    [
        ({"phone_region": "de", "language": "en"}, "DE"),  # the option wins
        ({"language": "ko"}, "KR"),
        ({"language": "en"}, "US"),
        ({"language": "en-GB"}, "GB"),
        ({"language": "pt_BR"}, "BR"),
        ({"language": "fr"}, "FR"),
        ({"language": "xx"}, None),
        ({}, None),
    ],
)
def test_source_phone_region(options: dict, region: str | None) -> None:
    assert source_phone_region(options) == region


def test_an_unknown_phone_region_is_refused() -> None:
    with pytest.raises(ValueError, match="phone region"):
        source_phone_region({"phone_region": "UK"})  # the ISO code is GB


def test_options_models_take_a_phone_region(tmp_path: Path) -> None:
    base = {
        "path": tmp_path / "f.csv", "channel": "review",
        "columns": {"id": "id", "text": "text", "created_at": "day"},
    }  # fmt: skip
    assert FileSourceOptions.model_validate({**base, "phone_region": "DE"}).phone_region == "DE"
    assert ApiSourceOptions.model_validate({"phone_region": "FR"}).phone_region == "FR"
    with pytest.raises(ValidationError):
        FileSourceOptions.model_validate({**base, "phone_region": "DEU"})


def test_the_source_policy_redacts_national_numbers_everywhere_it_stores_text() -> None:
    policy = PrivacyPolicy().for_source({"phone_region": "DE"})
    item = FeedbackItem(
        source="de-shop",
        external_id="1",
        channel=Channel.REVIEW,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        text=BERLIN,
        title="Tel 0151 23456789",
        segment={"notes": "Festnetz 030 12345678"},
    )
    row = prepare_items([item], policy).iloc[0]
    for column in ("text", "text_clean", "title", "segment"):
        assert "12345678" not in str(row[column]) and "23456789" not in str(row[column])
    assert '"PHONE": 1' in row["pii_found"]
    assert "[PHONE]" in row["text_clean"]
    assert "12345678" not in policy.redact_json(json.dumps({"text": BERLIN}))


def test_without_the_source_region_the_national_number_stays() -> None:
    # What the region buys: the default policy (no source) keeps the Berlin number.
    assert "030 12345678" in PrivacyPolicy().clean(BERLIN).text
    assert "030 12345678" not in PrivacyPolicy().for_source({"language": "de"}).clean(BERLIN).text


def test_korean_numbers_are_redacted_in_any_region() -> None:
    text = "배송 기사님 번호 010-1234-5678 인데 안 받아요"
    for options in ({}, {"language": "ko"}, {"phone_region": "DE"}, {"language": "en"}):
        assert "[PHONE]" in PrivacyPolicy().for_source(options).clean(text).text
