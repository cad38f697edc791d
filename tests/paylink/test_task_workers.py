"""The broker for real: a sync and a signed webhook enqueued as the host enqueues them, then run
to completion by the worker production runs (`manage.py paylink_db_worker --batch`: every
outstanding task, then it exits).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from paylink.management.commands import paylink_db_worker
from paylink.management.commands.paylink_db_worker import ClaimingWorker
from paylink.models import AccountSnapshot, Profile, Task, WebhookEvent, WebhookState
from paylink.services.accounts import accounts_sync_request
from tests.atomic_json import FIXTURES, atomic_json
from tests.people import person_create, profile_of
from tests.workers import database_worker_run

pytestmark = pytest.mark.django_db(transaction=True)

HULU = atomic_json("accounts/hulu")
SECRET = "worker-test-secret"
QUEUES = ["webhooks", "default", "atomic"]


@pytest.fixture
def broker(settings):
    """The database backend, as production configures it; its worker."""
    settings.ATOMIC_API_SECRET = SECRET
    settings.TASKS = {
        "default": {"BACKEND": django_settings.DATABASE_TASKS_BACKEND, "QUEUES": QUEUES}
    }
    return database_worker_run


@pytest.fixture
def atomic(atomic):
    """Atomic's answer to GET /accounts: Hulu's account."""
    atomic.accounts_get.return_value = HULU
    return atomic


def person(name: str) -> Profile:
    return profile_of(person_create(name))


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


def deliver_status(client: Any, profile: Profile, n: int, status: str) -> int:
    """Atomic's news that task-`n` of `profile` is `status`, signed, as delivery `n` (ce-`n`,
    sent within request `request-number-n`); the status answered."""
    body = json.dumps(
        {
            "eventType": "task-status-updated",
            "user": {"identifier": profile.identifier},
            "data": {"taskId": f"task-{n}", "status": status},
        }
    ).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "ce-id": f"ce-{n}",
        "X-HMAC-Signature-Sha-256": signature,
        "X-Request-ID": f"request-number-{n}",
    }
    return client.post(
        "/webhooks/atomic/", data=body, content_type="application/json", headers=headers
    ).status_code


def claiming_worker(queue_names: tuple[str, ...] = ("*",), **options: Any) -> ClaimingWorker:
    return ClaimingWorker(
        queue_names=list(queue_names),
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="worker-one",
        excluded_queue_names=[],
        **options,
    )


def test_a_worker_claims_its_jobs_in_one_statement_and_writes_their_results_in_one(broker, atomic):
    people = [person(name) for name in ("alice", "bob", "carol", "dave")]
    for profile in people:
        assert accounts_sync_request(profile=profile)

    with CaptureQueriesContext(connection) as queries:
        claiming_worker(claim=20).run()

    jobs = DBTaskResult.objects.all()
    assert [(job.status, job.worker_ids) for job in jobs] == [("SUCCESSFUL", ["worker-one"])] * 4
    assert atomic.accounts_get.call_count == 4
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "django_tasks_database')]
    # The claim, then the results: not two statements a job.
    assert len(updates) == 2


def test_jobs_a_slow_claim_has_not_started_go_back_to_the_queue_as_they_were(
    broker, atomic, monkeypatch
):
    for name in ("alice", "bob", "carol"):
        assert accounts_sync_request(profile=person(name))
    # Every job counts as slow: after each, the rest of the claim goes back.
    monkeypatch.setattr(paylink_db_worker, "CLAIM_SECONDS", -1)
    worker = claiming_worker(claim=20)
    handed_back: list[int] = []
    unclaimed = worker.jobs_unclaimed

    def counting(jobs):
        handed_back.append(len(jobs))
        return unclaimed(jobs)

    worker.jobs_unclaimed = counting

    worker.run()

    assert handed_back == [2, 1]
    # Each ran once, by one claim: a job handed back carries no trace of the claim.
    jobs = DBTaskResult.objects.all()
    assert [(job.status, job.worker_ids) for job in jobs] == [("SUCCESSFUL", ["worker-one"])] * 3


def test_a_worker_asked_to_stop_hands_back_what_it_has_not_started(broker, atomic):
    for name in ("alice", "bob"):
        assert accounts_sync_request(profile=person(name))
    worker = claiming_worker(claim=20)
    claimed = worker.jobs_claim()
    assert [job.status for job in DBTaskResult.objects.all()] == ["RUNNING", "RUNNING"]

    worker.running = False  # SIGTERM
    worker.jobs_run(claimed)

    assert [(job.status, job.worker_ids) for job in DBTaskResult.objects.all()] == [
        ("READY", [])
    ] * 2
    atomic.accounts_get.assert_not_called()


def test_webhooks_claimed_together_are_applied_in_one_call_each_job_its_own(broker, atomic, client):
    from paylink.services import webhooks
    from tests.paylink.observability.capture import log_lines

    alice = person("alice")
    for n in range(3):
        assert deliver_status(client, alice, n, "processing") == 200

    spy = mock.Mock(wraps=webhooks.webhook_events_process)
    with mock.patch.object(webhooks, "webhook_events_process", spy), log_lines() as lines:
        claiming_worker(claim=20).run()

    (call,) = spy.call_args_list
    assert [event_id for event_id, _ in call.kwargs["events"]] == list(
        WebhookEvent.objects.order_by("pk").values_list("pk", flat=True)
    )
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookState.PROCESSED}
    assert sorted(Task.objects.values_list("atomic_id", "status")) == [
        (f"task-{n}", "processing") for n in range(3)
    ]
    jobs = DBTaskResult.objects.order_by("enqueued_at")
    assert [(job.status, job.worker_ids) for job in jobs] == [("SUCCESSFUL", ["worker-one"])] * 3
    # Each job started and finished as its own, its lines carrying its webhook's request.
    framework = [line for line in lines.records() if line["logger"] == "django.tasks"]
    assert sorted((line["request_id"], line["message"].split()[-1]) for line in framework) == [
        (f"request-number-{n}", state)
        for n in range(3)
        for state in ("state=RUNNING", "state=SUCCESSFUL")
    ]
    assert all(line["ce_id"] == f"ce-{line['request_id'][-1]}" for line in framework)


def test_a_worker_claims_more_at_once_while_the_queue_is_deep_and_its_jobs_quick(
    broker, atomic, monkeypatch
):
    for n in range(16):
        assert accounts_sync_request(profile=person(f"person{n}"))
    monkeypatch.setattr(paylink_db_worker, "CLAIM_MOST", 8)
    worker = claiming_worker(claim=2)
    sizes: list[int] = []
    claim = worker.jobs_claim

    def counting():
        claimed = claim()
        sizes.append(len(claimed or []))
        return claimed

    worker.jobs_claim = counting

    worker.run()

    # Full and run whole: twice the last each time, up to CLAIM_MOST; then the queue is empty.
    assert sizes == [2, 4, 8, 2, 0]
    assert atomic.accounts_get.call_count == 16


def test_after_a_claim_too_slow_to_run_whole_the_next_is_the_first_size_again(
    broker, atomic, monkeypatch
):
    for n in range(7):
        assert accounts_sync_request(profile=person(f"person{n}"))
    worker = claiming_worker(claim=2)
    sizes: list[int] = []
    claim = worker.jobs_claim

    def counting():
        claimed = claim()
        sizes.append(len(claimed or []))
        # The second claim is slow: everything after its first job goes back.
        monkeypatch.setattr(paylink_db_worker, "CLAIM_SECONDS", -1 if len(sizes) == 2 else 1.0)
        return claimed

    worker.jobs_claim = counting

    worker.run()

    # 2 run whole; 4, of which 1 ran: back to 2, run whole; then 4 asked for, the last 2 had.
    assert sizes == [2, 4, 2, 2, 0]
    assert atomic.accounts_get.call_count == 7


def test_after_a_short_claim_a_worker_waits_a_moment_before_the_next(broker, atomic, monkeypatch):
    for name in ("alice", "bob", "carol"):
        assert accounts_sync_request(profile=person(name))
    worker = ClaimingWorker(
        claim=20,
        queue_names=["*"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="worker-one",
        excluded_queue_names=[],
    )
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            worker.running = False

    monkeypatch.setattr(paylink_db_worker.time, "sleep", sleep)

    worker.run()

    # Three of twenty: a moment for more to come; then none at all: the whole interval.
    assert waits == [paylink_db_worker.CLAIM_SETTLE_SECONDS, 1.0]
    assert atomic.accounts_get.call_count == 3


def test_the_syncs_a_claim_of_webhooks_asks_for_are_queued_together_each_with_its_request(
    broker: Any, atomic: Any, client: Any
) -> None:
    from tests.paylink.observability.capture import log_lines

    people = [person(name) for name in ("alice", "bob", "carol")]
    for n, profile in enumerate(people):
        assert deliver_status(client, profile, n, "completed") == 200

    with CaptureQueriesContext(connection) as queries:
        claiming_worker(("webhooks",), claim=20).run()

    syncs = DBTaskResult.objects.filter(task_path="paylink.tasks.accounts_sync")
    # Written by one statement, each row carrying the fields of the webhook that asked.
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len([sql for sql in inserts if "dbtaskresult" in sql]) == 1
    assert sorted((job.args_kwargs["args"], job.args_kwargs["log"]) for job in syncs) == [
        ([profile.pk], {"request_id": f"request-number-{n}", "ce_id": f"ce-{n}"})
        for n, profile in enumerate(people)
    ]

    with log_lines() as lines:
        claiming_worker(("atomic",), claim=20).run()

    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert atomic.accounts_get.call_count == 3
    # Each sync's lines carry the request and ce-id of the webhook that asked for it.
    started = [
        (line["request_id"], line["ce_id"])
        for line in lines.records()
        if line["logger"] == "django.tasks" and line["message"].endswith("state=RUNNING")
    ]
    assert sorted(started) == [(f"request-number-{n}", f"ce-{n}") for n in range(3)]
