"""Browser harness: Debian's Chromium driven by Playwright's sync API, and a throwaway
loopback web server that plays an integrator's page on an origin of its own.

Fixtures: `browser` (one per session), `context` and `page` (new per test), `browser_log`
(what the page printed or threw) and `integrator` (serve a page from another origin).
Every test in this folder is marked `browser`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow shared machine, short enough that a broken flow fails quickly.
DEFAULT_TIMEOUT_MS = 15_000

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
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


class IntegratorServer:
    """Serves registered pages and files from 127.0.0.1 on a free port of its own."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = routes.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: str | bytes, content_type: str = "text/html") -> str:
        """Register `body` at `path`; returns its full URL."""
        data = body.encode() if isinstance(body, str) else body
        if content_type.startswith(("text/", "application/javascript")):
            content_type += "; charset=utf-8"
        self.routes[path] = (content_type, data)
        return self.url + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def integrator_server() -> Iterator[IntegratorServer]:
    server = IntegratorServer()
    yield server
    server.stop()


@pytest.fixture
def integrator(integrator_server: IntegratorServer) -> Iterator[IntegratorServer]:
    """The integrator's origin, with no pages left over from another test."""
    integrator_server.routes.clear()
    yield integrator_server
    integrator_server.routes.clear()
