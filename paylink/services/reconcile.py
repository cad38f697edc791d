"""Catching up on what webhooks missed, in proportion to what is unsettled.

Atomic retries a webhook only three times, so the host also asks. It asks only about what can
still change: tasks not final that have been quiet a while, the task lists of people who
opened Transact recently (a task that finished while the host was down is known to Atomic
alone), and the accounts of people whose last sync failed or whose copy is older than their
last completed task. Everyone else's accounts stay fresh through webhooks and Refresh. Each
unit of work is one Atomic call, runs on its own (inline from the command, or as a background
job per unit), and takes its turn under a per-second budget shared by every process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from paylink import client, tasks
from paylink.models import RECONCILE_LISTED_AFTER, Profile, Task, TaskStatus
from paylink.services.accounts import accounts_sync, accounts_sync_request
from paylink.services.tasks import TaskOwnershipError, task_record, task_status_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileOutcome:
    """What one unit of reconcile work found: lines to report, and errors among them."""

    lines: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def reconcile_stuck_tasks(*, now: datetime | None = None) -> Iterator[Task]:
    """Tasks not final whose status has not moved for PAYLINK_RECONCILE_AFTER_SECONDS."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PAYLINK_RECONCILE_AFTER_SECONDS)
    return (
        Task.objects.filter(
            status__in=[TaskStatus.QUEUED, TaskStatus.PROCESSING], updated_at__lt=cutoff
        )
        .select_related("profile")
        .order_by("updated_at", "pk")
        .iterator()
    )


def reconcile_open_profiles() -> Iterator[Profile]:
    """People who opened Transact recently and whose task list has not been read since their
    last token could have been used (its lifetime) plus a grace period for tasks to finish."""
    return reconcile_open_profiles_query().iterator()


def reconcile_open_profiles_query() -> QuerySet[Profile]:
    """The query behind `reconcile_open_profiles` (its plan is what the index serves)."""
    settle = timedelta(
        seconds=settings.PAYLINK_TOKEN_LIFETIME + settings.PAYLINK_RECONCILE_SETTLE_SECONDS
    )
    # The expression of the partial index profile_reconcile_open, word for word, so the
    # database finds the few open people by a range scan however many once opened Transact.
    return (
        Profile.objects.filter(transact_opened_at__isnull=False)
        .alias(listed_after=RECONCILE_LISTED_AFTER)
        .filter(Q(listed_after__isnull=True) | Q(listed_after__lt=settle))
        .select_related("user")
        .order_by("transact_opened_at", "pk")
    )


