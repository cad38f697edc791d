"""Reads of tasks, always scoped to the user who owns them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from paylink.lib.row_cache import row_dump, row_load, row_shape
from paylink.models import AccountSnapshot, LinkedAccount, Task, TaskClaim
from paylink.payloads import Account, accounts_parse


def task_for_user(*, user: User, atomic_id: str) -> Task:
    """The task `atomic_id` if it belongs to `user`; another user's or an unknown id is a 404.

    A task Atomic has yet to confirm is also `user`'s to see while their browser claims it
    beside another's (`TaskClaim`), with what their own browser said it launched."""
    try:
        return Task.objects.select_related("profile").get(atomic_id=atomic_id, profile__user=user)
    except Task.DoesNotExist:
        pass
    claim = (
        TaskClaim.objects.select_related("task__profile")
        .filter(task__atomic_id=atomic_id, task__awaiting_confirmation=True, profile__user=user)
        .first()
    )
    if claim is None:
        raise Http404("No such task.")
    task = claim.task
    task.operation, task.action_type = claim.operation, claim.action_type
    task.account_id = claim.account_id
    return task


# The poll asks every 2 s; a task row rarely changes between two asks. Every status change goes
# through services.tasks.task_record, which gives the task a new cache version once it commits,
# so this only bounds how long an edit made elsewhere (the admin) may go unseen.
TASK_CACHE_SECONDS = 300

# The row is cached as a plain dict of its columns, under a key naming their shape
# (paylink/lib/row_cache.py).
TASK_CACHE_SHAPE = row_shape(Task)


def task_cache_key(*, atomic_id: str) -> str:
    return f"paylink:task:{TASK_CACHE_SHAPE}:{atomic_id}"


def _task_cache_entry(*, task: Task, version: str) -> dict[str, Any]:
    return {"version": version, "user_id": task.profile.user_id, "row": row_dump(task)}


def _task_from_cache_entry(entry: dict[str, Any]) -> Task:
    return row_load(Task, entry["row"])


def task_cache_version_key(*, atomic_id: str) -> str:
    return f"paylink:task-version:{atomic_id}"


def task_status_check_failed_key(*, atomic_id: str) -> str:
    return f"paylink:task-status-failed:{atomic_id}"


# A version while a change to the task is being written: no row is cached under it, so every
# poll reads the table until the change has committed and `task_cache_version_new` has run.
# Short-lived, for a write that rolled back never clears it.
_WRITING = "writing:"
TASK_WRITING_SECONDS = 60


def task_cache_version_writing(*, atomic_id: str) -> None:
    """Task `atomic_id` is being changed in a transaction not yet committed: until
    `task_cache_version_new`, polls read the row from the table and cache none of it (a row read
    now is the old one, and the commit may come before the next version does)."""
    task_cache_versions_writing(atomic_ids=[atomic_id])


def task_cache_versions_writing(*, atomic_ids: list[str]) -> None:
    """`task_cache_version_writing` for many tasks at once, in two cache round trips."""
    cache.set_many(
        {
            task_cache_version_key(atomic_id=atomic_id): _WRITING + secrets.token_hex(8)
            for atomic_id in atomic_ids
        },
        TASK_WRITING_SECONDS,
    )
    cache.delete_many([task_cache_key(atomic_id=atomic_id) for atomic_id in atomic_ids])


def task_cache_version_new(*, atomic_id: str) -> None:
    """Give task `atomic_id` a new cache version, after a change to its row has committed: every
    row cached before it (including one a poll read before the commit and stores after it) is
    stale from now on."""
    task_cache_versions_new(atomic_ids=[atomic_id])


def task_cache_versions_new(*, atomic_ids: list[str]) -> None:
    """`task_cache_version_new` for many tasks at once, in two cache round trips."""
    cache.set_many(
        {
            task_cache_version_key(atomic_id=atomic_id): secrets.token_hex(8)
            for atomic_id in atomic_ids
        },
        TASK_CACHE_SECONDS,
    )
    cache.delete_many([task_cache_key(atomic_id=atomic_id) for atomic_id in atomic_ids])


def _version_for_read(*, atomic_id: str, found: str | None) -> str:
    # Taken before the row is read: a change that commits after this moment sets a new
    # version, so the row read below is never trusted past that change, whenever it is stored.
    if found is not None:
        return found
    key = task_cache_version_key(atomic_id=atomic_id)
    cache.add(key, secrets.token_hex(8), TASK_CACHE_SECONDS)
    return cache.get(key) or ""


@dataclass(frozen=True)
class PolledTask:
    """What a poll of a task reads in its one cache round trip: the task, whether the last
    background status check of it failed, and whether a new check is already settled for now
    (a webhook told us its news lately, or this window's check was claimed by some poller)."""

    task: Task
    check_failed: bool
    check_settled: bool
    # The row's entry in the cache, as found or as just stored; None when none may be kept (a
    # change being written, a claimant's view). Status lines drawn of this row are kept in it
    # (`task_fragment_keep`).
    entry: dict[str, Any] | None = None

    def fragment(self, drawn_for: str) -> str | None:
        """The status line drawn of this very row for `drawn_for`, if one was kept."""
        return (self.entry or {}).get("drawn", {}).get(drawn_for)


# Status lines kept per cached row: a row is polled in one or two languages, at an interval
# that changes a few times before the task ends.
TASK_FRAGMENTS_KEPT = 6


