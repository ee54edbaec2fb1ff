from pathlib import Path

from vocflow.secrets import customer_salt
from vocflow.settings import Settings
from vocflow.store import Store


def test_salt_comes_from_env_then_secret_block_then_the_store(prefect_harness, tmp_path: Path):
    from prefect.blocks.system import Secret

    Secret(value="block-salt").save("vocflow-test-salt", overwrite=True)
    with Store(tmp_path / "s.duckdb") as store:
        from_env = Settings(customer_key_salt="env-salt", customer_key_salt_block="x")
        assert customer_salt(from_env, store) == "env-salt"
        from_block = Settings(customer_key_salt_block="vocflow-test-salt")
        assert customer_salt(from_block, store) == "block-salt"
        generated = customer_salt(Settings(), store)
        assert len(generated) == 32
        assert customer_salt(Settings(), store) == generated  # stable for the store
