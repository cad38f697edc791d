"""Webhook ingest is one short transaction: the event is stored and its processing queued (a row
of the database task queue) together, committed once, in no more queries than that needs."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

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
def database_queue(settings):
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
def test_an_accepted_webhook_is_stored_and_queued_in_one_transaction(database_queue):
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
def test_a_duplicate_leaves_no_half_written_event(database_queue):
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
