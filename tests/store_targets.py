"""Store tests over both backends: a DuckDB file, and a fresh database on a throwaway PostgreSQL.

Import the fixtures into a test module (or conftest) to use them::

    from tests.store_targets import postgres_store_server, store_target  # noqa: F401

``store_target`` is a DuckDB path or a ``postgresql://`` URL (no password in it: the password
is in ``VOCFLOW_STORE_PASSWORD``, as in production). PostgreSQL comes from ``tests/postgres.py``:
missing server binaries fail the tests (``make test`` installs them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import PASSWORD, USER, PostgresServer, start_or_fail

BACKENDS = ("duckdb", "postgres")
_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_store_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the session's store tests."""
    server = start_or_fail()
    try:
        yield server
    finally:
        server.stop()


def postgres_database(server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Creates an empty database and returns its store URL; sets the password variable."""
    import psycopg

    name = f"store_{next(_databases)}"
    with psycopg.connect(
        f"postgresql://{USER}@127.0.0.1:{server.port}/postgres",
        password=PASSWORD,
        autocommit=True,
    ) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    monkeypatch.setenv("VOCFLOW_STORE_PASSWORD", PASSWORD)
    return f"postgresql://{USER}@127.0.0.1:{server.port}/{name}"


@pytest.fixture(params=BACKENDS)
def store_target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path | str:
    """A DuckDB file path, or the URL of an empty PostgreSQL database."""
    if request.param == "duckdb":
        return tmp_path / "db" / "v.duckdb"
    server = request.getfixturevalue("postgres_store_server")
    return postgres_database(server, monkeypatch)
