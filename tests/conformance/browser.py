"""Debian's chromium, driven headless through chromedriver (selenium), for the HTML report's tests.

The browser is a real component these tests need: when it is missing they fail with how to install it, unless
``AUP_NO_BROWSER=1`` says to skip them on purpose.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

INSTALL = "apt-get install chromium chromium-driver (Debian), or set AUP_NO_BROWSER=1 to skip the browser tests"
PAGE_LOAD_TIMEOUT_S = 30


def _executable(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A headless chromium that cannot reach any host: every name resolves nowhere, so a page that fetched
    anything would show it as a failed resource."""
    browser = _executable("chromium", "chromium-browser", "google-chrome")
    driver = _executable("chromedriver")
    if browser is None or driver is None:
        if os.environ.get("AUP_NO_BROWSER") == "1":
            pytest.skip("AUP_NO_BROWSER=1: the HTML report's browser tests are skipped on purpose")
        pytest.fail(f"no chromium or chromedriver on PATH: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
    try:
        yield session
    finally:
        session.quit()
