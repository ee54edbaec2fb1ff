"""Headless Chromium for report tests: find the browser, open a file, record what happens.

Playwright drives the system Chromium (``executable_path``), so nothing is downloaded. A
missing browser fails the test with the fix (``make browser``) rather than skipping it in
silence; ``VOCFLOW_SKIP_BROWSER=1`` opts out explicitly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    """Path of the Chromium binary, or a pytest skip/failure that says what to do."""
    found = os.environ.get("VOCFLOW_CHROMIUM") or next(
        (p for p in map(shutil.which, CANDIDATES) if p), None
    )
    if os.environ.get("VOCFLOW_SKIP_BROWSER") == "1":
        pytest.skip("VOCFLOW_SKIP_BROWSER=1: browser tests opted out")
    if found is None:
        pytest.fail(
            "Chromium not found: run `make browser` (apt-get install -y chromium fonts-noto-cjk),"
            " set VOCFLOW_CHROMIUM to its path, or opt out with VOCFLOW_SKIP_BROWSER=1",
            pytrace=False,
        )
    return found


@dataclass
class PageLog:
    """What the page did while it loaded: console messages, errors, requests, dialogs."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextmanager
def open_page(path: Path, width: int = 1100, height: int = 900) -> Iterator[tuple[Any, PageLog]]:
    """Open a local HTML file in headless Chromium and log what it does.

    Args:
        path: The HTML file.
        width: Viewport width in CSS pixels.
        height: Viewport height in CSS pixels.

    Yields:
        The Playwright page (loaded) and its log.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail("playwright is not installed: `pip install -e .[dev]`", pytrace=False)
    executable = chromium_path()
    log = PageLog()
    with sync_playwright() as pw:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
        browser = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.on(
                "console",
                lambda m: log.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))
            context.on("request", lambda r: log.requests.append(r.url))

            def _dialog(dialog: Any) -> None:
                log.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", _dialog)
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield page, log
        finally:
            browser.close()
