"""Headless Chromium for the console's browser tests, or a clear skip.

Debian's ``chromium`` package drives Playwright for Python (``executable_path``); Playwright's
own browser download is never used. Without either, the tests skip and say why, unless
``PARTNER_SYNC_REQUIRE_BROWSER=1`` (set by CI), which makes the absence a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REQUIRE_ENV = "PARTNER_SYNC_REQUIRE_BROWSER"
CHROMIUM_ENV = "PARTNER_SYNC_CHROMIUM"


def chromium_path() -> str | None:
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if os.path.exists(named) else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: browser tests must run)")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (a Playwright ``Browser``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium found (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()
