"""Known-vulnerability audit of requirements.lock with pip-audit, honest about what it checked.

pip-audit needs advisory data from the network: PyPI's per-release JSON API (``-s pypi``) or
OSV (``-s osv``). Where neither answers (an offline CI machine, a registry proxy that serves
only the package index), pip-audit marks every package "could not be audited" and prints
"No known vulnerabilities found", which reads like a pass. This script tells the outcomes apart:

* vulnerabilities found: lists them, exit 1 (fails CI);
* advisory data unreachable for most packages: prints NOT AUDITED with the reason, exit 0, or
  exit 2 with ``--strict`` (for a machine that is expected to reach the data);
* everything checked, nothing found: exit 0.

pip-audit runs from its own virtualenv (.cache/audit-venv) so the project's environment stays
exactly the lock.

Usage: python scripts/audit_deps.py [--lock requirements.lock] [--strict]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".cache" / "audit-venv"
REPORT = ROOT / ".cache" / "audit.json"
PIP_AUDIT = "pip-audit==2.10.1"
# More than this share of packages unaudited means the advisory data was not reachable.
UNREACHABLE_SHARE = 0.5


def summarize(report: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """Splits a pip-audit JSON report into findings, skipped packages and the package count.

    Args:
        report: pip-audit ``--format json`` output.

    Returns:
        ``(findings, skipped, total)``: one line per vulnerability ("name version: id
        (fix: versions)"), one line per package that could not be audited, and the number
        of packages in the report.
    """
    findings: list[str] = []
    skipped: list[str] = []
    dependencies = report.get("dependencies", [])
    for dep in dependencies:
        name, version = dep.get("name", "?"), dep.get("version", "?")
        if dep.get("skip_reason"):
            skipped.append(f"{name}: {dep['skip_reason']}")
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none"
            findings.append(f"{name} {version}: {vuln.get('id')} (fix: {fixes})")
    return findings, skipped, len(dependencies)


def verdict(findings: list[str], skipped: list[str], total: int, strict: bool) -> tuple[int, str]:
    """Decides the exit code and the message for a summarized report."""
    if findings:
        return 1, "VULNERABLE:\n  " + "\n  ".join(findings)
    if total == 0 or len(skipped) > UNREACHABLE_SHARE * total:
        reason = skipped[0] if skipped else "empty report"
        message = (
            f"NOT AUDITED: {len(skipped)} of {total} packages could not be checked, so the "
            f"advisory data was not reachable from here (first: {reason})"
        )
        return (2 if strict else 0), message
    note = f" ({len(skipped)} not on PyPI, e.g. local builds)" if skipped else ""
    return 0, f"audited {total - len(skipped)} of {total} packages: no known vulnerabilities{note}"


def _pip_audit(lock: Path) -> dict[str, Any] | str:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    install = subprocess.run(  # noqa: S603 - fixed argv
        [str(python), "-m", "pip", "install", "--quiet", PIP_AUDIT],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        return f"cannot install {PIP_AUDIT}: {install.stderr.strip()[-300:]}"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(  # noqa: S603 - fixed argv
        [str(VENV / "bin" / "pip-audit"), "--requirement", str(lock), "--no-deps",
         "--disable-pip", "--progress-spinner", "off", "--format", "json",
         "--output", str(REPORT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not REPORT.is_file():
        return f"pip-audit failed (exit {run.returncode}): {run.stderr.strip()[-300:]}"
    loaded: dict[str, Any] = json.loads(REPORT.read_text(encoding="utf-8"))
    return loaded


def main(argv: list[str] | None = None) -> int:
    """Runs the audit; see the module docstring for exit codes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--strict", action="store_true", help="exit 2 when not audited")
    args = parser.parse_args(argv)
    report = _pip_audit(args.lock)
    if isinstance(report, str):
        code, message = (2 if args.strict else 0), f"NOT AUDITED: {report}"
    else:
        code, message = verdict(*summarize(report), strict=args.strict)
    sys.stdout.write(f"dependency audit: {message}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
