"""Background work, run by django.tasks (the database backend's workers in production, inline in
tests).

Each task is named after the service it runs, takes plain ids, loads fresh rows and calls that
service, so a task that runs late or twice does no harm. Services enqueue tasks, so they import
this module; a task imports its service inside the function, so this module imports no service
and the two never import each other in a loop (tests/test_imports.py).

Queues by kind, so quick work never waits behind slow work (each has its own workers in
production, see the Procfile):
- `webhooks`: applying stored webhook events; database work only, milliseconds each.
- `atomic`: anything that calls Atomic (syncs, status checks, reconcile units); seconds each.
- `default`: the rest (periodic housekeeping).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from crontask import cron
from django.conf import settings
from django.core.cache import cache
from django.tasks import task
from django.utils import timezone

from paylink.lib.job_lock import job_lock
from paylink.models import AccountSnapshot, Profile, Task
from paylink.observability.metrics import reconcile_call, reconcile_run
from paylink.observability.tallies import tallies_prune
from paylink.selectors.reconcile import RECONCILE_SUCCEEDED_AT_KEY

logger = logging.getLogger(__name__)


WEBHOOKS_QUEUE = "webhooks"
ATOMIC_QUEUE = "atomic"


@task(queue_name=ATOMIC_QUEUE)
def accounts_sync(profile_id: int, attempt: int = 0) -> None:
    """Fetch and store one user's accounts; failures are recorded on the snapshot, and one worth
    retrying is tried again later (`attempt` counts the retries, 0 for the first try)."""
    from paylink.services.accounts import accounts_sync, accounts_sync_started
    from paylink.services.reconcile import atomic_budget_wait
    from paylink.services.sync_retry import accounts_sync_retry_schedule

    if attempt:
        snapshot = AccountSnapshot.objects.filter(profile_id=profile_id).first()
        if (
            snapshot is None
            or not snapshot.last_error_at
            or (snapshot.fetched_at and snapshot.fetched_at >= snapshot.last_error_at)
        ):
            # A sync since the failure succeeded (or the person is gone): nothing to heal.
            return
        # Retries come in bulk after an outage: they share reconcile's budget of calls.
        atomic_budget_wait()
    accounts_sync_started(profile_id=profile_id)
    profile = Profile.objects.filter(pk=profile_id).first()
    if profile is None:
        # The user was deleted after the sync was asked for: nothing left to sync.
        return
    accounts_sync(
        profile=profile,
        on_error=lambda error: accounts_sync_retry_schedule(
            profile_id=profile_id, error=error, attempt=attempt
        ),
    )


@task(queue_name=WEBHOOKS_QUEUE)
def webhook_event_process(event_id: int) -> None:
    """Apply one stored, signed webhook event; a failure is kept on it and retried (bounded)."""
    from paylink.services.webhooks import webhook_event_process

    webhook_event_process(event_id=event_id)


def webhook_events_process(calls: list[tuple[list[Any], dict[str, str]]]) -> None:
    """Jobs of `webhook_event_process` a worker claimed side by side, run as one: each job's
    arguments and log fields, in the order claimed."""
    from paylink.services.webhooks import webhook_events_process

    webhook_events_process(events=[(args[0], fields) for args, fields in calls])


# Jobs a worker that claims several of one task side by side runs in one call (the project's
# worker, paylink_db_worker): the task's path, and the function taking each job's arguments
# and log fields. Webhook events are applied many to a transaction so, where one each spent a
# transaction of a dozen statements.
RUN_TOGETHER: dict[str, Callable[[list[tuple[list[Any], dict[str, str]]]], None]] = {
    webhook_event_process.module_path: webhook_events_process,
}


@task(queue_name=ATOMIC_QUEUE)
def task_status_refresh(task_pk: int) -> None:
    """Ask Atomic for one task's status, once the poll has claimed the window for it."""
    from paylink.services.tasks import task_status_refresh

    task = Task.objects.filter(pk=task_pk).select_related("profile").first()
    if task is None:
        # Deleted with its user since the poll asked: nothing to check.
        return
    task_status_refresh(task=task, windowed=False)


@task(queue_name=ATOMIC_QUEUE)
def reconcile_task_check(task_pk: int) -> None:
    """Ask Atomic about one quiet task (a unit of paylink_reconcile's sweep)."""
    from paylink.services.reconcile import reconcile_task_check

    task_row = Task.objects.select_related("profile").filter(pk=task_pk).first()
    if task_row is None or task_row.is_terminal:
        return
    outcome = reconcile_task_check(task=task_row)
    reconcile_call(kind="task", failed=bool(outcome.errors))
    for line in outcome.lines:
        logger.info("reconcile: %s", line)


@task(queue_name=ATOMIC_QUEUE)
def reconcile_profile_tasks(profile_id: int) -> None:
    """Read one person's task list at Atomic (a unit of paylink_reconcile's sweep)."""
    from paylink.services.reconcile import reconcile_profile_tasks

    profile = Profile.objects.select_related("user").filter(pk=profile_id).first()
    if profile is None:
        return
    outcome = reconcile_profile_tasks(profile=profile)
    reconcile_call(kind="person", failed=bool(outcome.errors))
    for line in outcome.lines:
        logger.info("reconcile: %s", line)


