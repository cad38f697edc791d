"""Reads of tasks, always scoped to the user who owns them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from paylink.models import Task


def task_for_user(*, user: AbstractBaseUser, atomic_id: str) -> Task:
    """The task `atomic_id` if it belongs to `user`; another user's or an unknown id is a 404."""
    try:
        return Task.objects.select_related("profile").get(atomic_id=atomic_id, profile__user=user)
    except Task.DoesNotExist:
        raise Http404("No such task.") from None


# The poll asks every 2 s; a task row rarely changes between two asks. Every status change goes
# through services.tasks.task_record, which drops the cached row, so this only bounds how long
# an edit made elsewhere (the admin) may go unseen.
TASK_CACHE_SECONDS = 300


def task_cache_key(*, atomic_id: str) -> str:
    return f"paylink:task:{atomic_id}"


def task_status_check_failed_key(*, atomic_id: str) -> str:
    return f"paylink:task-status-failed:{atomic_id}"


def task_for_user_polling(*, user: AbstractBaseUser, atomic_id: str) -> tuple[Task, bool]:
    """`task_for_user` from the shared cache when the row has not changed since it was cached,
    and whether the last background status check of it failed: one cache round trip and no
    query on a hit. The cached row is checked against `user`, so ids still leak nothing."""
    key = task_cache_key(atomic_id=atomic_id)
    failed_key = task_status_check_failed_key(atomic_id=atomic_id)
    found = cache.get_many([key, failed_key])
    task = found.get(key)
    if task is None or task.profile.user_id != user.pk:
        task = task_for_user(user=user, atomic_id=atomic_id)
        cache.set(key, task, TASK_CACHE_SECONDS)
    return task, bool(found.get(failed_key))


def tasks_recent_for_user(*, user: AbstractBaseUser, limit: int = 10) -> QuerySet[Task]:
    """The user's latest tasks, newest first; none that Atomic has yet to confirm as theirs."""
    return Task.objects.filter(profile__user=user, awaiting_confirmation=False).order_by(
        "-created_at"
    )[:limit]
