"""Reads of tasks, always scoped to the user who owns them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from paylink.models import Task


def task_for_user(*, user: AbstractBaseUser, atomic_id: str) -> Task:
    """The task `atomic_id` if it belongs to `user`; another user's or an unknown id is a 404."""
    try:
        return Task.objects.select_related("profile").get(atomic_id=atomic_id, profile__user=user)
    except Task.DoesNotExist:
        raise Http404("No such task.") from None


def tasks_recent_for_user(*, user: AbstractBaseUser, limit: int = 10) -> QuerySet[Task]:
    """The user's latest tasks, newest first; none that Atomic has yet to confirm as theirs."""
    return Task.objects.filter(profile__user=user, awaiting_confirmation=False).order_by(
        "-created_at"
    )[:limit]
