"""The same work through both real brokers: a sync and a signed webhook enqueued as the host
enqueues them, then run to completion by each backend's own worker.

- database: `manage.py db_worker --batch` (every outstanding task, then it exits);
- rq: RQ's in-process `SimpleWorker` in burst mode, on a Redis database of these tests' own
  (PAYLINK_TEST_RQ_URL, default redis://127.0.0.1:6379/11, flushed here).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from hubsite.task_backends import DATABASE_BACKEND, RQ_BACKEND, rq_queues
from paylink.models import AccountSnapshot, Task, WebhookEvent, WebhookState
from paylink.services import maintenance
from paylink.services.accounts import accounts_sync_request
from tests.atomic_json import FIXTURES, atomic_json

pytestmark = pytest.mark.django_db(transaction=True)

HULU = atomic_json("accounts/hulu")
SECRET = "worker-test-secret"
QUEUES = ["webhooks", "default", "atomic"]
RQ_URL = os.environ.get("PAYLINK_TEST_RQ_URL", "redis://127.0.0.1:6379/11")


def run_database_worker() -> None:
    # db_worker sets its loggers' levels for the whole process: put them back for later tests
    # (the request-id test reads django.tasks' own lines).
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [logger.level for logger in loggers]
    try:
        call_command(
            "db_worker", queue_name="*", batch=True, reload=False, startup_delay=False, verbosity=0
        )
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def run_rq_worker() -> None:
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    queues = [django_rq.get_queue(name, job_class=Job) for name in QUEUES]
    worker = SimpleWorker(queues, connection=queues[0].connection, job_class=Job)
    assert worker.work(burst=True)


@pytest.fixture
def rq_broker(settings):
    """rq on the tests' own Redis database, emptied before and after; one test at a time on
    this machine (xdist workers and other runs share that database), by a lock file."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(RQ_URL)
    name = hashlib.sha256(RQ_URL.encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"paylink-rq-tests-{name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            connection.flushdb()
        except redis.ConnectionError:
            pytest.skip(f"no Redis at {RQ_URL} (PAYLINK_TEST_RQ_URL)")
        settings.ATOMIC_API_SECRET = SECRET
        settings.RQ_QUEUES = rq_queues(url=RQ_URL, queues=QUEUES, timeout=60)
        settings.TASKS = {"default": {"BACKEND": RQ_BACKEND, "QUEUES": QUEUES}}
        yield connection
        connection.flushdb()


@pytest.fixture(params=["database", "rq"])
def broker(request, settings):
    """The task backend under test, configured as its short name configures it; its worker."""
    if request.param == "rq":
        request.getfixturevalue("rq_broker")
        return run_rq_worker
    settings.ATOMIC_API_SECRET = SECRET
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND, "QUEUES": QUEUES}}
    return run_database_worker


@pytest.fixture
def atomic(atomic):
    """Atomic's answer to GET /accounts: Hulu's account."""
    atomic.accounts_get.return_value = HULU
    return atomic


def deliver_signed(client, body: bytes) -> int:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"ce-id": "ce-worker-1", "X-HMAC-Signature-Sha-256": signature}
    return client.post(
        "/webhooks/atomic/", data=body, content_type="application/json", headers=headers
    ).status_code


def test_the_worker_runs_an_enqueued_sync_and_a_webhook_to_completion(
    broker, atomic, client, alice_profile, bob_profile
):
    alice, bob = alice_profile, bob_profile
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


def test_with_rq_the_database_housekeeping_leaves_the_task_table_alone(rq_broker):
    from django_tasks_db.models import DBTaskResult

    assert maintenance.task_results_stuck_recover() == maintenance.StuckRecovery(0, 0)
    assert maintenance.task_results_prune() == 0
    assert not DBTaskResult.objects.exists()


def test_with_rq_an_event_still_in_its_queue_is_not_redriven_but_a_lost_one_is(
    rq_broker, client, atomic, alice_profile
):
    body = (FIXTURES / "webhooks/task_status_updated_completed.json").read_bytes()
    assert deliver_signed(client, body) == 200
    later = timezone.now() + timedelta(hours=1)
    assert maintenance.webhook_events_redrive(now=later) == 0
    # The broker lost its queue (a flushed Redis): the event is enqueued again, and runs.
    rq_broker.flushdb()
    assert maintenance.webhook_events_redrive(now=later) == 1
    run_rq_worker()
    assert WebhookEvent.objects.get().state == WebhookState.PROCESSED


def test_with_rq_readyz_reports_how_long_the_oldest_waiting_job_has_waited(rq_broker, client):
    from paylink.tasks import sync_accounts

    assert client.get("/readyz").json()["oldest_waiting_task_seconds"] is None
    sync_accounts.enqueue(1)
    report = client.get("/readyz").json()
    assert report["checks"]["tasks"] == "ok"
    assert 0 <= report["oldest_waiting_task_seconds"] < 60
