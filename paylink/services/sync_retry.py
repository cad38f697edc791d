"""Accounts syncs that heal: a background sync that fails on an answer worth retrying is tried
again later, with exponential backoff and jitter, so an outage at Atomic leaves nobody with an
empty or stale dashboard once it is over.

Each person has at most one retry waiting (the shared cache decides, across processes), so a
storm of webhooks during an outage does not multiply the calls that follow it. After the last
attempt, the scheduled reconcile (`reconcile_stale_profiles`) picks up whoever is still failing.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from paylink import client, tasks

logger = logging.getLogger(__name__)


def sync_retry_delay(*, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds before retry number `attempt` (1 for the first): the base doubled each attempt up
    to the cap, of which a random half is taken off ("equal jitter"), so the delays still grow
    while retries from many people spread out instead of arriving together."""
    ceiling = min(
        settings.PAYLINK_SYNC_RETRY_MAX_SECONDS,
        settings.PAYLINK_SYNC_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1),
    )
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _retry_key(profile_id: int) -> str:
    return f"paylink:sync-retry:{profile_id}"


def accounts_sync_retry_schedule(
    *, profile_id: int, error: client.AtomicError, attempt: int
) -> float | None:
    """After sync attempt number `attempt` (0 for the first) of the person's accounts failed with
    `error`, enqueue the next one for later; the delay in seconds, or None when no retry is due
    (the error will not heal by waiting, the attempts are spent, a retry is already waiting, or
    the task backend cannot run a job later)."""
    if not error.retryable:
        return None
    next_attempt = attempt + 1
    if next_attempt > settings.PAYLINK_SYNC_RETRY_ATTEMPTS:
        logger.warning(
            "accounts sync for profile %s failed %s times; reconcile will pick it up",
            profile_id,
            next_attempt,
        )
        return None
    if not tasks.accounts_sync.get_backend().supports_defer:
        return None
    delay = sync_retry_delay(attempt=next_attempt)
    if not cache.add(_retry_key(profile_id), next_attempt, timeout=max(1, int(delay))):
        # Another failed sync of this person already has a retry waiting: it covers this one.
        return None
    run_after = timezone.now() + timedelta(seconds=delay)
    transaction.on_commit(
        lambda: tasks.accounts_sync.using(run_after=run_after).enqueue(profile_id, next_attempt)
    )
    logger.info(
        "accounts sync for profile %s retried in %.1f s (attempt %s)",
        profile_id,
        delay,
        next_attempt,
    )
    return delay
