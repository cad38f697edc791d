"""The harness itself: what counts as the live server's requests in flight, which every
browser test's teardown waits on before the database is emptied."""

from __future__ import annotations

import threading

import requests
from django.contrib.auth.models import User
from django.core.signals import request_started
from django.db import connections
from django.test import Client
from django.urls import reverse

from tests.e2e.conftest import _in_flight


def test_a_test_clients_unread_stream_in_another_thread_is_not_the_live_servers(
    live_server, alice: User
):
    # Django's request signals would count this one and never uncount it: it runs outside the
    # main thread, and its streamed answer, never read, never says it finished.
    client = Client()
    client.force_login(alice)
    answers = []

    def read() -> None:
        try:
            answers.append(client.get(reverse("paylink:account-export")))
        finally:
            # The thread's own connection, or it outlives the test and PostgreSQL refuses to
            # drop the test database at the end of the run ("being accessed by other users").
            connections.close_all()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert answers[0].streaming
    assert _in_flight.count == 0


def test_the_live_servers_requests_are_counted_while_answered_and_not_after(live_server):
    seen: list[int] = []

    def started(**kwargs: object) -> None:
        seen.append(_in_flight.count)

    request_started.connect(started, dispatch_uid="test-live-server-count")
    try:
        assert requests.get(live_server.url + "/healthz", timeout=5).status_code == 200
    finally:
        request_started.disconnect(dispatch_uid="test-live-server-count")
    assert seen == [1]
    assert _in_flight.count == 0
