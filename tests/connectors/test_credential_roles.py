"""``vocflow sources check`` says what role a credential needs, and so do 401/403 errors.

A valid token without the vendor's role is refused like a wrong one (Zendesk's admin-only
exports), or sees less without a word (a Freshdesk agent without Global ticket scope): the role
is part of what to fix. Each connector here declares ``credential_role``; these tests hold the
check command and the refusal messages to it, against the local contract fakes. All data is
synthetic; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from connectors.base import ConnectorError
from tests.connectors.contract import freshdesk, zendesk
from tests.connectors.contract.kits import KITS, Kit
from tests.connectors.contract.server import ContractServer

REPO = Path(__file__).resolve().parents[2]
# The kinds whose role this change set; the social and Play connectors declare theirs apart.
KINDS = ["zendesk", "freshdesk", "intercom", "trustpilot", "app_store", "qualtrics", "typeform",
         "delighted", "surveymonkey"]  # fmt: skip
ROLES = {
    "zendesk": "Zendesk admin (incremental exports are admin-only)",
    "freshdesk": "Freshdesk agent with Global ticket scope",
    "intercom": "Read conversations permission",
    "trustpilot": "Trustpilot Business account",
    "app_store": "Customer Support or Admin role",
    "qualtrics": "Access API permission",
    "typeform": "responses:read scope",
    "delighted": "Delighted project API key",
    "surveymonkey": "responses_read_detail",
}


def _kit(kind: str) -> Kit:
    return next(k for k in KITS if k.kind == kind)


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_credential_names_the_role_it_needs(kind, monkeypatch):
    kit = _kit(kind)
    wrong, expected = kit.wrong_secret
    monkeypatch.setenv(kit.env_var[0], wrong)
    with ContractServer(kit.make_app()) as server:
        connector = kit.make(f"{kind}-test", kit.options(server.url), lambda s: None)
        with pytest.raises(ConnectorError) as raised:
            connector.check()
    role = getattr(connector, "credential_role", "")
    assert ROLES[kind] in role
    message = str(raised.value)
    assert expected in message and f"(needs: {role})" in message
    assert wrong not in message


@pytest.fixture
def zendesk_server() -> Iterator[ContractServer]:
    with ContractServer(zendesk.ZendeskApp(n=2)) as running:
        yield running


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: list[dict[str, Any]]):
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"] = sources
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base), "utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setenv("COLUMNS", "250")


def _source(name: str, kind: str, **options: Any) -> dict[str, Any]:
    retry = {"max_attempts": 2, "backoff_base": 0.001}
    return {"name": name, "kind": kind, "options": {**options, "retry": retry}}


def _check(name: str) -> tuple[int, str]:
    from vocflow.cli import app

    result = CliRunner().invoke(app, ["sources", "check", name])
    return result.exit_code, " ".join(result.output.split())


def test_check_prints_the_role_when_the_credential_works(tmp_path, monkeypatch, zendesk_server):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    _project(tmp_path, monkeypatch, [_source("zd", "zendesk", base_url=zendesk_server.url,
                                             email=zendesk.EMAIL)])  # fmt: skip
    code, output = _check("zd")
    assert code == 0, output
    assert output.startswith("ok")
    assert "credential needs: Zendesk admin (incremental exports are admin-only)" in output


def test_check_of_an_agent_says_the_exports_need_an_admin(tmp_path, monkeypatch, zendesk_server):
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.TOKEN)
    _project(tmp_path, monkeypatch, [_source("zd", "zendesk", base_url=zendesk_server.url,
                                             email=zendesk.AGENT_EMAIL)])  # fmt: skip
    code, output = _check("zd")
    assert code == 1
    assert "HTTP 403" in output and "'agent@example.com'" in output
    assert "needs: Zendesk admin (incremental exports are admin-only)" in output
    assert output.count("Zendesk admin") == 1  # said once, in the error


def test_check_names_the_role_even_when_the_secret_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("FRESHDESK_API_KEY", raising=False)
    with ContractServer(freshdesk.FreshdeskApp(n=1)) as server:
        _project(tmp_path, monkeypatch, [_source("fd", "freshdesk", base_url=server.url)])
        code, output = _check("fd")
    assert code == 1 and "set $FRESHDESK_API_KEY" in output
    assert "credential needs: Freshdesk agent with Global ticket scope" in output
