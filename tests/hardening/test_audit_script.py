"""The dependency audit tells a clean audit, a finding and an unreachable advisory service apart."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module
    spec.loader.exec_module(module)
    return module


def _dep(name, vulns=(), skip=None):
    dep = {"name": name, "version": "1.0", "vulns": list(vulns)}
    if skip:
        dep["skip_reason"] = skip
    return dep


def test_a_vulnerability_fails_even_if_other_packages_were_skipped(audit):
    report = {"dependencies": [
        _dep("jinja2", [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]),
        _dep("a", skip="not found"), _dep("b", skip="not found"),
    ]}  # fmt: skip
    code, message = audit.verdict(*audit.summarize(report), strict=False)
    assert code == 1 and "jinja2 1.0: GHSA-h5c8-rqwp-cp95 (fix: 3.1.3)" in message


def test_all_packages_skipped_is_reported_as_not_audited_not_as_a_pass(audit):
    report = {"dependencies": [_dep(n, skip="Dependency not found on PyPI") for n in "abc"]}
    code, message = audit.verdict(*audit.summarize(report), strict=False)
    assert code == 0 and message.startswith("NOT AUDITED: 3 of 3")
    strict_code, _ = audit.verdict(*audit.summarize(report), strict=True)
    assert strict_code == 2


def test_a_clean_audit_passes_and_names_local_builds(audit):
    report = {"dependencies": [_dep("a"), _dep("b"), _dep("torch", skip="local build")]}
    code, message = audit.verdict(*audit.summarize(report), strict=True)
    assert code == 0 and "audited 2 of 3" in message and "1 not on PyPI" in message
