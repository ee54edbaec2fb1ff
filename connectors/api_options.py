"""Options every HTTP API source shares: host override, retry settings, product and language."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.http import RetryPolicy


class RetryOptions(BaseModel):
    """Retry settings from config (see ``connectors.http.RetryPolicy``)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=6, ge=1, le=20)
    backoff_base: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=60.0, ge=0)
    max_retry_after: float = Field(default=900.0, ge=0)
    timeout: float = Field(default=30.0, gt=0)

    def policy(self) -> RetryPolicy:
        """The client policy these options describe."""
        return RetryPolicy(**self.model_dump())


class ApiSourceOptions(BaseModel):
    """Options shared by the HTTP API connectors.

    Attributes:
        base_url: Overrides the vendor host (self-hosted, EU data centre, contract tests).
        retry: Retry and timeout settings.
        product: Product or brand the feedback is about (stored on every item).
        language: ISO 639-1 code if every item of the source is in one language.
        phone_region: Country whose national phone formats are redacted (ISO 3166 alpha-2,
            "DE"); default: the country of ``language`` (vocflow/privacy.py).
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    retry: RetryOptions = Field(default_factory=RetryOptions)
    product: str | None = None
    language: str | None = None
    phone_region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
