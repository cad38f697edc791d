"""Background work, run by django.tasks (the db_worker in production, inline in tests).

Each task takes plain ids, loads fresh rows and calls one service, so a task that runs late or
twice does no harm. Services are imported at call time because they enqueue these tasks.
"""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def sync_accounts(profile_id: int) -> None:
    """Fetch and store one user's accounts; failures are recorded on the snapshot."""
    from paylink.models import Profile
    from paylink.services.accounts import accounts_sync

    profile = Profile.objects.filter(pk=profile_id).first()
    if profile is None:
        # The user was deleted after the sync was asked for: nothing left to sync.
        return
    accounts_sync(profile=profile)


@task
def process_webhook_event(event_id: int) -> None:
    """Apply one stored, verified webhook event."""
    from paylink.models import WebhookEvent
    from paylink.services.webhooks import webhook_event_process

    event = WebhookEvent.objects.filter(pk=event_id, signature_valid=True).first()
    if event is None:
        logger.warning("webhook event %s is gone or not valid; not processed", event_id)
        return
    webhook_event_process(event=event)


@task
def check_task_status(task_pk: int) -> None:
    """Ask Atomic for one task's status, once the poll has claimed the window for it."""
    from paylink.models import Task
    from paylink.services.tasks import task_status_refresh

    task = Task.objects.filter(pk=task_pk).select_related("profile").first()
    if task is None:
        # Deleted with its user since the poll asked: nothing to check.
        return
    task_status_refresh(task=task, windowed=False)
