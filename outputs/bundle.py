"""Write a report bundle to disk and refresh ``latest/`` without exposing a partial copy.

Layout::

    reports_dir/<run_id>/report.html, report.md, pain_points.csv, pain_points.parquet, run.json,
                         headline.json (figures and ranks the next run compares with)
                         plus any extra tables (e.g. theme_trends.csv, followup.csv)
    reports_dir/latest/   an exact copy of the newest full-scope bundle (the nightly run's)
    reports_dir/latest-<scope> -> <run_id>   a link to the newest bundle of a narrower run

``latest/`` is what product teams open, so an ad-hoc run on one source or language never
replaces it; its own ``latest-<scope>`` link is swapped in atomically instead.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from outputs.history import HEADLINE_FILE, changes_since, headline, previous_headline
from outputs.html import render_html
from outputs.markdown import render_markdown
from outputs.report import Report
from outputs.tables import pain_points_frame

LATEST = "latest"
BUNDLE_FILES: tuple[str, ...] = (
    "report.html",
    "report.md",
    "pain_points.csv",
    "pain_points.parquet",
    "run.json",
    HEADLINE_FILE,
)


def check_run_id(run_id: str) -> str:
    """Reject run ids that could escape ``reports_dir`` or clash with its bookkeeping.

    Args:
        run_id: The run identifier used as a folder name.

    Returns:
        The run id, unchanged.

    Raises:
        ValueError: If it is empty, contains a path separator, "..", a NUL byte, starts
            with "." (temporary folders), or is "latest" or "latest-*".
    """
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    if (
        not run_id
        or any(sep in run_id for sep in separators)
        or ".." in run_id
        or "\x00" in run_id
        or run_id.startswith(".")
        or run_id == LATEST
        or run_id.startswith(f"{LATEST}-")
    ):
        raise ValueError(f"unsafe run_id for a report folder: {run_id!r}")
    return run_id


def _check_table_name(name: str) -> str:
    # Extra tables become file names inside the bundle: plain "*.csv" names only.
    if not name.endswith(".csv") or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"unsafe extra table name: {name!r}")
    if name in BUNDLE_FILES:
        raise ValueError(f"extra table {name!r} would replace a bundle file")
    return name


def _write_files(
    report: Report, run_json: dict[str, Any], folder: Path, extra: dict[str, pd.DataFrame]
) -> None:
    for name, table in extra.items():
        table.to_csv(folder / _check_table_name(name), index=False, encoding="utf-8")
    frame = pain_points_frame(report)
    # Compared with the newest earlier bundle of the same scope, read before this one lands.
    changes = changes_since(report, previous_headline(folder.parent, report))
    (folder / "report.html").write_text(render_html(report, changes), encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report, changes), encoding="utf-8")
    (folder / HEADLINE_FILE).write_text(headline(report).model_dump_json(indent=2), "utf-8")
    frame.to_csv(folder / "pain_points.csv", index=False, encoding="utf-8")
    frame.to_parquet(folder / "pain_points.parquet", index=False)
    text = json.dumps(run_json, default=str, indent=2, ensure_ascii=False)
    (folder / "run.json").write_text(text + "\n", encoding="utf-8")


def _swap_in(staged: Path, target: Path) -> None:
    # rename(2) cannot replace a non-empty directory, so the old copy is moved aside first:
    # a reader may briefly find no target, but never a half-written one.
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        target.rename(old / target.name)
    staged.rename(target)
    if old is not None:
        shutil.rmtree(old)


def latest_path(reports_dir: Path, scope: str | None = None) -> Path:
    """Where the newest bundle of a scope is found: ``latest/`` or ``latest-<scope>``."""
    if scope is not None and (not scope or "/" in scope or scope.startswith(".")):
        raise ValueError(f"unsafe report scope: {scope!r}")
    return Path(reports_dir) / (LATEST if scope is None else f"{LATEST}-{scope}")


def _link_in(reports_dir: Path, link: Path, run_id: str) -> None:
    # A relative link, swapped in with rename(2): readers see the old or the new, never none.
    staged = reports_dir / f".{link.name}.tmp-{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(run_id, target_is_directory=True)
    os.replace(staged, link)


def write_bundle(
    report: Report,
    reports_dir: Path,
    run_json: dict[str, Any],
    extra_tables: dict[str, pd.DataFrame] | None = None,
    scope: str | None = None,
) -> Path:
    """Write the report bundle for ``report.run_id`` and point the scope's latest at it.

    The full scope (``scope`` None) makes ``latest/`` a copy of the bundle; a narrower run
    makes ``latest-<scope>`` a link to it and leaves ``latest/`` alone. Folders are first
    written in full under temporary names in ``reports_dir`` and then renamed into place, so
    none is ever seen half-written.

    Args:
        report: The report to render.
        reports_dir: Root folder of all bundles (created if missing).
        run_json: Run metadata, written as ``run.json`` (non-JSON values via ``str``).
        extra_tables: File name ("*.csv") -> table, written beside the standard files.
        scope: The run's ``RunParameters.report_scope()``; None for the full scope.

    Returns:
        The run's folder, ``reports_dir / report.run_id``.

    Raises:
        ValueError: If ``report.run_id`` is not a safe folder name, or an extra table's
            name is not a plain ``*.csv`` file name.
    """
    extra = {_check_table_name(k): v for k, v in (extra_tables or {}).items()}
    run_id = check_run_id(report.run_id)
    reports_dir = Path(reports_dir)
    latest = latest_path(reports_dir, scope)
    reports_dir.mkdir(parents=True, exist_ok=True)
    staged_run = Path(tempfile.mkdtemp(prefix=f".{run_id}.tmp-", dir=reports_dir))
    staged_latest = (
        Path(tempfile.mkdtemp(prefix=f".{LATEST}.tmp-", dir=reports_dir)) if scope is None else None
    )
    try:
        # mkdtemp makes 0700 folders; reports are meant to be read by other users and
        # by whatever serves them, so open them up like a normal mkdir would.
        staged_run.chmod(0o755)
        _write_files(report, run_json, staged_run, extra)
        if staged_latest is not None:
            staged_latest.chmod(0o755)
            for name in (*BUNDLE_FILES, *extra):
                shutil.copy2(staged_run / name, staged_latest / name)
        run_dir = reports_dir / run_id
        _swap_in(staged_run, run_dir)
        if staged_latest is not None:
            _swap_in(staged_latest, latest)
        else:
            _link_in(reports_dir, latest, run_id)
    finally:
        for leftover in (staged_run, staged_latest):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover)
    return run_dir
