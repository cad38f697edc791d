"""Deleting a person's account and everything the host holds about them."""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseSessionStore
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, TaskResultStatus

from paylink import client, tasks
from paylink.lib.cache_prefix import cache_delete_prefix
from paylink.lib.outage import CACHE_ERRORS
from paylink.models import Profile, Task, WebhookEvent
from paylink.selectors.tasks import task_cache_key, task_status_check_failed_key
from paylink.services.accounts import monitoring_end

logger = logging.getLogger(__name__)

# Background tasks whose only argument is a profile's id, a task's pk or a webhook event's pk.
_BY_PROFILE = tuple(
    job.module_path
    for job in (tasks.accounts_sync, tasks.reconcile_profile_tasks, tasks.reconcile_profile_sync)
)
_BY_TASK = tuple(job.module_path for job in (tasks.task_status_refresh, tasks.reconcile_task_check))
_BY_EVENT = (tasks.webhook_event_process.module_path,)
_SESSION_BATCH = 2000


# Atomic refusing end-monitoring for these reasons is about our credentials or its load, not
# about this person: deleting anyway could leave someone monitored that the host forgot.
_END_MONITORING_MUST_SUCCEED = frozenset({401, 403, 429})


def account_delete(*, user: User) -> None:
    """End monitoring at Atomic, then delete the user and all the host holds about them.

    Atomic first. If it cannot be told (a 5xx, a timeout, no answer, or a refusal of our
    credentials or for load: AtomicError, raised), nothing is deleted, so the person can try
    again. Any other 4xx (a PayLink-only user Atomic never monitored may get a 400 or 422, and
    an identifier it never heard of a 404) cannot change by asking again: it is recorded in the
    log and the deletion goes on, so Atomic cannot hold it hostage. The user's profile, tasks,
    accounts snapshot and SDK events go with the user (cascade); the webhook events that name
    their identifier are deleted by that identifier. In the same breath: the person's sessions
    on every device, the results of background tasks about them, and what the shared cache
    holds of them (rendered dashboard fragments, task rows), rather than whenever each would
    have expired.
    """
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.monitoring_ended_at is None:
        try:
            monitoring_end(profile=profile)
        except client.AtomicError as exc:
            refused = exc.status is not None and 400 <= exc.status < 500
            if not refused or exc.retryable or exc.status in _END_MONITORING_MUST_SUCCEED:
                raise
            logger.warning(
                "end-monitoring for profile %s refused with %s (code %s); deleting anyway: %s",
                profile.pk,
                exc.status,
                exc.code,
                exc,
            )
    user_id = user.pk
    task_ids: list[tuple[int, str]] = []
    with transaction.atomic():
        if profile is not None:
            task_ids = list(Task.objects.filter(profile=profile).values_list("pk", "atomic_id"))
            events = WebhookEvent.objects.filter(identifier=profile.identifier)
            _task_results_delete(
                profile_id=profile.pk,
                task_pks=[pk for pk, _ in task_ids],
                event_pks=list(events.values_list("pk", flat=True)),
            )
            events.delete()
        user.delete()
        sessions_delete_for_user(user_id=user_id)
    if profile is not None:
        try:
            _cache_forget(
                profile_id=profile.pk, atomic_ids=[atomic_id for _, atomic_id in task_ids]
            )
        except CACHE_ERRORS as error:
            # The account is gone; what Redis held of it expires on its own (10 minutes).
            logger.warning("cached pages of user %s not deleted: %s", user_id, error)
    logger.info("account of user %s deleted at their request", user_id)


def _task_results_delete(*, profile_id: int, task_pks: list[int], event_pks: list[int]) -> int:
    """The finished or waiting results of background tasks about the person (their arguments
    name them). A running one is left to finish (its worker writes its result to the row) and
    to the retention prune."""
    about = Q(task_path__in=_BY_PROFILE, args_kwargs__args__0=profile_id)
    if task_pks:
        about |= Q(task_path__in=_BY_TASK, args_kwargs__args__0__in=task_pks)
    if event_pks:
        about |= Q(task_path__in=_BY_EVENT, args_kwargs__args__0__in=event_pks)
    rows = DBTaskResult.objects.filter(about).exclude(status=TaskResultStatus.RUNNING)
    deleted, _ = rows.delete()
    return deleted


def sessions_delete_for_user(*, user_id: int) -> int:
    """Deletes every unexpired session signed in as `user_id` (database sessions: each is read,
    since the table has no user column; the engine the host uses), and their cached copies."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DatabaseSessionStore):
        logger.warning("sessions of user %s not deleted: %s", user_id, settings.SESSION_ENGINE)
        return 0
    model = store_class.get_model_class()
    decoder = store_class()
    theirs = []
    live = model.objects.filter(expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data"
    )
    for key, data in live.iterator(chunk_size=_SESSION_BATCH):
        if decoder.decode(data).get(SESSION_KEY) == str(user_id):
            theirs.append(key)
    deleted, _ = model.objects.filter(session_key__in=theirs).delete()
    if issubclass(store_class, CachedDatabaseSessionStore):
        # The cache in front of the table would otherwise keep serving them.
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [store_class.cache_key_prefix + key for key in theirs]
        )
    return deleted


def _cache_forget(*, profile_id: int, atomic_ids: list[str]) -> None:
    cache_delete_prefix(f"paylink:dashboard:{profile_id}:")
    keys = [task_cache_key(atomic_id=atomic_id) for atomic_id in atomic_ids]
    keys += [task_status_check_failed_key(atomic_id=atomic_id) for atomic_id in atomic_ids]
    cache.delete_many(keys)
