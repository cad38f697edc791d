"""The broker for real: a sync and a signed webhook enqueued as the host enqueues them, then run
to completion by the worker production runs (`manage.py paylink_db_worker --batch`: every
outstanding task, then it exits).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command

from paylink.models import AccountSnapshot, Profile, Task, WebhookEvent, WebhookState
from paylink.services.accounts import accounts_sync_request

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parent.parent / "fixtures"
HULU = json.loads((FIXTURES / "atomic/accounts_hulu.json").read_text())
SECRET = "worker-test-secret"
QUEUES = ["webhooks", "default", "atomic"]


def run_database_worker() -> None:
    # The worker sets its loggers' levels for the whole process: put them back for later tests.
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [logger.level for logger in loggers]
    try:
        call_command(
            "paylink_db_worker",
            queue_name="*",
            batch=True,
            reload=False,
            startup_delay=False,
            verbosity=0,
        )
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.fixture
def broker(settings):
    """The database backend, as production configures it; its worker."""
    settings.ATOMIC_API_SECRET = SECRET
    settings.TASKS = {
        "default": {"BACKEND": django_settings.DATABASE_TASKS_BACKEND, "QUEUES": QUEUES}
    }
    return run_database_worker


@pytest.fixture
def atomic():
    fake = mock.Mock()
    fake.accounts_get.return_value = HULU
    with mock.patch("paylink.client.atomic_client", return_value=fake):
        yield fake


def person(name: str) -> Profile:
    user = User.objects.create_user(name, password=f"{name}-pass-1234")
    return Profile.objects.create(user=user, identifier=f"hub_{name}")


def deliver_signed(client, body: bytes) -> int:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"ce-id": "ce-worker-1", "X-HMAC-Signature-Sha-256": signature}
    return client.post(
        "/webhooks/atomic/", data=body, content_type="application/json", headers=headers
    ).status_code


def test_the_worker_runs_an_enqueued_sync_and_a_webhook_to_completion(broker, atomic, client):
    alice, bob = person("alice"), person("bob")
    assert accounts_sync_request(profile=bob)
    body = (FIXTURES / "webhooks/task_status_updated_completed.json").read_bytes()
    assert deliver_signed(client, body) == 200
    # Enqueued, not run: nothing has happened before the worker starts.
    assert WebhookEvent.objects.get().state == WebhookState.RECEIVED
    atomic.accounts_get.assert_not_called()

    broker()

    event = WebhookEvent.objects.get()
    assert (event.state, event.error) == (WebhookState.PROCESSED, "")
    assert Task.objects.get(atomic_id="task-alice-1", profile=alice).status == "completed"
    # The completed task asked for alice's sync, which the same worker run picked up.
    assert sorted(c.kwargs["identifier"] for c in atomic.accounts_get.call_args_list) == [
        "hub_alice",
        "hub_bob",
    ]
    for profile in (alice, bob):
        snapshot = AccountSnapshot.objects.get(profile=profile)
        assert (snapshot.payload, snapshot.version) == (HULU, 1)
        assert snapshot.sync_queued_at is None
