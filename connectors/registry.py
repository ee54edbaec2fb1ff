"""Connector kinds by name, so sources are declared in configs/ and built here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.base import Connector, ConnectorError
from connectors.files import FileConnector, FileSourceOptions

ConnectorFactory = Callable[[str, dict[str, Any], Path, str], Connector]


def _file_connector(
    name: str, options: dict[str, Any], base_dir: Path, customer_salt: str
) -> Connector:
    parsed = FileSourceOptions.model_validate(options)
    if not parsed.path.is_absolute():
        parsed = parsed.model_copy(update={"path": (base_dir / parsed.path).resolve()})
    return FileConnector(name, parsed, customer_salt)


CONNECTOR_KINDS: dict[str, ConnectorFactory] = {"file": _file_connector}


def build_connector(
    name: str, kind: str, options: dict[str, Any], *, base_dir: Path, customer_salt: str
) -> Connector:
    """Builds a connector from its config entry.

    Args:
        name: Source instance name.
        kind: Connector kind (a key of ``CONNECTOR_KINDS``).
        options: Kind-specific options from the config.
        base_dir: Directory that relative paths in ``options`` are resolved against.
        customer_salt: Secret salt for hashing customer identifiers.

    Raises:
        ConnectorError: Unknown kind or invalid options, with what to fix.
    """
    factory = CONNECTOR_KINDS.get(kind)
    if factory is None:
        known = ", ".join(sorted(CONNECTOR_KINDS))
        raise ConnectorError(f"source {name!r}: unknown kind {kind!r} (known: {known})")
    try:
        return factory(name, options, base_dir, customer_salt)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConnectorError(f"source {name!r}: invalid options: {problems}") from error
