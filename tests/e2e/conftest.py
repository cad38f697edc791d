"""End to end: the host on pytest-django's live server, the simulator as a real process,
and Debian's Chromium between them. The host talks to the simulator exactly as it would
talk to Atomic: its API, its Transact origin and SDK, and signed webhooks back.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.servers import basehttp
from django.test import Client
from django.utils.csp import CSP
from playwright.sync_api import Page

from tests.people import password_of
from tests.waiting import wait_until

_HERE = Path(__file__).resolve().parent
PASSWORD = password_of("alice")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


class _RequestsInFlight:
    """Which of the live server's threads are answering a request: from the moment the server
    hands it a request to the moment it is done with it, whatever happens in between.

    Django's request_started and request_finished signals are not enough: a client that resets
    the connection while the server reads what is left of an unread body (a POST answered 429
    before its body is read, say) makes the server give up before it closes the response, so
    request_finished is never sent and the request would count as in flight for ever.
    """

    def __init__(self) -> None:
        self.threads: dict[int, int] = {}
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return sum(self.threads.values())

    def serve(self, handler: basehttp.ServerHandler, application: Any) -> None:
        ident = threading.get_ident()
        with self._lock:
            self.threads[ident] = self.threads.get(ident, 0) + 1
        try:
            _serve(handler, application)
        finally:
            with self._lock:
                self.threads[ident] -= 1
                if not self.threads[ident]:
                    del self.threads[ident]

    def stacks(self) -> str:
        """Where each request still in flight is, to say in a failure what it waits on."""
        frames = sys._current_frames()
        where = ["".join(traceback.format_stack(frames[i])) for i in self.threads if i in frames]
        return "\n".join([f"{self.count} still in flight", *where])


_in_flight = _RequestsInFlight()
_serve = basehttp.ServerHandler.run


def _counted_run(handler: basehttp.ServerHandler, application: Any) -> None:
    _in_flight.serve(handler, application)


# The live server's threads run every request through ServerHandler.run (this process runs no
# other server), so wrapping it counts exactly the requests it is answering.
basehttp.ServerHandler.run = _counted_run


@pytest.fixture(autouse=True)
def live_requests_settle() -> Iterator[None]:
    """Once a test's browser has closed (its fixtures end before this one), wait for the live
    server's last requests to end before the database is emptied: a poll still reading while the
    flush's TRUNCATE locks the tables one by one deadlocks on PostgreSQL."""
    yield
    wait_until(
        lambda: _in_flight.count == 0,
        what="the live server to finish the requests it was answering",
        timeout=10,
        detail=_in_flight.stacks,
    )


@pytest.fixture
def host(live_server, simulator, settings) -> Iterator[str]:
    """The host's URL, configured against the simulator, which sends its webhooks back."""
    settings.ATOMIC_API_URL = simulator.url
    settings.ATOMIC_API_KEY = simulator.api_key
    settings.ATOMIC_API_SECRET = simulator.api_secret
    settings.ATOMIC_TRANSACT_ORIGIN = simulator.url
    settings.ATOMIC_TRANSACT_SDK_URL = simulator.url + "/sdk/transact.js"
    settings.ATOMIC_TRANSACT_SDK_INTEGRITY = ""
    # Waiting pages ask again after a quarter second, not two: the same polls, sooner.
    settings.PAYLINK_POLL_SECONDS = 0.25
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "script-src": [CSP.SELF, CSP.NONCE, settings.ATOMIC_TRANSACT_SDK_URL],
        "frame-src": [simulator.url],
    }
    simulator.reset()
    simulator.configure(webhook_url=live_server.url + "/webhooks/atomic/")
    yield live_server.url
    simulator.reset()


@pytest.fixture
def signed_in(page: Page, host: str, alice: User) -> Page:
    """Alice, signed in, on her dashboard. Her session is made on the server and handed to the
    browser (the sign-in page itself has its own test below), which keeps each test short."""
    client = Client()
    client.force_login(alice)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": host,
            }
        ]
    )
    page.goto(host + "/")
    return page


def sign_in_through_the_page(page: Page, host: str) -> None:
    page.goto(host + "/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(host + "/")
