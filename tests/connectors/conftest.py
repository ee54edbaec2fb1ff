import itertools
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import settings

from tests.postgres import PostgresServer, start_or_fail

# Property tests (test_no_silent_loss.py): a bounded default for CI, more examples on demand
# with VOCFLOW_HYPOTHESIS_PROFILE=thorough.
settings.register_profile("ci", max_examples=20, deadline=None)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("VOCFLOW_HYPOTHESIS_PROFILE", "ci"))

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the session (fails if PostgreSQL is absent)."""
    server = start_or_fail()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh, empty database on the throwaway server (dropped afterwards)."""
    name = f"vocflow_test_{next(_databases)}"
    admin = sa.create_engine(postgres_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server.url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
