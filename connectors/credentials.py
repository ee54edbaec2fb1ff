"""API credentials for connectors: from the environment or a named secret block, never config.

Source options name where a secret lives (``token_env: ZENDESK_API_TOKEN`` or
``token_block: zendesk-eu-token``), never the secret itself. ``connectors/`` does not import
Prefect, so loading a Prefect Secret block is a hook the runtime installs
(``set_block_loader``, done by the ``vocflow`` CLI); without it a block-named secret fails with
what to do instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, model_validator

from connectors.base import ConnectorError

BlockLoader = Callable[[str], str]

_block_loader: BlockLoader | None = None


def set_block_loader(loader: BlockLoader | None) -> None:
    """Installs the function that reads a secret block by name (None removes it)."""
    global _block_loader  # noqa: PLW0603 - one process-wide hook, set once at start-up
    _block_loader = loader


class SecretRef(BaseModel):
    """Where one secret comes from: an environment variable or a secret block.

    Attributes:
        env: Environment variable holding the secret.
        block: Prefect Secret block holding the secret (used when ``env`` is unset or empty).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    block: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> SecretRef:
        if not self.env and not self.block:
            raise ValueError("name an environment variable (env) or a secret block (block)")
        return self

    def describe(self) -> str:
        """Where the secret is looked up, for error messages (never the value)."""
        places = []
        if self.env:
            places.append(f"${self.env}")
        if self.block:
            places.append(f"Secret block {self.block!r}")
        return " or ".join(places)

    def resolve(self, source: str) -> str:
        """Returns the secret.

        Raises:
            ConnectorError: Neither the variable nor the block provides it.
        """
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.block:
            if _block_loader is None:
                raise ConnectorError(
                    f"source {source!r}: secret block {self.block!r} cannot be loaded here; "
                    f"set ${self.env or 'the env option'} instead"
                )
            try:
                return _block_loader(self.block)
            except Exception as error:  # noqa: BLE001 - any loader failure means "no secret"
                raise ConnectorError(
                    f"source {source!r}: cannot load secret block {self.block!r}: {error}"
                ) from error
        raise ConnectorError(f"source {source!r}: set ${self.env} (it is empty or unset)")
