"""``vocflow sources list`` and ``vocflow sources check`` against local contract fakes.

Two Zendesk sources on one account (two brands) are declared in a temporary config; ``check``
authenticates and reads one page, and explains a wrong token and an unreachable host.
All data is synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.connectors.contract import zendesk
from tests.connectors.contract.server import ContractServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[ContractServer]:
    with ContractServer(zendesk.ZendeskApp()) as running:
        yield running


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: list[dict[str, Any]]):
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"] = sources
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base), "utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setenv("COLUMNS", "250")


def _zendesk(name: str, url: str, brand: int, env: str = "ZENDESK_API_TOKEN") -> dict[str, Any]:
    return {"name": name, "kind": "zendesk", "description": f"synthetic brand {brand}",
            "options": {"base_url": url, "email": zendesk.EMAIL, "brand_id": brand,
                        "token": {"env": env}, "retry": {"max_attempts": 2,
                                                          "backoff_base": 0.001}}}  # fmt: skip


def _run(*args: str) -> tuple[int, str]:
    from vocflow.cli import app

    result = CliRunner().invoke(app, ["sources", *args])
    return result.exit_code, " ".join(result.output.split())


def test_list_and_check_two_brands_of_one_account(tmp_path, monkeypatch, server):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    _project(tmp_path, monkeypatch, [_zendesk("zendesk-brand-a", server.url, 1),
                                     _zendesk("zendesk-brand-b", server.url, 2)])  # fmt: skip
    code, output = _run("list")
    assert code == 0
    assert "zendesk-brand-a" in output and "zendesk-brand-b" in output and "zendesk" in output
    code, output = _run("check", "zendesk-brand-b")
    assert code == 0, output
    assert output.startswith("ok") and "authenticated" in output
    assert len(server.requests) == 1


def test_check_explains_a_wrong_token(tmp_path, monkeypatch, server):
    monkeypatch.setenv("ZD_EU_TOKEN", "not-the-token")
    _project(tmp_path, monkeypatch, [_zendesk("zendesk-eu", server.url, 1, "ZD_EU_TOKEN")])
    code, output = _run("check", "zendesk-eu")
    assert code == 1
    assert "HTTP 401" in output and "$ZD_EU_TOKEN" in output and "not-the-token" not in output


def test_check_explains_an_unreachable_host(tmp_path, monkeypatch, server):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    dead = ContractServer(server.app)
    url = dead.url
    dead._httpd.server_close()
    _project(tmp_path, monkeypatch, [_zendesk("zendesk-eu", url, 1)])
    code, output = _run("check", "zendesk-eu")
    assert code == 1
    assert "cannot reach 127.0.0.1" in output and "base_url" in output


def test_check_explains_a_missing_secret_and_a_bad_option(tmp_path, monkeypatch, server):
    monkeypatch.delenv("ZENDESK_API_TOKEN", raising=False)
    bad = _zendesk("zendesk-bad", server.url, 1)
    bad["options"]["per_page"] = 5000
    _project(tmp_path, monkeypatch, [_zendesk("zendesk-eu", server.url, 1), bad])
    code, output = _run("check", "zendesk-eu")
    assert code == 1 and "set $ZENDESK_API_TOKEN" in output
    code, output = _run("check", "zendesk-bad")
    assert code == 1 and "invalid options" in output and "per_page" in output


def test_commented_http_examples_in_the_config_are_valid(tmp_path):
    """The commented HTTP sources in configs/vocflow.yaml build once uncommented."""
    from connectors.registry import build_connector

    lines = (REPO / "configs/vocflow.yaml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  # - name: zendesk"))
    block = [line.replace("  # ", "  ", 1) for line in lines[start:] if line.startswith("  # ")]
    sources = yaml.safe_load("\n".join(block))
    kinds = ["zendesk", "zendesk", "typeform", "freshdesk", "google_play", "trustpilot", "reddit"]
    kinds += ["intercom", "app_store", "mastodon", "youtube", "qualtrics", "surveymonkey"]
    kinds += ["delighted"]
    assert [s["kind"] for s in sources] == kinds
    for source in sources:
        connector = build_connector(source["name"], source["kind"], source["options"],
                                    base_dir=tmp_path, customer_salt="s")  # fmt: skip
        assert connector.name == source["name"]
