"""Browser journeys: Playwright driving Debian's Chromium against the live test server.

Nothing is downloaded: Chromium comes from the machine (/usr/bin/chromium, or CHROMIUM_PATH),
and axe-core comes inside the axe-playwright-python package.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make around it
# are ordinary synchronous calls, so Django's async-safety guard would refuse them by mistake.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_axe = Axe()


@pytest.fixture(autouse=True)
def _indicator_catalogue(transactional_db: None) -> None:
    """Browser tests run on a database that is emptied between tests, which also empties the
    catalogue the migration loaded; load it again as a deployment would have it."""
    from opennrm.screening import catalogue, services
    from opennrm.screening.models import IndicatorCatalogue

    if not IndicatorCatalogue.objects.exists():
        services.catalogue_load(by=None, data=json.loads(catalogue.BUNDLED_PATH.read_text()))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server):
    """Makes pages in fresh browser contexts (separate cookies), as separate people would have."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


class AccessibilityLog:
    """Scans each page with axe and remembers which pages were scanned."""

    def __init__(self) -> None:
        self.scanned: list[str] = []

    def check(self, page: Page) -> None:
        page.wait_for_load_state("load")
        results = _axe.run(page)
        self.scanned.append(page.url)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture
def axe() -> AccessibilityLog:
    return AccessibilityLog()


def code_for_secret(secret: str) -> str:
    """The current six-digit code for a TOTP key shown on the set-up page."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key):06d}"


def secret_on(page: Page) -> str:
    return re.sub(r"\s", "", page.locator("#secret-key").inner_text())
