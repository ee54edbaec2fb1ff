"""The store's dialect layer and the ``store_url`` setting (no database needed here)."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from vocflow.settings import load_settings
from vocflow.store_backend import is_postgres_url, redact_url, to_postgres


def test_duckdb_sql_is_rewritten_for_postgres() -> None:
    sql = (
        "SELECT x FROM t WHERE a = ? AND b IN (SELECT unnest(?)) AND c LIKE 'p%' "
        "AND d::FLOAT[] IS NOT NULL"
    )
    assert to_postgres(sql) == (
        "SELECT x FROM t WHERE a = %s AND b = ANY(%s) AND c LIKE 'p%%' AND d::REAL[] IS NOT NULL"
    )
    negated = "SELECT x FROM t WHERE a NOT IN (SELECT unnest(?)) AND b IN (SELECT unnest(?))"
    assert to_postgres(negated) == "SELECT x FROM t WHERE a <> ALL(%s) AND b = ANY(%s)"
    ddl = "CREATE TABLE IF NOT EXISTS t (v BLOB, s DOUBLE, k JSON, p FLOAT[], q DOUBLE PRECISION)"
    assert to_postgres(ddl, with_params=False) == (
        "CREATE TABLE IF NOT EXISTS t (v BYTEA, s DOUBLE PRECISION, k TEXT, p REAL[], "
        "q DOUBLE PRECISION)"
    )


def test_urls_are_recognised_and_passwords_never_shown() -> None:
    assert is_postgres_url("postgresql://u@h:5432/db")
    assert is_postgres_url("postgresql+psycopg://u@h/db")
    assert not is_postgres_url(Path("postgresql://not-a-path-object"))
    assert not is_postgres_url("/var/lib/vocflow.duckdb")
    assert redact_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_store_url_setting_picks_the_target_and_refuses_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text("store_path: s.duckdb\n", encoding="utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    assert load_settings().store_target == (tmp_path / "s.duckdb").resolve()
    url = "postgresql://vocflow@db.internal:5432/vocflow"
    assert load_settings(store_url=url).store_target == url
    with pytest.raises(ValidationError) as error:
        load_settings(store_url="postgresql://vocflow:s3cret@db.internal/vocflow")
    assert "VOCFLOW_STORE_PASSWORD" in str(error.value) and "s3cret" not in str(error.value)
    with pytest.raises(ValidationError, match="postgresql://"):
        load_settings(store_url="mysql://vocflow@db/vocflow")