def task_fragment_keep(*, polled: PolledTask, drawn_for: str, html: str) -> None:
    """Keeps `html`, drawn of `polled.task` for `drawn_for` (all else it shows besides the row),
    beside the cached row, so the next poll of the same row for the same is served it undrawn.
    It lives and dies with the row's entry: a change to the task gives it a new version, and an
    entry under an older one, this line with it, is never served again."""
    if polled.entry is None:
        return
    drawn = dict(list(polled.entry.get("drawn", {}).items())[-(TASK_FRAGMENTS_KEPT - 1) :])
    drawn[drawn_for] = html
    cache.set(
        task_cache_key(atomic_id=polled.task.atomic_id),
        {**polled.entry, "drawn": drawn},
        TASK_CACHE_SECONDS,
    )


def task_for_user_polling(*, user: User, atomic_id: str) -> PolledTask:
    """`task_for_user` from the shared cache when the row has not changed since it was cached,
    with what the poll needs to know of its background check: one cache round trip and no
    query on a hit. The cached row is checked against `user`, so ids still leak nothing.

    A cached row is kept with the task's cache version as it was *before* the row was read, and
    used only while that is still the version: so a poll that read the row while a change was
    being committed cannot serve it after the commit, however the two interleave. While a change
    is being written, nothing is cached at all (`task_cache_version_writing`)."""
    key = task_cache_key(atomic_id=atomic_id)
    version_key = task_cache_version_key(atomic_id=atomic_id)
    failed_key = task_status_check_failed_key(atomic_id=atomic_id)
    told_key = task_told_key(atomic_id=atomic_id)
    window_key = task_status_window_key(atomic_id=atomic_id)
    found = cache.get_many([key, version_key, failed_key, told_key, window_key])
    check_failed = bool(found.get(failed_key))
    check_settled = told_key in found or window_key in found
    version = found.get(version_key)
    cached = found.get(key)
    if (
        isinstance(cached, dict)
        and version is not None
        and cached.get("version") == version
        and cached.get("user_id") == user.pk
    ):
        return PolledTask(_task_from_cache_entry(cached), check_failed, check_settled, cached)
    version = _version_for_read(atomic_id=atomic_id, found=version)
    task = task_for_user(user=user, atomic_id=atomic_id)
    entry = None
    if version and not version.startswith(_WRITING) and task.profile.user_id == user.pk:
        # A claimant's view of another's unconfirmed task is theirs alone: never shared.
        entry = _task_cache_entry(task=task, version=version)
        cache.set(key, entry, TASK_CACHE_SECONDS)
    return PolledTask(task, check_failed, check_settled, entry)


def tasks_recent_for_user(*, user: User, limit: int = 10) -> QuerySet[Task]:
    """The user's latest tasks, newest first; none that Atomic has yet to confirm as theirs."""
    return Task.objects.filter(profile__user=user, awaiting_confirmation=False).order_by(
        "-created_at"
    )[:limit]


def task_account_for_user(*, user: User, task: Task) -> Account | None:
    """The account `task` acted on, as the user's stored accounts now show it; None for a task
    not about one account, or an account the snapshot does not (or no longer) hold."""
    if not task.account_id:
        return None
    payload = (
        AccountSnapshot.objects.filter(profile__user=user).values_list("payload", flat=True).first()
    )
    if not payload:
        return None
    return next((a for a in accounts_parse(payload) if a.id == task.account_id), None)


def task_company_name_for_user(*, user: User, task: Task) -> str:
    """The company a task's outcome names: Atomic's name for it, else (Atomic not yet asked, or
    not answering) the company of the account it was started from, as the dashboard shows it;
    blank when neither is known."""
    if task.company_name or not task.account_id:
        return task.company_name
    named = LinkedAccount.objects.filter(
        snapshot__profile__user=user, atomic_id=task.account_id
    ).values_list("company_name", flat=True)
    return named.first() or ""


# A webhook about a task is Atomic telling us its news: for this many status windows after one,
# the poll trusts the row and does not ask. Six windows (30 s by default) cover the gap between
# Atomic's webhooks for one task's transitions, yet a webhook lost after that is noticed soon.
TOLD_WINDOWS = 6


def task_told_key(*, atomic_id: str) -> str:
    return f"paylink:task-told:{atomic_id}"


def task_status_window_key(*, atomic_id: str) -> str:
    # Held for PAYLINK_STATUS_REFRESH_SECONDS by the one caller that may ask Atomic then.
    return f"paylink:task-status:{atomic_id}"


def task_told_recently(*, atomic_id: str) -> bool:
    """Whether a webhook brought news of task `atomic_id` within the last TOLD_WINDOWS status
    windows (`services.tasks.task_told`): its row is then as fresh as Atomic's answer."""
    return cache.get(task_told_key(atomic_id=atomic_id)) is not None


# The task page polls every PAYLINK_POLL_SECONDS during the task's first minute, then at twice
# the interval each further minute, never less often than every POLL_LONGEST_SECONDS, and not at
# all once the task is PAYLINK_TASK_POLL_DEADLINE_SECONDS old (a "Check again" link instead).
POLL_LONGEST_SECONDS = 30


@dataclass(frozen=True)
class TaskPoll:
    """How the task page polls: every `interval` seconds, or not at all (`stopped` at the
    deadline; a final task simply has nothing left to poll for)."""

    interval: float | None
    stopped: bool = False


def task_poll(*, task: Task, now: datetime | None = None) -> TaskPoll:
    """The task page's poll for `task` now: frequent at first, backing off, stopped at last."""
    if task.is_terminal:
        return TaskPoll(interval=None)
    age = ((now or timezone.now()) - task.created_at).total_seconds()
    if age >= settings.PAYLINK_TASK_POLL_DEADLINE_SECONDS:
        return TaskPoll(interval=None, stopped=True)
    minutes = max(0, int(age) // 60)
    first = settings.PAYLINK_POLL_SECONDS
    return TaskPoll(interval=min(POLL_LONGEST_SECONDS, first * 2**minutes))
