"""Webhook events a worker claimed together are applied in one transaction of a few statements
(`webhook_events_process`), with the same outcome as one at a time (`webhook_event_process`):
every behaviour below is held by both ways of processing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from paylink.models import AccountSnapshot, Task, WebhookEvent, WebhookState
from paylink.observability.log_context import log_context
from paylink.services import tasks as task_services
from paylink.services.webhooks import (
    RETRY_DELAYS,
    SIGNATURE_HEADER,
    webhook_event_process,
    webhook_events_process,
    webhook_receive,
)
from tests.atomic_json import atomic_json

SECRET = "drain-test-secret"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ATOMIC_API_SECRET = SECRET


@pytest.fixture
def receive(task_queue) -> Callable[..., int]:
    """Stores a signed event as a delivery would, its processing queued but not run; its id."""
    count = iter(range(1, 1000))

    def store(name: str, *, ce_id: str = "", **changes: object) -> int:
        payload = atomic_json(f"webhooks/{name}")
        for key, value in changes.items():
            if key in ("eventTime", "eventType", "user"):
                payload[key] = value
            else:
                payload["data"][key] = value
        number = next(count)
        # A field the host ignores, so two deliveries of like news never share a body.
        payload["delivery"] = number
        body = json.dumps(payload).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"ce-id": ce_id or f"ce-{number}", SIGNATURE_HEADER: signature}
        receipt = webhook_receive(body=body, headers=headers)
        assert receipt.event is not None and receipt.event.state == WebhookState.RECEIVED
        return receipt.event.pk

    return store


@pytest.fixture(params=["one at a time", "together"])
def process(request, django_capture_on_commit_callbacks) -> Callable[..., None]:
    """Processes events as a worker does, by either way, each under its job's log fields;
    what is enqueued on commit is enqueued."""

    def run(event_ids: list[int], fields: dict[str, str] | None = None) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            if request.param == "together":
                webhook_events_process(events=[(event_id, fields or {}) for event_id in event_ids])
            else:
                for event_id in event_ids:
                    with log_context(**(fields or {})):
                        webhook_event_process(event_id=event_id)

    return run


def outcome(event_id: int) -> tuple[str, str, int]:
    event = WebhookEvent.objects.get(pk=event_id)
    return event.state, event.note, event.attempts


def test_each_event_is_applied_and_recorded(alice_profile, bob_profile, receive, process, atomic):
    Task.objects.create(profile=alice_profile, atomic_id="task-known", status="queued")
    Task.objects.create(profile=bob_profile, atomic_id="task-bobs")
    events = [
        receive("task_status_updated_processing", taskId="task-known"),
        receive("task_status_updated_processing", taskId="task-new"),
        receive("task_authentication_status_updated", taskId="task-new"),
        receive("task_status_updated_failed", taskId="task-failing"),
        receive("task_status_updated_processing", taskId="task-bobs"),
        receive("task_status_updated_processing", taskId="task-stranger", user={"identifier": "x"}),
        receive("task_status_updated_processing", taskId=""),
        receive("unknown_type"),
        receive("task_workflow_finished"),
    ]

    process(events)

    assert [outcome(event_id) for event_id in events] == [
        ("processed", "", 1),
        ("processed", "", 1),
        ("processed", "", 1),
        ("processed", "", 1),
        ("processed", "Task belongs to another user; not changed.", 1),
        ("processed", "Unknown user: no profile has this identifier.", 1),
        ("processed", "Missing the task id (data.taskId, task or data.task) or the status.", 1),
        ("processed", "Ignored event type 'employment-verified'.", 1),
        ("processed", "", 1),
    ]
    tasks = {task.atomic_id: task for task in Task.objects.all()}
    assert tasks["task-known"].status == "processing"
    assert (tasks["task-new"].status, tasks["task-new"].authenticated) == ("processing", True)
    assert tasks["task-new"].profile == alice_profile
    assert (tasks["task-failing"].status, tasks["task-failing"].fail_reason) == (
        "failed",
        "payment-method-declined",
    )
    assert tasks["task-failing"].finished_at is not None
    assert tasks["task-bobs"].profile == bob_profile and tasks["task-bobs"].status == "queued"
    assert set(tasks) == {"task-known", "task-new", "task-failing", "task-bobs"}


def test_events_of_one_task_apply_in_order_and_status_moves_forward_only(
    alice_profile, receive, process, atomic, task_queue
):
    events = [
        receive("task_status_updated_processing"),
        receive("task_status_updated_completed"),
        # A late one, without a time: it cannot undo completed.
        receive("task_status_updated_processing", eventTime=None),
    ]

    process(events)

    task = Task.objects.get()
    assert (task.atomic_id, task.status) == ("task-alice-1", "completed")
    assert (task.company_id, task.company_name, task.product) == ("company-hulu", "Hulu", "present")
    assert [outcome(event_id)[0] for event_id in events] == ["processed"] * 3
    # The completion asked for one accounts sync, enqueued once the processing committed.
    assert [(job.task.name, job.args) for job in task_queue.results] == [
        ("accounts_sync", [alice_profile.pk])
    ]


# Committed as in production, so what runs on commit runs within the processing's fields.
@pytest.mark.django_db(transaction=True)
def test_the_sync_a_completion_asks_for_carries_the_events_ce_id_and_request(
    alice_profile, receive, process, atomic, task_queue
):
    events = [
        receive("task_status_updated_completed", ce_id="ce-done"),
        receive("task_workflow_finished", ce_id="ce-after"),
    ]

    process(events, {"request_id": "request-of-the-webhook"})

    (sync,) = [job for job in task_queue.results if job.task.name == "accounts_sync"]
    assert cache.get(f"paylink:job-log-context:{sync.id}") == {
        "request_id": "request-of-the-webhook",
        "ce_id": "ce-done",
    }


def test_news_older_than_news_already_applied_is_stale(alice_profile, receive, process, atomic):
    # All received before any is processed, the queue running the 11:00 one first.
    first = receive("task_status_patched", status="completed", eventTime="2026-01-05T11:00:00Z")
    events = [
        receive("task_status_patched", status="failed", eventTime="2026-01-05T10:30:00Z"),
        receive("task_status_patched", status="failed", eventTime="2026-01-05T12:00:00Z"),
        receive("task_status_patched", status="completed", eventTime="2026-01-05T11:30:00Z"),
    ]
    process([first])

    process(events)

    assert outcome(events[0])[:2] == (
        "stale",
        f"Older than event {first} (2026-01-05T11:00:00+00:00) for this task; ignored.",
    )
    # Applied, and so the news the next one is judged against.
    assert outcome(events[1])[0] == "processed"
    assert outcome(events[2])[:2] == (
        "stale",
        f"Older than event {events[1]} (2026-01-05T12:00:00+00:00) for this task; ignored.",
    )
    assert Task.objects.get().status == "failed"


def test_an_event_already_final_or_gone_is_left_alone(alice_profile, receive, process, atomic):
    done, gone, fresh = (receive("task_status_updated_processing", taskId=t) for t in "abc")
    process([done])
    WebhookEvent.objects.filter(pk=gone).delete()

    process([done, gone, fresh, fresh])

    assert outcome(done) == ("processed", "", 1)
    assert outcome(fresh) == ("processed", "", 1)
    assert sorted(Task.objects.values_list("atomic_id", flat=True)) == ["a", "c"]


def test_a_claim_browsers_disputed_is_settled_by_atomics_word(
    alice_profile, bob_profile, receive, process, atomic
):
    task = Task.objects.create(
        profile=bob_profile, atomic_id="task-alice-1", awaiting_confirmation=True, operation="x"
    )
    events = [receive("task_status_updated_processing"), receive("task_status_updated_completed")]

    process(events)

    task.refresh_from_db()
    assert (task.profile, task.awaiting_confirmation, task.status) == (
        alice_profile,
        False,
        "completed",
    )
    assert task.operation == ""
    assert [outcome(event_id) for event_id in events] == [("processed", "", 1)] * 2


def test_a_failing_event_is_kept_failed_and_retried_while_the_others_are_applied(
    alice_profile, receive, process, atomic, task_queue
):
    events = [receive("task_status_updated_processing", taskId=t) for t in ("ok-1", "bad", "ok-2")]
    task_queue.clear()
    real_record, real_batch = task_services.task_record, task_services.TasksRecording.record

    def task_record(**news):
        if news["atomic_id"] == "bad":
            raise KeyError("odd")
        return real_record(**news)

    def record(self, **news):
        if news["atomic_id"] == "bad":
            raise KeyError("odd")
        return real_batch(self, **news)

    with (
        mock.patch("paylink.services.webhooks.task_record", task_record),
        mock.patch.object(task_services.TasksRecording, "record", record),
    ):
        process(events)

    assert outcome(events[0]) == outcome(events[2]) == ("processed", "", 1)
    bad = WebhookEvent.objects.get(pk=events[1])
    assert (bad.state, bad.attempts, bad.error) == ("failed", 1, "KeyError: 'odd'")
    assert sorted(Task.objects.values_list("atomic_id", flat=True)) == ["ok-1", "ok-2"]
    (retry,) = task_queue.results
    assert retry.args == [events[1]]
    delay = retry.task.run_after - timezone.now()
    assert timedelta(seconds=RETRY_DELAYS[0] - 5) < delay <= timedelta(seconds=RETRY_DELAYS[0])


def statements(run: Callable[[], None]) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries.captured_queries)


def test_a_claim_costs_the_same_statements_for_three_events_as_for_twelve(
    alice_profile, receive, atomic
):
    known = [f"known-{n}" for n in range(12)]
    for atomic_id in known:
        Task.objects.create(profile=alice_profile, atomic_id=atomic_id)

    def claim(count: int, prefix: str) -> Callable[[], None]:
        events = [
            receive("task_status_updated_processing", taskId=atomic_id)
            for atomic_id in [*known[:count], *(f"{prefix}-{n}" for n in range(count))]
        ]
        return lambda: webhook_events_process(events=[(event_id, {}) for event_id in events])

    few, many = claim(3, "few"), claim(12, "many")

    assert statements(few) == statements(many)
    assert WebhookEvent.objects.exclude(state="processed").count() == 0
    assert Task.objects.filter(status="processing").count() == 12 + 3 + 12


def test_a_claims_syncs_cost_the_same_statements_for_three_people_as_for_twelve(
    db: None, receive: Callable[..., int], atomic: Any
) -> None:
    from tests.people import person_create, profile_of

    people = [profile_of(person_create(f"person-{n}")) for n in range(12)]
    # One already has a sync queued: its request is noted, covered by that sync.
    AccountSnapshot.objects.create(profile=people[0], sync_queued_at=timezone.now())

    def claim(count: int, prefix: str) -> Callable[[], None]:
        events = [
            receive(
                "task_status_updated_completed",
                taskId=f"{prefix}-{n}",
                user={"identifier": profile.identifier},
            )
            for n, profile in enumerate(people[:count])
        ]
        return lambda: webhook_events_process(events=[(event_id, {}) for event_id in events])

    few, many = claim(3, "few"), claim(12, "many")

    assert statements(few) == statements(many)
    snapshots = AccountSnapshot.objects.filter(profile__in=people)
    assert snapshots.count() == 12
    assert snapshots.filter(sync_queued_at=None).count() == 0
    assert snapshots.filter(sync_requested_at=None).count() == 0
