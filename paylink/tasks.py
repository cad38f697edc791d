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
def send_due_reminders() -> None:
    """Reminder emails for bills coming due; safe to run as often as wanted (each sends once)."""
    from django.utils import timezone

    from paylink.services.reminders import reminders_send

    run = reminders_send(now=timezone.now())
    logger.info("due reminders: %s sent, %s skipped, %s failed", run.sent, run.skipped, run.failed)


@task
def send_weekly_summaries() -> None:
    """The weekly summary emails; each person gets at most one per week, however often it runs."""
    from django.utils import timezone

    from paylink.services.reminders import weekly_summary_send

    run = weekly_summary_send(now=timezone.now())
    logger.info(
        "weekly summaries: %s sent, %s skipped, %s failed", run.sent, run.skipped, run.failed
    )
