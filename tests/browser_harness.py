"""Browser harness: Debian's Chromium driven by Playwright's sync API, shared by every browser
test in the suite (`tests/simulator/browser`, `tests/e2e`). Loaded from tests/conftest.py as a
plugin, so there is one driver and one browser per session, whatever order the tests run in.

The browser is Chromium's headless shell (package chromium-headless-shell, built from the same
source: the same Blink and V8 without the desktop browser around them, which is what Playwright
itself runs for headless tests, at about half the CPU). `TEST_CHROMIUM=/usr/bin/chromium` runs the
same tests in the full browser, headless, as CI does for its second run.

Fixtures: `playwright` and `browser` (session), `context` and `page` (new per test), and
`browser_log` (what the page printed or threw). Never downloads a browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

CHROMIUM = os.environ.get("TEST_CHROMIUM") or "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow shared machine, short enough that a broken flow fails quickly.
DEFAULT_TIMEOUT_MS = 15_000
# How long an `expect` waits unless it says: Playwright's own 5 s was too short for a step of
# Transact's keyboard flow on this 2-core machine running the suite on four workers.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver
        # While the driver runs, asyncio counts its event loop as running in this thread, so
        # Django keeps this thread's database connections apart (asgiref's Local, per context)
        # from those it keeps when no loop runs. Closed now, or the connections opened since the
        # first browser test outlive the driver and PostgreSQL refuses to drop the test database.
        connections.close_all()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        # Never a skip: a green run without the browser tests would be a lie.
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM} (TEST_CHROMIUM chooses "
            "it). Install it with 'apt-get install chromium-headless-shell', or 'chromium' for "
            "the full browser (make test installs the first itself when run as root).",
            pytrace=False,
        )
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context()
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield ctx
    ctx.close()


@dataclass
class BrowserLog:
    """What the page (and its frames) printed as errors, and the exceptions it threw."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(context: BrowserContext, browser_log: BrowserLog) -> Iterator[Page]:
    tab = context.new_page()
    tab.on("pageerror", lambda error: browser_log.page_errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            browser_log.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    yield tab
    # An uncaught exception in any script is a defect, even when the flow still passed.
    if browser_log.page_errors:
        pytest.fail(f"the page threw: {browser_log.page_errors}")
