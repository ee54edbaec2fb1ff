"""Database driver errors turned into messages that say what to fix, without the password."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import ConnectorError

# Substrings of driver messages (libpq/psycopg, MySQL, SQLite) and what they mean.
_LOGIN = ("password authentication failed", "authentication failed", "access denied for user")
_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "no route to host",
    "timeout expired",
    "timed out",
    "network is unreachable",
    "can't connect to",
    "could not connect",
    "failed to resolve host",
)
# Something listens on the port, but it does not speak the database's protocol.
_NOT_DATABASE = ("invalid response to ssl negotiation", "server closed the connection unexpectedly")
# libpq: 'database "x" does not exist'; MySQL: "Unknown database 'x'".
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist|unknown database')


def explain(error: SQLAlchemyError, source: str, url: URL, where: str) -> ConnectorError:
    """Turns a SQLAlchemy/driver error into an actionable ``ConnectorError``.

    Args:
        error: What SQLAlchemy raised.
        source: Source instance name.
        url: The database URL (its password is never shown).
        where: Where the URL came from, e.g. "$VOCFLOW_CRM_DB_URL".

    Returns:
        The error to raise, chained by the caller.
    """
    detail = _first_line(error, url)
    lowered = detail.lower()
    host = f"{url.host or 'localhost'}:{url.port}" if url.port else (url.host or "localhost")
    prefix = f"source {source!r}"
    if any(s in lowered for s in _LOGIN):
        return ConnectorError(
            f"{prefix}: the database at {host} refused the login of user {url.username!r}: "
            f"check the user name and password in the URL in {where} ({detail})"
        )
    if url.get_backend_name() == "sqlite" and "unable to open database" in lowered:
        return ConnectorError(
            f"{prefix}: cannot open the SQLite file {url.database!r}: check the path in "
            f"{where} and that the file exists ({detail})"
        )
    if _NO_DATABASE.search(lowered):
        return ConnectorError(
            f"{prefix}: database {url.database!r} does not exist at {host}: check the database "
            f"name in {where} ({detail})"
        )
    if any(s in lowered for s in _NOT_DATABASE):
        return ConnectorError(
            f"{prefix}: something answered at {host} but it is not the database server: check "
            f"the host and port in {where} ({detail})"
        )
    if any(s in lowered for s in _UNREACHABLE):
        return ConnectorError(
            f"{prefix}: cannot reach the database server at {host}: check the host and port in "
            f"{where}, that the server is running and that the network/firewall lets this "
            f"machine connect ({detail})"
        )
    return ConnectorError(f"{prefix}: database error: {detail}")


def _first_line(error: SQLAlchemyError, url: URL) -> str:
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    text = lines[0] if lines else type(original).__name__
    if url.password:
        # Drivers do not echo passwords, but a URL pasted into a message would.
        text = text.replace(str(url.password), "***")
    return text[:300]