def reconcile_stale_profiles(*, now: datetime | None = None) -> Iterator[Profile]:
    """People whose accounts copy may be missing what Atomic holds: their last sync failed, or
    their snapshot is older than their last completed task (or they have none). Anyone with a
    sync already queued, and not lapsed, is left to it."""
    lapsed = (now or timezone.now()) - timedelta(seconds=settings.PAYLINK_SYNC_QUEUED_LAPSE_SECONDS)
    last_completed = (
        Task.objects.filter(
            profile=OuterRef("pk"), status=TaskStatus.COMPLETED, awaiting_confirmation=False
        )
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    failed = Q(snapshot__last_error_at__isnull=False) & (
        Q(snapshot__fetched_at__isnull=True)
        | Q(snapshot__last_error_at__gt=F("snapshot__fetched_at"))
    )
    behind = Q(last_completed__isnull=False) & (
        Q(snapshot__isnull=True)
        | Q(snapshot__fetched_at__isnull=True)
        | Q(snapshot__fetched_at__lt=F("last_completed"))
    )
    queued = Q(snapshot__sync_queued_at__isnull=False) & Q(snapshot__sync_queued_at__gte=lapsed)
    return (
        Profile.objects.annotate(last_completed=Subquery(last_completed))
        .filter(failed | behind)
        .exclude(queued)
        .select_related("user")
        .order_by("pk")
        .iterator()
    )


def reconcile_profile_sync(*, profile: Profile) -> ReconcileOutcome:
    """Fetch one person's accounts again, their copy being behind or their last sync failed."""
    name = profile.user.get_username()
    atomic_budget_wait()
    snapshot = accounts_sync(profile=profile)
    if (
        snapshot.last_error
        and snapshot.last_error_at
        and (snapshot.fetched_at is None or snapshot.last_error_at > snapshot.fetched_at)
    ):
        line = f"user {name}: accounts sync failed: {snapshot.last_error}"
        return ReconcileOutcome(lines=(line,), errors=(line,))
    return ReconcileOutcome(lines=(f"user {name}: accounts synced (v{snapshot.version})",))


def atomic_budget_wait(*, now: float | None = None) -> None:
    """Take one of PAYLINK_RECONCILE_CALLS_PER_SECOND, shared through the cache by every
    process; when this second's are spent, wait for the next second's."""
    limit = settings.PAYLINK_RECONCILE_CALLS_PER_SECOND
    while True:
        second = int(now if now is not None else time.time())
        key = f"paylink:reconcile-budget:{second}"
        cache.add(key, 0, timeout=5)
        try:
            taken = cache.incr(key)
        except ValueError:  # expired between add and incr: the next second has begun
            continue
        if taken <= limit:
            return
        now = None
        time.sleep(max(0.0, second + 1 - time.time()))


def reconcile_unconfirmed_expire(*, now: datetime | None = None) -> int:
    """Delete task ids only a browser vouched for that Atomic never confirmed in
    PAYLINK_UNCONFIRMED_TASK_SECONDS: made up or mistyped, asking about them would fail for ever."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PAYLINK_UNCONFIRMED_TASK_SECONDS)
    expired, _ = Task.objects.filter(awaiting_confirmation=True, created_at__lt=cutoff).delete()
    return expired


def reconcile_task_check(*, task: Task) -> ReconcileOutcome:
    """Ask Atomic about one quiet task (through the one path that does so)."""
    atomic_budget_wait()
    refresh = task_status_refresh(task=task, windowed=False)
    if refresh.gone:
        # Atomic does not know it (404), or it is nobody's here: given up, not an error.
        return ReconcileOutcome(lines=(f"task {task.atomic_id}: dropped, not a task of this user",))
    if refresh.error:
        line = f"task {task.atomic_id}: {refresh.error}"
        return ReconcileOutcome(lines=(line,), errors=(line,))
    if refresh.task.status != task.status:
        return ReconcileOutcome(
            lines=(f"task {task.atomic_id}: {task.status} -> {refresh.task.status}",)
        )
    return ReconcileOutcome(lines=(f"task {task.atomic_id}: still {refresh.task.status}",))


def reconcile_profile_tasks(*, profile: Profile) -> ReconcileOutcome:
    """Read one person's task list at Atomic and record what the host never heard of."""
    name = profile.user.get_username()
    atomic_budget_wait()
    started = timezone.now()
    try:
        summaries = client.atomic_client().user_tasks_list(identifier=profile.identifier)
    except client.AtomicError as exc:
        line = f"user {name}: {exc}"
        return ReconcileOutcome(lines=(line,), errors=(line,))
    lines: list[str] = []
    errors: list[str] = []
    completed_any = False
    for summary in summaries:
        try:
            change = task_record(
                profile=profile,
                atomic_id=summary.id[:64],
                status=summary.status[:32] or None,
                fail_reason=summary.fail_reason,
                authenticated=summary.authenticated,
                product=(summary.product or "")[:32],
                company_id=(summary.company_id or "")[:64],
                company_name=(summary.company_name or "")[:200],
            )
        except TaskOwnershipError:
            errors.append(f"user {name}: task {summary.id} belongs to another user")
            continue
        if change.created:
            lines.append(f"user {name}: recorded task {summary.id} ({change.task.status})")
        elif change.status_changed:
            lines.append(f"user {name}: task {summary.id} -> {change.task.status}")
        completed_any = completed_any or change.completed_now
    if completed_any:
        # One sync covers every task that finished for this person.
        accounts_sync_request(profile=profile)
    Profile.objects.filter(pk=profile.pk).update(tasks_listed_at=started)
    return ReconcileOutcome(lines=tuple(lines + errors), errors=tuple(errors))


def reconcile_enqueue(*, now: datetime | None = None) -> tuple[int, int, int]:
    """Fan the sweep out as background jobs, one per task, person or accounts sync; (tasks,
    people, syncs) enqueued.

    A unit still waiting from an earlier sweep is not enqueued twice."""
    reconcile_unconfirmed_expire(now=now)
    window = settings.PAYLINK_RECONCILE_AFTER_SECONDS
    quiet = people = syncs = 0
    for task in reconcile_stuck_tasks(now=now):
        if cache.add(f"paylink:reconcile:task:{task.pk}", 1, timeout=window):
            tasks.reconcile_task_check.enqueue(task.pk)
            quiet += 1
    for profile in reconcile_open_profiles():
        if cache.add(f"paylink:reconcile:profile:{profile.pk}", 1, timeout=window):
            tasks.reconcile_profile_tasks.enqueue(profile.pk)
            people += 1
    for profile in reconcile_stale_profiles(now=now):
        # Shorter than a sweep's period, so the next sweep asks again if this one failed.
        if cache.add(f"paylink:reconcile:sync:{profile.pk}", 1, timeout=max(1, window // 2)):
            tasks.reconcile_profile_sync.enqueue(profile.pk)
            syncs += 1
    return quiet, people, syncs
