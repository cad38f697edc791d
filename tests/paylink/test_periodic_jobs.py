"""The scheduler's jobs: each does its work, and one run at a time holds each job's lock."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache, caches
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, TaskResultStatus, get_date_max

from paylink import tasks
from paylink.client import TaskStatusReport
from paylink.lib.job_lock import job_lock
from paylink.models import (
    OperationTally,
    Profile,
    SdkEvent,
    Task,
    WebhookEvent,
    WebhookState,
    WorkerHeartbeat,
)
from paylink.services import maintenance
from paylink.services.worker_heartbeats import HeartbeatThread
from tests.waiting import wait_until

WEBHOOKS = Path(__file__).parent.parent / "fixtures" / "webhooks"


@pytest.fixture
def profile(alice: User) -> Profile:
    return Profile.objects.create(user=alice, identifier="hub_alice")


def task_result(status: str, *, started_minutes_ago: int = 0, attempts: int = 1, **fields):
    now = timezone.now()
    return DBTaskResult.objects.create(
        task_path="paylink.tasks.accounts_sync",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
        status=status,
        started_at=now - timedelta(minutes=started_minutes_ago),
        worker_ids=[f"worker-{n}" for n in range(attempts)],
        **fields,
    )


def aged(model, row, *, field: str, days: float) -> None:
    model.objects.filter(pk=row.pk).update(**{field: timezone.now() - timedelta(days=days)})


# --- the lock --------------------------------------------------------------------------------


def test_a_second_run_is_refused_the_lock_while_the_first_holds_it():
    with (
        job_lock(name="reconcile", expires=60) as first,
        job_lock(name="reconcile", expires=60) as second,
    ):
        assert (first, second) == (True, False)


def test_the_lock_is_free_again_once_its_run_ends():
    with job_lock(name="reconcile", expires=60):
        pass
    with job_lock(name="reconcile", expires=60) as again:
        assert again


def test_two_jobs_hold_their_own_locks():
    with (
        job_lock(name="reconcile", expires=60) as reconcile,
        job_lock(name="prune", expires=60) as prune,
    ):
        assert reconcile and prune


@pytest.mark.django_db
def test_a_run_on_another_machine_is_refused_the_lock_kept_in_the_database_cache():
    database_cache = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "paylink_lock_cache",
    }
    with override_settings(CACHES={"default": database_cache}):
        call_command("createcachetable", verbosity=0)
        # Two cache clients that share nothing in memory, only the table: two machines.
        this_machine, other_machine = (
            caches.create_connection("default"),
            caches.create_connection("default"),
        )
        with mock.patch("paylink.lib.job_lock.cache", this_machine):
            held = job_lock(name="reconcile", expires=60)
            assert held.__enter__()
        with (
            mock.patch("paylink.lib.job_lock.cache", other_machine),
            job_lock(name="reconcile", expires=60) as acquired,
        ):
            assert not acquired
        with mock.patch("paylink.lib.job_lock.cache", this_machine):
            held.__exit__(None, None, None)
        with (
            mock.patch("paylink.lib.job_lock.cache", other_machine),
            job_lock(name="reconcile", expires=60) as acquired,
        ):
            assert acquired


def test_a_run_whose_lock_expired_leaves_the_newer_runs_lock_alone():
    with job_lock(name="reconcile", expires=60):
        # The lock expired and another run took it.
        cache.set("paylink:job-lock:reconcile", "the-newer-run", timeout=60)
    assert cache.get("paylink:job-lock:reconcile") == "the-newer-run"


def test_the_lock_expires_after_the_time_given():
    with mock.patch("paylink.lib.job_lock.cache") as shared:
        shared.add.return_value = True
        with job_lock(name="reconcile", expires=1800):
            pass
    assert shared.add.call_args.kwargs["timeout"] == 1800


@pytest.mark.django_db
def test_a_job_that_finds_its_lock_held_does_nothing():
    old = task_result(TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    aged(DBTaskResult, old, field="finished_at", days=30)
    with job_lock(name="prune_task_results", expires=60):
        result = tasks.prune_task_results.call()
    assert result == {"skipped": "another run holds the lock"}
    assert DBTaskResult.objects.filter(pk=old.pk).exists()


# --- reconcile -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_reconcile_moves_a_stuck_task_forward_and_records_its_success(profile, atomic):
    task = Task.objects.create(profile=profile, atomic_id="t-old", status="processing")
    Task.objects.filter(pk=task.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    atomic.task_status_get.return_value = TaskStatusReport(
        status="completed", fail_reason=None, created_at=None
    )
    # One unit per quiet task, run here at once by the tests' immediate task backend.
    assert tasks.reconcile.call() == {"tasks": 1, "people": 0, "syncs": 0}
    assert Task.objects.get(pk=task.pk).status == "completed"
    assert cache.get(tasks.RECONCILE_SUCCEEDED_AT_KEY) is not None


@pytest.mark.django_db
def test_a_reconcile_unit_that_meets_an_error_logs_it_and_the_next_sweep_retries(
    profile, atomic, caplog
):
    from paylink.client import AtomicError

    Profile.objects.filter(pk=profile.pk).update(transact_opened_at=timezone.now())
    atomic.user_tasks_list.side_effect = AtomicError("Atomic answered 503", status=503)
    assert tasks.reconcile.call() == {"tasks": 0, "people": 1, "syncs": 0}
    assert "reconcile: user alice: Atomic answered 503" in caplog.text
    # Not marked as read: the person is swept again next time.
    assert Profile.objects.get(pk=profile.pk).tasks_listed_at is None


# --- stuck work ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_task_running_past_the_deadline_is_queued_again_with_a_note(settings):
    settings.PAYLINK_TASK_STUCK_AFTER_SECONDS = 1800
    stuck = task_result(TaskResultStatus.RUNNING, started_minutes_ago=31)
    busy = task_result(TaskResultStatus.RUNNING, started_minutes_ago=5)
    result = tasks.recover_stuck_work.call()
    assert result == {"requeued": 1, "failed": 0, "webhook_events_redriven": 0}
    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.READY
    assert stuck.started_at is None
    assert "worker stopped" in stuck.traceback
    assert DBTaskResult.objects.get(pk=busy.pk).status == TaskResultStatus.RUNNING


def beating(worker_id: str, *, seconds_ago: float) -> None:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerHeartbeat.objects.create(worker_id=worker_id, started_at=moment, beat_at=moment)


@pytest.mark.django_db
def test_a_task_whose_worker_stopped_beating_is_queued_again_within_two_minutes(settings):
    settings.PAYLINK_WORKER_LOST_AFTER_SECONDS = 40
    # Killed a minute ago, two minutes into its task: long before the fixed deadline.
    lost = task_result(TaskResultStatus.RUNNING, started_minutes_ago=2)
    beating(lost.worker_ids[-1], seconds_ago=60)
    assert maintenance.task_results_stuck_recover().requeued == 1
    lost.refresh_from_db()
    assert lost.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_live_workers_long_task_is_never_queued_twice(settings):
    settings.PAYLINK_TASK_STUCK_AFTER_SECONDS = 1800
    settings.PAYLINK_WORKER_LOST_AFTER_SECONDS = 40
    # Two hours in, past the fixed deadline, but its worker beat five seconds ago.
    busy = task_result(TaskResultStatus.RUNNING, started_minutes_ago=120)
    beating(busy.worker_ids[-1], seconds_ago=5)
    assert maintenance.task_results_stuck_recover() == maintenance.StuckRecovery(0, 0)
    assert DBTaskResult.objects.get(pk=busy.pk).status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_only_the_last_attempts_worker_speaks_for_a_task(settings):
    settings.PAYLINK_WORKER_LOST_AFTER_SECONDS = 40
    # Re-queued once already: its first worker still beats (it runs other tasks), the second
    # one, which holds it now, is silent.
    row = task_result(TaskResultStatus.RUNNING, started_minutes_ago=3, attempts=2)
    beating("worker-0", seconds_ago=1)
    beating("worker-1", seconds_ago=100)
    assert maintenance.task_results_stuck_recover().requeued == 1
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_recovery_runs_every_minute_and_forgets_workers_silent_for_a_day():
    from crontask import scheduler

    [job] = [job for job in scheduler.get_jobs() if job.name == "recover_stuck_work"]
    assert str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='*', minute='*']"
    beating("gone", seconds_ago=2 * 86400)
    beating("here", seconds_ago=1)
    tasks.recover_stuck_work.call()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["here"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_beats_from_its_own_thread_until_it_stops(settings):
    settings.PAYLINK_WORKER_HEARTBEAT_SECONDS = 0.05
    heartbeat = HeartbeatThread(worker_id="w-1")
    heartbeat.beat()
    first = WorkerHeartbeat.objects.get(worker_id="w-1").beat_at
    heartbeat.start()
    try:
        wait_until(
            lambda: WorkerHeartbeat.objects.get(worker_id="w-1").beat_at > first,
            what="a second beat",
        )
    finally:
        heartbeat.stop()
    # Stopped cleanly: it holds no task, and says so.
    assert not WorkerHeartbeat.objects.filter(worker_id="w-1").exists()


@pytest.mark.django_db
def test_a_task_stuck_after_its_last_attempt_is_failed_with_a_note(settings):
    settings.PAYLINK_TASK_MAX_ATTEMPTS = 3
    stuck = task_result(TaskResultStatus.RUNNING, started_minutes_ago=60, attempts=3)
    assert maintenance.task_results_stuck_recover() == maintenance.StuckRecovery(
        requeued=0, failed=1
    )
    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.FAILED
    assert stuck.finished_at is not None
    assert stuck.exception_class_path == "paylink.services.maintenance.TaskAbandoned"
    assert "after 3 attempt(s)" in stuck.traceback


def webhook_event(*, minutes_ago: float, **fields) -> WebhookEvent:
    body = (WEBHOOKS / "task_status_updated_completed.json").read_text()
    payload = json.loads(body)
    ce_id = fields.pop("ce_id", "ce-1")
    event = WebhookEvent.objects.create(
        ce_id=ce_id,
        # One digest per copy: the same body twice would be a replay.
        body_sha256=hashlib.sha256(f"{ce_id}:{body}".encode()).hexdigest(),
        event_type="task-status-updated",
        identifier=payload["user"]["identifier"],
        task_atomic_id=payload["data"]["taskId"],
        body=body,
        **fields,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return event


@pytest.mark.django_db
def test_a_valid_webhook_event_never_processed_is_driven_again(profile, atomic):
    Task.objects.create(profile=profile, atomic_id="task-alice-1", status="processing")
    lost = webhook_event(minutes_ago=10, state=WebhookState.RECEIVED)
    fresh = webhook_event(minutes_ago=1, state=WebhookState.RECEIVED, ce_id="ce-2")
    forged = webhook_event(minutes_ago=10, ce_id="ce-3", state=WebhookState.REJECTED_SIGNATURE)
    result = tasks.recover_stuck_work.call()
    assert result["webhook_events_redriven"] == 1
    assert WebhookEvent.objects.get(pk=lost.pk).state == WebhookState.PROCESSED
    assert Task.objects.get(atomic_id="task-alice-1").status == "completed"
    assert WebhookEvent.objects.get(pk=fresh.pk).state == WebhookState.RECEIVED
    assert WebhookEvent.objects.get(pk=forged.pk).state == WebhookState.REJECTED_SIGNATURE


@pytest.mark.django_db
def test_a_webhook_event_still_waiting_in_the_queue_is_not_enqueued_twice():
    waiting = webhook_event(minutes_ago=10, state=WebhookState.RECEIVED)
    DBTaskResult.objects.create(
        task_path="paylink.tasks.webhook_event_process",
        args_kwargs={"args": [waiting.pk], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
    )
    assert maintenance.webhook_events_redrive() == 0


# --- retention -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_finished_task_results_past_retention_are_pruned_and_others_kept(settings):
    settings.PAYLINK_TASK_RESULT_RETENTION_DAYS = 14
    old_success = task_result(TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    old_failure = task_result(TaskResultStatus.FAILED, finished_at=timezone.now())
    recent = task_result(TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    running = task_result(TaskResultStatus.RUNNING)
    aged(DBTaskResult, old_success, field="finished_at", days=15)
    aged(DBTaskResult, old_failure, field="finished_at", days=15)
    assert tasks.prune_task_results.call() == {"deleted": 2}
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}


@pytest.mark.django_db
def test_webhook_and_sdk_events_past_retention_are_deleted_and_others_kept(profile, settings):
    settings.PAYLINK_WEBHOOK_EVENT_RETENTION_DAYS = 90
    settings.PAYLINK_SDK_EVENT_RETENTION_DAYS = 30
    old_webhook = webhook_event(minutes_ago=91 * 24 * 60)
    recent_webhook = webhook_event(minutes_ago=89 * 24 * 60, ce_id="ce-2")
    old_sdk = SdkEvent.objects.create(profile=profile, kind="finish")
    recent_sdk = SdkEvent.objects.create(profile=profile, kind="close")
    aged(SdkEvent, old_sdk, field="created_at", days=31)
    aged(SdkEvent, recent_sdk, field="created_at", days=29)
    settings.PAYLINK_OPERATION_TALLY_RETENTION_DAYS = 30
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    OperationTally.objects.create(
        hour=hour - timedelta(days=31), kind="sync", name="a", outcome="ok"
    )
    kept = OperationTally.objects.create(hour=hour, kind="sync", name="a", outcome="ok")
    assert tasks.expire_old_events.call() == {
        "webhook_events": 1,
        "sdk_events": 1,
        "operation_tallies": 1,
    }
    assert list(OperationTally.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [recent_webhook.pk]
    assert list(SdkEvent.objects.values_list("pk", flat=True)) == [recent_sdk.pk]
    assert not WebhookEvent.objects.filter(pk=old_webhook.pk).exists()


@pytest.mark.django_db
def test_expired_sessions_are_cleared_and_live_ones_kept():
    expired, live = SessionStore(), SessionStore()
    expired.set_expiry(-60)
    expired.save()
    live.save()
    assert tasks.clear_expired_sessions.call() == {"ok": True}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_every_job_is_on_the_schedulers_timetable():
    from crontask import scheduler

    scheduled = {job.name for job in scheduler.get_jobs()}
    assert {
        "reconcile",
        "recover_stuck_work",
        "prune_task_results",
        "expire_old_events",
        "clear_expired_sessions",
    } <= scheduled
