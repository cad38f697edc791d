"""Background work, run by django.tasks (the db_worker in production, inline in tests).

Each task takes plain ids, loads fresh rows and calls one service, so a task that runs late or
twice does no harm. Services are imported at call time because they enqueue these tasks.

Queues by kind, so quick work never waits behind slow work (each has its own workers in
production, see the Procfile):
- `webhooks`: applying stored webhook events; database work only, milliseconds each.
- `atomic`: anything that calls Atomic (syncs, status checks, reconcile units); seconds each.
- `default`: the rest (periodic housekeeping).
"""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


WEBHOOKS_QUEUE = "webhooks"
ATOMIC_QUEUE = "atomic"


@task(queue_name=ATOMIC_QUEUE)
def sync_accounts(profile_id: int) -> None:
    """Fetch and store one user's accounts; failures are recorded on the snapshot."""
    from paylink.models import Profile
    from paylink.services.accounts import accounts_sync, accounts_sync_started

    accounts_sync_started(profile_id=profile_id)
    profile = Profile.objects.filter(pk=profile_id).first()
    if profile is None:
        # The user was deleted after the sync was asked for: nothing left to sync.
        return
    accounts_sync(profile=profile)


@task(queue_name=WEBHOOKS_QUEUE)
def process_webhook_event(event_id: int) -> None:
    """Apply one stored, signed webhook event; a failure is kept on it and retried (bounded)."""
    from paylink.models import WebhookEvent
    from paylink.services.webhooks import webhook_event_process

    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        logger.warning("webhook event %s is gone; not processed", event_id)
        return
    webhook_event_process(event=event)


@task(queue_name=ATOMIC_QUEUE)
def reconcile_task(task_pk: int) -> None:
    """Ask Atomic about one quiet task (a unit of paylink_reconcile's sweep)."""
    from paylink.models import Task
    from paylink.services.reconcile import reconcile_task_check

    task_row = Task.objects.select_related("profile").filter(pk=task_pk).first()
    if task_row is None or task_row.is_terminal:
        return
    for line in reconcile_task_check(task=task_row).lines:
        logger.info("reconcile: %s", line)


@task(queue_name=ATOMIC_QUEUE)
def reconcile_profile(profile_id: int) -> None:
    """Read one person's task list at Atomic (a unit of paylink_reconcile's sweep)."""
    from paylink.models import Profile
    from paylink.services.reconcile import reconcile_profile_tasks

    profile = Profile.objects.select_related("user").filter(pk=profile_id).first()
    if profile is None:
        return
    for line in reconcile_profile_tasks(profile=profile).lines:
        logger.info("reconcile: %s", line)