@task(queue_name=ATOMIC_QUEUE)
def reconcile_profile_sync(profile_id: int) -> None:
    """Sync one person's accounts whose last sync failed or whose copy is behind their last
    completed task (a unit of paylink_reconcile's sweep)."""
    from paylink.services.reconcile import reconcile_profile_sync

    profile = Profile.objects.select_related("user").filter(pk=profile_id).first()
    if profile is None:
        return
    for line in reconcile_profile_sync(profile=profile).lines:
        logger.info("reconcile: %s", line)


# --- Periodic jobs ------------------------------------------------------------------------
# `manage.py crontask` (the scheduler process) enqueues these on their schedules; a worker runs
# them. However many schedulers enqueue a job, the lock lets one run at a time: a second copy
# finds the lock held and returns at once.

# Longer than any run should take; a run killed mid-way blocks the next for at most this long.
JOB_LOCK_SECONDS = 30 * 60


def _run_alone(name: str, job: Callable[[], dict[str, Any]]) -> dict[str, Any]:

    with job_lock(name=name, expires=JOB_LOCK_SECONDS) as acquired:
        if not acquired:
            logger.info("%s: another run holds the lock; this one is skipped", name)
            return {"skipped": "another run holds the lock"}
        result = job()
    logger.info("%s: %s", name, result)
    return result


@cron(settings.PAYLINK_RECONCILE_SCHEDULE)
@task
def reconcile() -> dict[str, Any]:
    """The reconcile sweep: one background job per quiet task, recently active person or
    accounts copy that is behind, so the work is in proportion to what is unsettled
    (paylink/services/reconcile.py)."""
    from paylink.services.reconcile import reconcile_enqueue

    def job() -> dict[str, Any]:
        tasks, people, syncs = reconcile_enqueue()
        # /readyz reports it, so a scheduler or worker that stopped long ago shows.
        cache.set(RECONCILE_SUCCEEDED_AT_KEY, timezone.now().isoformat(), timeout=None)
        return {"tasks": tasks, "people": people, "syncs": syncs}

    try:
        result = _run_alone("reconcile", job)
    except Exception:
        reconcile_run("failed")
        raise
    reconcile_run("skipped" if "skipped" in result else "ok")
    return result


# Every minute: with workers' heartbeats, a killed worker's task is queued again within two.
@cron("* * * * *")
@task
def recover_stuck_work() -> dict[str, Any]:
    """Tasks whose worker died re-queued (or failed); webhook events never processed re-driven."""
    from paylink.services import maintenance

    def job() -> dict[str, Any]:
        recovery = maintenance.task_results_stuck_recover()
        return {
            "requeued": recovery.requeued,
            "failed": recovery.failed,
            "webhook_events_redriven": maintenance.webhook_events_redrive(),
        }

    return _run_alone("recover_stuck_work", job)


@cron("7 3 * * *")
@task
def prune_task_results() -> dict[str, Any]:
    """Finished task results older than PAYLINK_TASK_RESULT_RETENTION_DAYS deleted."""
    from paylink.services import maintenance

    return _run_alone("prune_task_results", lambda: {"deleted": maintenance.task_results_prune()})


@cron("17 3 * * *")
@task
def expire_old_events() -> dict[str, Any]:
    """Webhook and SDK events past their retention (PAYLINK_*_RETENTION_DAYS) deleted, and the
    operations page's hourly tallies past PAYLINK_OPERATION_TALLY_RETENTION_DAYS."""
    from paylink.services import maintenance

    def job() -> dict[str, Any]:
        return {
            "webhook_events": maintenance.webhook_events_expire(),
            "sdk_events": maintenance.sdk_events_expire(),
            "operation_tallies": tallies_prune(
                days=settings.PAYLINK_OPERATION_TALLY_RETENTION_DAYS
            ),
        }

    return _run_alone("expire_old_events", job)


@cron("27 3 * * *")
@task
def clear_expired_sessions() -> dict[str, Any]:
    """`clearsessions`: expired sign-in sessions deleted from the session store."""

    def job() -> dict[str, Any]:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        return {"ok": True}

    return _run_alone("clear_expired_sessions", job)


@cron(settings.PAYLINK_REMINDERS_SCHEDULE)
@task
def send_due_reminders() -> dict[str, Any]:
    """Reminder emails for bills coming due; safe to run as often as wanted (each sends once)."""
    from reminders.services.delivery import reminders_send

    def job() -> dict[str, Any]:
        run = reminders_send(now=timezone.now())
        return {"sent": run.sent, "skipped": run.skipped, "failed": run.failed}

    return _run_alone("send_due_reminders", job)


@cron(settings.PAYLINK_WEEKLY_SUMMARY_SCHEDULE)
@task
def send_weekly_summaries() -> dict[str, Any]:
    """The weekly summary emails; each person gets at most one per week, however often it runs."""
    from reminders.services.delivery import weekly_summary_send

    def job() -> dict[str, Any]:
        run = weekly_summary_send(now=timezone.now())
        return {"sent": run.sent, "skipped": run.skipped, "failed": run.failed}

    return _run_alone("send_weekly_summaries", job)
