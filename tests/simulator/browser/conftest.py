"""The simulator's browser tests: a throwaway loopback web server that plays an integrator's
page on an origin of its own (`integrator`). The browser fixtures come from
tests/browser_harness.py. Every test in this folder is marked `browser`.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


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

        self.server = LoopbackServer(Handler)
        self.url = self.server.url

    def serve(self, path: str, body: str | bytes, content_type: str = "text/html") -> str:
        """Register `body` at `path`; returns its full URL."""
        data = body.encode() if isinstance(body, str) else body
        if content_type.startswith(("text/", "application/javascript")):
            content_type += "; charset=utf-8"
        self.routes[path] = (content_type, data)
        return self.url + path

    def stop(self) -> None:
        self.server.stop()


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
