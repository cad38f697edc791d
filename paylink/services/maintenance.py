"""Housekeeping the scheduler runs: recovering stuck work, and keeping data only as long as set.

Each service stands alone, takes `now` for tests, and returns what it did, so the periodic
task that calls it can record the counts as its result.

Stuck-task recovery and pruning work on django-tasks-db's table, where the jobs are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, TaskResultStatus

from paylink import tasks
from paylink.models import SdkEvent, WebhookEvent, WebhookState
from paylink.services.worker_heartbeats import worker_heartbeats_forget, worker_last_beats

logger = logging.getLogger(__name__)

# Rows deleted per statement: short transactions, so pruning never holds long locks.
_DELETE_BATCH = 1000
# At most this many events re-driven per run; the next run takes the rest.
_REDRIVE_BATCH = 500
_WEBHOOK_TASK_PATH = tasks.webhook_event_process.module_path


@dataclass(frozen=True)
class StuckRecovery:
    requeued: int
    failed: int


def _delete_in_batches(rows: QuerySet) -> int:
    deleted = 0
    while True:
        batch = list(rows.order_by().values_list("pk", flat=True)[:_DELETE_BATCH])
        if not batch:
            return deleted
        _, per_model = rows.model.objects.filter(pk__in=batch).delete()
        deleted += per_model.get(rows.model._meta.label, 0)


def _lost(row: DBTaskResult, *, beats: dict[str, datetime], now: datetime) -> bool:
    """Whether a RUNNING row's worker is gone: silent past PAYLINK_WORKER_LOST_AFTER_SECONDS if
    it ever beat, else (a worker without a heartbeat) running past the fixed deadline."""
    worker = row.worker_ids[-1] if row.worker_ids else None
    beat = beats.get(worker) if worker else None
    if beat is not None:
        return beat < now - timedelta(seconds=settings.PAYLINK_WORKER_LOST_AFTER_SECONDS)
    deadline = now - timedelta(seconds=settings.PAYLINK_TASK_STUCK_AFTER_SECONDS)
    return row.started_at is not None and row.started_at < deadline


def task_results_stuck_recover(*, now: datetime | None = None) -> StuckRecovery:
    """Tasks left RUNNING by a dead worker: run again, or fail with a note.

    django-tasks-db never reclaims a task whose worker was killed. Each worker's heartbeat
    (services/worker_heartbeats.py) says whether it lives: a task whose worker stopped beating is
    lost, one whose worker beats is running, however long. Our tasks load fresh rows and are safe
    to run twice, so a lost task is put back in the queue, until it has been tried
    PAYLINK_TASK_MAX_ATTEMPTS times; then it is failed, saying why, for someone to look at.
    """
    now = now or timezone.now()
    running = list(DBTaskResult.objects.running().order_by("started_at"))
    beats = worker_last_beats(worker_ids={row.worker_ids[-1] for row in running if row.worker_ids})
    requeued = failed = 0
    for row in (row for row in running if _lost(row, beats=beats, now=now)):
        # Only the row exactly as read: a worker that finishes it meanwhile wins.
        same_row = DBTaskResult.objects.filter(
            pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        since = f"running since {row.started_at:%Y-%m-%d %H:%M:%S} UTC"
        if len(row.worker_ids) >= settings.PAYLINK_TASK_MAX_ATTEMPTS:
            note = (
                f"Abandoned: {since} with no answer after {len(row.worker_ids)} attempt(s); "
                "its worker stopped. Not retried again."
            )
            failed += same_row.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="paylink.services.maintenance.TaskAbandoned",
                traceback=note,
            )
            logger.warning("task result %s failed: %s", row.pk, note)
        else:
            note = f"Re-queued at {now:%Y-%m-%d %H:%M:%S} UTC: {since}; its worker stopped."
            requeued += same_row.update(
                status=TaskResultStatus.READY, started_at=None, traceback=note
            )
            logger.warning("task result %s re-queued (%s)", row.pk, row.task_path)
    worker_heartbeats_forget(now=now)
    return StuckRecovery(requeued=requeued, failed=failed)


def _webhook_events_waiting_in_queue() -> set[int]:
    waiting = DBTaskResult.objects.filter(
        task_path=_WEBHOOK_TASK_PATH,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).values_list("args_kwargs", flat=True)
    return {args["args"][0] for args in waiting if args.get("args")}


def webhook_events_redrive(*, now: datetime | None = None) -> int:
    """Enqueue again the verified events never processed (their task was lost), oldest first.

    Only events still `received` (signed and claimed, never processed) are: failed ones retry on
    their own schedule and staff can re-run them from the admin.
    """
    now = now or timezone.now()
    older_than = now - timedelta(seconds=settings.PAYLINK_WEBHOOK_REDRIVE_AFTER_SECONDS)
    lost = WebhookEvent.objects.filter(
        state=WebhookState.RECEIVED, received_at__lt=older_than
    ).order_by("received_at")
    waiting = _webhook_events_waiting_in_queue()
    redriven = 0
    for event_id in lost.values_list("pk", flat=True)[:_REDRIVE_BATCH]:
        if event_id in waiting:
            # Still queued (a busy worker, not a lost task): enqueuing again would only double it.
            continue
        tasks.webhook_event_process.enqueue(event_id)
        redriven += 1
    if redriven:
        logger.warning("re-drove %s webhook event(s) never processed", redriven)
    return redriven


def task_results_prune(*, now: datetime | None = None) -> int:
    """Delete finished task results older than PAYLINK_TASK_RESULT_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PAYLINK_TASK_RESULT_RETENTION_DAYS)
    return _delete_in_batches(DBTaskResult.objects.finished().filter(finished_at__lt=cutoff))


def webhook_events_expire(*, now: datetime | None = None) -> int:
    """Delete webhook events received more than PAYLINK_WEBHOOK_EVENT_RETENTION_DAYS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PAYLINK_WEBHOOK_EVENT_RETENTION_DAYS)
    return _delete_in_batches(WebhookEvent.objects.filter(received_at__lt=cutoff))


def sdk_events_expire(*, now: datetime | None = None) -> int:
    """Delete SDK events recorded more than PAYLINK_SDK_EVENT_RETENTION_DAYS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PAYLINK_SDK_EVENT_RETENTION_DAYS)
    return _delete_in_batches(SdkEvent.objects.filter(created_at__lt=cutoff))
