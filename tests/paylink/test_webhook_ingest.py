"""Webhook ingest is one short transaction: the event is stored and its processing queued (a row
of the database task queue) together, committed once, in no more queries than that needs."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from paylink.models import WebhookEvent, WebhookState

SECRET = "webhook-ingest-secret"
FIXTURE = (
    Path(__file__).parent.parent
    / "fixtures"
    / "webhooks"
    / "task_authentication_status_updated.json"
)
DATABASE_QUEUE = "django_tasks_db.DatabaseBackend"


@pytest.fixture
def database_queue(settings: Any) -> None:
    settings.ATOMIC_API_SECRET = SECRET
    settings.TASKS = {"default": {**settings.TASKS["default"], "BACKEND": DATABASE_QUEUE}}


def deliver(ce_id: str) -> tuple[int, list[str]]:
    body = FIXTURE.read_bytes()
    headers = {
        "ce-id": ce_id,
        "ce-type": "com.atomicfi.task-authentication-status-updated",
        "X-HMAC-Signature-Sha-256": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }
    with CaptureQueriesContext(connection) as queries:
        status = (
            Client()
            .post("/webhooks/atomic/", data=body, content_type="application/json", headers=headers)
            .status_code
        )
    return status, [query["sql"].split()[0].upper() for query in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_an_accepted_webhook_is_stored_and_queued_in_one_transaction(database_queue: None) -> None:
    status, statements = deliver("ce-one")

    assert status == 200
    if connection.vendor == "postgresql":
        # The event and its job in one statement, its own transaction: one round trip.
        assert statements == ["WITH"]
    else:
        # Begin, the event, its job, commit: nothing else, and one commit.
        assert statements == ["BEGIN", "INSERT", "INSERT", "COMMIT"]
    event = WebhookEvent.objects.get()
    assert event.state == WebhookState.RECEIVED
    job = DBTaskResult.objects.get()
    assert job.task_path == "paylink.tasks.webhook_event_process"
    assert (job.status, job.queue_name) == ("READY", "webhooks")
    assert job.args_kwargs["args"] == [event.pk]
    assert job.task_result.args == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_leaves_no_half_written_event(database_queue: None) -> None:
    deliver("ce-one")

    status, _ = deliver("ce-one")

    assert status == 200
    states = sorted(WebhookEvent.objects.values_list("state", flat=True))
    assert states == sorted([WebhookState.RECEIVED, WebhookState.DUPLICATE])
    received = WebhookEvent.objects.get(state=WebhookState.RECEIVED)
    assert json.loads(received.body)
    # Every job queued is the received event's (a copy may queue it again: a second run is a
    # no-op); none is the duplicate's.
    jobs = DBTaskResult.objects.values_list("args_kwargs", flat=True)
    assert {job["args"][0] for job in jobs} == {received.pk}


def kept_connection() -> None:
    """The test's connection as a request finds a kept one: open, its health check due."""
    connection.ensure_connection()
    connection.health_check_done = False  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_is_not_checked_before_the_webhooks_one_statement(
    database_queue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept_connection()
    checks: list[bool] = []
    check = connection.is_usable

    def counted() -> bool:
        checks.append(check())
        return checks[-1]

    monkeypatch.setattr(connection, "is_usable", counted)

    status, statements = deliver("ce-one")

    assert status == 200
    if connection.vendor == "postgresql":
        # Django's check (a SELECT 1 of its own, not among the captured queries) was not made:
        # the statement itself found the connection alive.
        assert (statements, checks) == (["WITH"], [])
    else:
        # SQLite's transaction of two statements is checked as Django checks any.
        assert statements == ["BEGIN", "INSERT", "INSERT", "COMMIT"]
    assert WebhookEvent.objects.get().state == WebhookState.RECEIVED


@pytest.mark.django_db(transaction=True)
def test_a_webhook_on_a_kept_connection_the_server_closed_is_stored_on_a_new_one(
    database_queue: None,
) -> None:
    from django.db import connections

    kept_connection()
    # SQLite has no server to close it: there, the kept connection is simply used.
    postgresql = connection.vendor == "postgresql"
    backend = connection.connection.info.backend_pid if postgresql else None
    if postgresql:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])
        finally:
            other.close()

    status, _ = deliver("ce-one")

    assert status == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookState.RECEIVED
    assert DBTaskResult.objects.get().args_kwargs["args"] == [event.pk]
    if postgresql:
        assert connection.connection.info.backend_pid != backend


@pytest.mark.django_db(transaction=True)
def test_a_copy_on_a_kept_connection_is_still_a_duplicate(database_queue: None) -> None:
    deliver("ce-one")
    kept_connection()

    status, _ = deliver("ce-one")

    assert status == 200
    states = sorted(WebhookEvent.objects.values_list("state", flat=True))
    assert states == sorted([WebhookState.RECEIVED, WebhookState.DUPLICATE])


def test_the_webhook_path_is_resolved_once_per_urlconf(
    db: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.urls import clear_url_caches
    from django.urls.resolvers import URLResolver

    settings.ATOMIC_API_SECRET = SECRET
    # A resolver of this test's own, as after a start.
    clear_url_caches()
    resolved: list[str] = []
    resolve = URLResolver.resolve

    def counted(self: URLResolver, path: str) -> Any:
        resolved.append(path)
        return resolve(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counted)
    assert [deliver(f"ce-{n}")[0] for n in range(3)] == [200, 200, 200]
    assert resolved.count("/webhooks/atomic/") == 1

    # Another URLconf (Django clears its URL caches) is asked again.
    settings.ROOT_URLCONF = "bench.urls"
    assert deliver("ce-3")[0] == 200
    assert resolved.count("/webhooks/atomic/") == 2
