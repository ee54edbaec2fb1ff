"""Erasure, retention, raw-text policy, link sanitising and secrets in config (fast, no flow)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connectors.files import FileConnector, FileSourceOptions
from connectors.schema import Channel, FeedbackItem, QuarantinedRow, hash_customer
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.erasure import (
    apply_retention,
    erased_customers,
    erasure_log,
    forget_customer,
    key_digest,
    reports_quoting,
)
from vocflow.faults import parse_target
from vocflow.ingest import ingest_source, prepare_items, quarantine_rows
from vocflow.privacy import PrivacyPolicy, has_text_content, sanitize_url
from vocflow.settings import Settings
from vocflow.store import Store

NOW = datetime(2026, 11, 23, tzinfo=UTC)
SALT = "unit-salt"


def _file(tmp_path: Path, rows: list[dict]) -> FileConnector:
    path = tmp_path / "f.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    options = FileSourceOptions.model_validate(
        {
            "path": path, "channel": "review", "batch_size": 2,
            "columns": {"id": "id", "text": "text", "created_at": "day", "customer": "who"},
        }
    )  # fmt: skip
    return FileConnector("reviews", options, SALT, now=NOW)


ROWS = [
    {"id": "1", "text": "배송이 늦어요 010-1234-5678", "day": "2026-11-01", "who": "kim@x.kr"},
    {"id": "2", "text": "Refund took weeks", "day": "2026-11-02", "who": "lee"},
    {"id": "3", "text": "앱이 튕겨요", "day": "2026-11-03", "who": "kim@x.kr"},
    {"id": "4", "text": "Great crew", "day": "2026-11-03", "who": "park"},
    {"id": "5", "text": "", "day": "2026-11-04", "who": "kim@x.kr"},  # quarantined
]


@pytest.fixture
def store(store_target: Path | str):  # noqa: F811 - imported fixture
    with Store(store_target) as s:
        yield s


def _derive(store: Store) -> None:
    """Adds embeddings, labels and theme assignments for every stored item."""
    items = store.load_items()
    store.save_embeddings(items["text_hash"].tolist(), "m", np.eye(len(items), 4, dtype=np.float32))
    store.save_enrichments(
        items["item_key"].tolist(), items["text_hash"].tolist(), "v1", "sentiment",
        ["negative"] * len(items), np.full((len(items), 3), 1 / 3),
    )  # fmt: skip
    themes = pd.DataFrame(
        [{"theme_id": 0, "label": "t", "keywords": ["a"], "size": len(items), "centroid": None}]
    )
    store.save_themes("run-1", themes, items[["item_key"]].assign(theme_id=0))


def test_forget_removes_the_customers_items_labels_vectors_and_bad_rows_only(
    store: Store, tmp_path: Path
):
    connector = _file(tmp_path, ROWS)
    ingest_source(connector, store, "run-1")
    _derive(store)
    key = hash_customer("kim@x.kr", SALT)
    assert store.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 1

    result = forget_customer(store, key, now=NOW)

    assert vars(result.counts) == {
        "items": 2, "enrichments": 2, "item_themes": 2, "embeddings": 2, "quarantine": 1,
        "other": {},
    }  # fmt: skip
    left = store.con.execute("SELECT external_id FROM items ORDER BY 1").fetchall()
    assert left == [("2",), ("4",)]
    for table in ("enrichments", "item_themes"):
        assert store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 2
    assert store.con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0] == 2
    assert store.con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 0
    assert result.snippets and all("[PHONE]" in s or "튕겨요" in s for s in result.snippets)
    # The log proves the erasure without holding the key or any text.
    (entry,) = erasure_log(store)
    assert entry["kind"] == "forget" and entry["subject"] == key_digest(key)
    assert key not in json.dumps(entry, default=str) and entry["counts"]["items"] == 2


def test_forget_also_clears_per_item_tables_added_later_and_their_clause_vectors(
    store: Store, tmp_path: Path
):
    ingest_source(_file(tmp_path, ROWS), store, "run-1")
    keys = dict(store.con.execute("SELECT external_id, item_key FROM items").fetchall())
    # A table another module might add: per-item rows pointing at cached clause vectors.
    store.con.execute("CREATE TABLE clause_rows (item_key VARCHAR, clause_hash VARCHAR)")
    for external_id, item_key in keys.items():
        store.con.execute("INSERT INTO clause_rows VALUES (?, ?)", [item_key, f"c{external_id}"])
    store.save_embeddings([f"c{i}" for i in keys], "m", np.ones((len(keys), 4), np.float32))
    result = forget_customer(store, hash_customer("kim@x.kr", SALT), now=NOW)
    assert result.counts.other == {"clause_rows": 2}
    left = {r[0] for r in store.con.execute("SELECT text_hash FROM embeddings").fetchall()}
    assert left == {"c2", "c4"}


def test_a_forgotten_customer_is_not_ingested_again(store: Store, tmp_path: Path):
    connector = _file(tmp_path, ROWS)
    ingest_source(connector, store, "run-1")
    key = hash_customer("kim@x.kr", SALT)
    forget_customer(store, key, now=NOW)
    assert erased_customers(store) == {key}
    # A full re-read (bookmark reset) must not bring the items back.
    store.con.execute("DELETE FROM connector_state")
    again = ingest_source(connector, store, "run-2")
    assert again.skipped_erased == 2 and again.new == 0
    assert (
        store.con.execute("SELECT count(*) FROM items WHERE customer_key = ?", [key]).fetchall()[0][
            0
        ]
        == 0
    )


def test_retention_drops_old_items_and_their_derivatives_and_skips_them_on_ingest(
    store: Store, tmp_path: Path
):
    connector = _file(tmp_path, ROWS)
    ingest_source(connector, store, "run-1")
    _derive(store)
    counts = apply_retention(store, days=21, now=NOW)  # cutoff 2026-11-02
    assert (counts.items, counts.enrichments, counts.item_themes, counts.embeddings) == (1, 1, 1, 1)
    assert [e["kind"] for e in erasure_log(store)] == ["retention"]
    assert apply_retention(store, days=21, now=NOW).items == 0
    # Ingest under the same policy does not store what retention would delete.
    store.con.execute("DELETE FROM connector_state")
    policy = PrivacyPolicy.from_config(retention_days=21, now=NOW)
    again = ingest_source(connector, store, "run-2", policy=policy)
    assert again.skipped_expired == 1 and again.new == 0


def _item(text: str, **extra) -> FeedbackItem:
    return FeedbackItem(
        source="s", external_id="1", channel=Channel.TICKET, created_at=NOW, text=text, **extra
    )


def test_raw_text_is_kept_only_when_configured_and_outputs_get_redacted_text():
    text = "환불해주세요 010-9876-5432 kim@example.com"
    item = _item(text, title="Call me at 010-9876-5432", url="https://x.io/t/1?token=abc&page=2")
    default = prepare_items([item]).iloc[0]
    assert default["text"] == default["text_clean"] == "환불해주세요 [PHONE] [EMAIL]"
    assert default["title"] == "Call me at [PHONE]"
    assert default["url"] == "https://x.io/t/1?page=2"
    kept = prepare_items([item], PrivacyPolicy(keep_raw_text=True)).iloc[0]
    assert kept["text"] == text and kept["text_clean"] == default["text_clean"]


def test_redaction_kinds_are_configurable():
    policy = PrivacyPolicy.from_config(redact=["email"])
    row = prepare_items([_item("010-1234-5678 kim@example.com")], policy).iloc[0]
    assert row["text_clean"] == "010-1234-5678 [EMAIL]"
    with pytest.raises(ValueError, match="unknown PII kinds"):
        PrivacyPolicy.from_config(redact=["SSN"])


def test_quarantined_rows_are_redacted_unless_raw_text_is_kept():
    bad = QuarantinedRow(
        source="s", row_ref="f:2", reason="invalid_score", detail="x",
        raw='{"text": "mail kim@example.com", "score": "high"}',
    )  # fmt: skip
    assert "kim@example.com" not in quarantine_rows([bad]).iloc[0]["raw"]
    kept = quarantine_rows([bad], PrivacyPolicy(keep_raw_text=True)).iloc[0]["raw"]
    assert "kim@example.com" in kept


def test_sanitize_url_drops_credentials_and_keeps_the_path():
    assert sanitize_url("https://u:pw@h.io/a/b?session=1&q=2#c") == "https://h.io/a/b?q=2#c"
    assert sanitize_url("https://h.io/r?ACCESS_TOKEN=x") == "https://h.io/r"
    assert sanitize_url(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ㅋㅋㅋ", True),
        ("ㅠㅠ", True),
        ("7", True),
        ("👍🔥", False),
        ("!!! ...", False),
        ("", False),
    ],
)
def test_text_content_counts_letters_digits_and_jamo(text: str, expected: bool):
    assert has_text_content(text) is expected


def test_reports_quoting_finds_plain_and_escaped_quotes(tmp_path: Path):
    for name, body in (("r1", "quote: A &amp; B &lt;ok&gt; rest"), ("r2", "nothing here")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.html").write_text(body, encoding="utf-8")
    assert [p.name for p in reports_quoting(tmp_path, ["A & B <ok>"])] == ["r1"]
    assert reports_quoting(tmp_path, ["   "]) == []


def test_secrets_are_refused_in_yaml_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text("customer_key_salt: oops\n", encoding="utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    with pytest.raises(ValueError, match="is a secret"):
        Settings()
    monkeypatch.setenv("VOCFLOW_CUSTOMER_KEY_SALT", "from-env")
    (configs / "vocflow.yaml").write_text("privacy:\n  retention_days: 30\n", encoding="utf-8")
    settings = Settings()
    assert settings.privacy.retention_days == 30
    assert "from-env" not in repr(settings) and "from-env" not in settings.model_dump_json()


def test_fault_targets_parse_and_unset_checkpoints_do_nothing(monkeypatch):
    from vocflow.faults import checkpoint

    assert parse_target("ingest:batch-persisted:3") == ("ingest:batch-persisted", 3)
    assert parse_target("themes:saved") == ("themes:saved", 1)
    monkeypatch.delenv("VOCFLOW_TEST_KILL_AT", raising=False)
    checkpoint("themes:saved")  # returns: this process is still alive
    monkeypatch.setenv("VOCFLOW_TEST_KILL_AT", "other:point")
    checkpoint("themes:saved")


def test_old_quarantined_rows_fall_under_retention(store: Store):
    bad = QuarantinedRow(source="s", row_ref="f:1", reason="invalid_json", detail="x", raw="{")
    store.quarantine(quarantine_rows([bad]), "r")
    store.con.execute("UPDATE quarantine SET quarantined_at = ?", [NOW - timedelta(days=40)])
    assert apply_retention(store, days=30, now=NOW).quarantine == 1
