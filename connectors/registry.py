"""Connector kinds by name, so sources are declared in configs/ and built here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.app_store import AppStoreConnector, AppStoreOptions
from connectors.base import Connector, ConnectorError
from connectors.delighted import DelightedConnector, DelightedOptions
from connectors.files import FileConnector, FileSourceOptions
from connectors.freshdesk import FreshdeskConnector, FreshdeskOptions
from connectors.google_play import GooglePlayConnector, GooglePlayOptions
from connectors.intercom import IntercomConnector, IntercomOptions
from connectors.mastodon import MastodonConnector, MastodonOptions
from connectors.objectstore import ObjectStoreConnector, ObjectStoreOptions
from connectors.qualtrics import QualtricsConnector, QualtricsOptions
from connectors.reddit import RedditConnector, RedditOptions
from connectors.sql import SqlConnector, SqlSourceOptions
from connectors.surveymonkey import SurveyMonkeyConnector, SurveyMonkeyOptions
from connectors.trustpilot import TrustpilotConnector, TrustpilotOptions
from connectors.typeform import TypeformConnector, TypeformOptions
from connectors.youtube import YouTubeConnector, YouTubeOptions
from connectors.zendesk import ZendeskConnector, ZendeskOptions

ConnectorFactory = Callable[[str, dict[str, Any], Path, str], Connector]


def _file_connector(
    name: str, options: dict[str, Any], base_dir: Path, customer_salt: str
) -> Connector:
    parsed = FileSourceOptions.model_validate(options)
    if not parsed.path.is_absolute():
        parsed = parsed.model_copy(update={"path": (base_dir / parsed.path).resolve()})
    return FileConnector(name, parsed, customer_salt)


def _sql_connector(name: str, options: dict[str, Any], base_dir: Path, salt: str) -> Connector:
    return SqlConnector(name, SqlSourceOptions.model_validate(options), salt, base_dir=base_dir)


def _objectstore_connector(
    name: str, options: dict[str, Any], base_dir: Path, salt: str
) -> Connector:
    parsed = ObjectStoreOptions.model_validate(options)
    if "://" not in parsed.url and not Path(parsed.url).is_absolute():
        parsed = parsed.model_copy(update={"url": str(base_dir / parsed.url)})
    return ObjectStoreConnector(name, parsed, salt)


def _zendesk_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return ZendeskConnector(name, ZendeskOptions.model_validate(options), salt)


def _typeform_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return TypeformConnector(name, TypeformOptions.model_validate(options), salt)


def _freshdesk_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return FreshdeskConnector(name, FreshdeskOptions.model_validate(options), salt)


def _google_play_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return GooglePlayConnector(name, GooglePlayOptions.model_validate(options), salt)


def _trustpilot_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return TrustpilotConnector(name, TrustpilotOptions.model_validate(options), salt)


def _reddit_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return RedditConnector(name, RedditOptions.model_validate(options), salt)


def _intercom_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return IntercomConnector(name, IntercomOptions.model_validate(options), salt)


def _app_store_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return AppStoreConnector(name, AppStoreOptions.model_validate(options), salt)


def _mastodon_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return MastodonConnector(name, MastodonOptions.model_validate(options), salt)


def _youtube_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return YouTubeConnector(name, YouTubeOptions.model_validate(options), salt)


def _qualtrics_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return QualtricsConnector(name, QualtricsOptions.model_validate(options), salt)


def _surveymonkey_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return SurveyMonkeyConnector(name, SurveyMonkeyOptions.model_validate(options), salt)


def _delighted_connector(name: str, options: dict[str, Any], _: Path, salt: str) -> Connector:
    return DelightedConnector(name, DelightedOptions.model_validate(options), salt)


CONNECTOR_KINDS: dict[str, ConnectorFactory] = {"file": _file_connector}
# Databases and object stores (connectors/sql.py, connectors/objectstore.py).
CONNECTOR_KINDS["sql"] = _sql_connector
CONNECTOR_KINDS["objectstore"] = _objectstore_connector
# HTTP API connectors (docs/connectors.md).
CONNECTOR_KINDS["zendesk"] = _zendesk_connector
CONNECTOR_KINDS["typeform"] = _typeform_connector
CONNECTOR_KINDS["freshdesk"] = _freshdesk_connector
CONNECTOR_KINDS["google_play"] = _google_play_connector
CONNECTOR_KINDS["trustpilot"] = _trustpilot_connector
CONNECTOR_KINDS["reddit"] = _reddit_connector
CONNECTOR_KINDS["intercom"] = _intercom_connector
CONNECTOR_KINDS["app_store"] = _app_store_connector
CONNECTOR_KINDS["mastodon"] = _mastodon_connector
CONNECTOR_KINDS["youtube"] = _youtube_connector
CONNECTOR_KINDS["qualtrics"] = _qualtrics_connector
CONNECTOR_KINDS["surveymonkey"] = _surveymonkey_connector
CONNECTOR_KINDS["delighted"] = _delighted_connector


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
