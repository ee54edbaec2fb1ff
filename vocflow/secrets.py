"""Where secrets come from: the environment or Prefect Secret blocks, never config files."""

from __future__ import annotations

from vocflow.settings import Settings
from vocflow.store import Store


def customer_salt(settings: Settings, store: Store) -> str:
    """Returns the salt for hashing customer identifiers.

    Order: ``VOCFLOW_CUSTOMER_KEY_SALT`` (env), the Prefect Secret block named by
    ``customer_key_salt_block``, else a random salt generated once and kept in the store (so
    keys stay stable for that store without a secret anywhere in git).
    """
    if settings.customer_key_salt is not None:
        return settings.customer_key_salt.get_secret_value()
    if settings.customer_key_salt_block:
        return secret_block(settings.customer_key_salt_block)
    return store.store_salt()


def secret_block(block_name: str) -> str:
    """Reads a Prefect Secret block's value (imported lazily: only when a block is named)."""
    from prefect.blocks.system import Secret

    block = Secret.load(block_name)
    return str(block.get())  # type: ignore[union-attr]  # sync call returns the block


def install_block_loader() -> None:
    """Lets connectors resolve ``{block: NAME}`` credentials through Prefect Secret blocks.

    ``connectors/`` does not import Prefect; it asks the loader installed here.
    """
    from connectors.credentials import set_block_loader

    set_block_loader(secret_block)
