"""Task records: created from whichever source hears of a task first, moved forward only."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from paylink import client, tasks
from paylink.models import STATUS_RANK, TERMINAL_STATUSES, Profile, Task, TaskClaim, TaskStatus
from paylink.selectors.tasks import (
    TOLD_WINDOWS,
    task_cache_version_new,
    task_cache_version_writing,
    task_cache_versions_new,
    task_cache_versions_writing,
    task_status_check_failed_key,
    task_status_window_key,
    task_told_key,
    task_told_recently,
)
from paylink.services.accounts import accounts_sync_request

logger = logging.getLogger(__name__)


class TaskOwnershipError(Exception):
    """A task id arrived for one user but the host already holds it for another, or Atomic
    says it is another user's."""


class TaskUnknownError(Exception):
    """Atomic does not know the task id: made up, mistyped, or long gone."""


@dataclass(frozen=True)
class TaskChange:
    task: Task
    created: bool
    status_changed: bool

    @property
    def completed_now(self) -> bool:
        return self.status_changed and self.task.is_completed


@dataclass(frozen=True)
class TaskLaunch:
    """What the person's page says it launched; blank where it does not say."""

    operation: str = ""
    action_type: str = ""
    account_id: str = ""


def _status_may_move(*, current: str, new: str, patched: bool) -> bool:
    if new == current:
        return False
    if patched:
        # task-status-patched is Atomic's correction of a final status: it wins.
        return True
    if current in TERMINAL_STATUSES:
        return False
    # Same rank moves too, so an unknown status reported while queued is kept and shown.
    return STATUS_RANK.get(new, 0) >= STATUS_RANK.get(current, 0)


def task_record(
    *,
    profile: Profile,
    atomic_id: str,
    status: str | None = None,
    fail_reason: str | None = None,
    authenticated: bool | None = None,
    patched: bool = False,
    confirmed: bool = True,
    company_id: str = "",
    company_name: str = "",
    product: str = "",
    operation: str = "",
    action_type: str = "",
    account_id: str = "",
) -> TaskChange:
    """Create or update the task `atomic_id` for `profile`.

    The status only moves forward (queued, processing, then completed or failed), so a
    late or replayed report can never undo a newer one; `patched=True` is the exception.

    `confirmed=False` is for a task only a browser vouches for: it is kept awaiting
    confirmation. Should another profile's browser have claimed it first, also unconfirmed,
    this profile's claim is kept beside it (`TaskClaim`): both see the task until Atomic says.
    Every other source (a signed webhook, the user's task list or the task's details at
    Atomic) is Atomic's word: it confirms the task, takes it from another profile that had
    only claimed it, and ends every claim.
    The details (`company_id` to `account_id`) fill in what a source knows; a blank one never
    erases what another source said.
    Raises TaskOwnershipError when the task belongs to another profile.
    """
    details = {
        "company_id": company_id,
        "company_name": company_name,
        "product": product,
        "operation": operation,
        "action_type": action_type,
        "account_id": account_id,
    }
    with transaction.atomic():
        task, created = Task.objects.select_for_update().get_or_create(
            atomic_id=atomic_id,
            defaults={"profile": profile, "awaiting_confirmation": not confirmed},
        )
        if task.profile_id != profile.pk:
            if not task.awaiting_confirmation:
                raise TaskOwnershipError(atomic_id)
            if not confirmed:
                # Two browsers claim one id and Atomic cannot be asked yet: neither hides the
                # task from the other. Nothing of the task changes on a claim's word.
                _task_claim_keep(task=task, profile=profile, details=details)
                return TaskChange(task=task, created=False, status_changed=False)
            # Another user's browser reported this id first; Atomic says whose it is. What
            # that browser said it launched goes with the claim; the owner's own claim, if
            # their browser made one, says what they launched.
            logger.warning("Task %s was claimed by another user; given to its owner", atomic_id)
            task.profile = profile
            own = TaskClaim.objects.filter(task=task, profile=profile).first()
            for name in details:
                setattr(task, name, getattr(own, name, "") if name in _CLAIM_FIELDS else "")
        if confirmed:
            if task.awaiting_confirmation:
                TaskClaim.objects.filter(task=task).delete()
            task.awaiting_confirmation = False
        status_changed = _task_news_apply(
            task,
            details=details,
            status=status,
            fail_reason=fail_reason,
            authenticated=authenticated,
            patched=patched,
        )
        task.save()
    if not created:
        # A task created just now has nothing cached: a poll caches only a row it found.
        _task_cache_drop(atomic_id=atomic_id)
    return TaskChange(task=task, created=created, status_changed=status_changed)


def _task_news_apply(
    task: Task,
    *,
    details: dict[str, str],
    status: str | None,
    fail_reason: str | None,
    authenticated: bool | None,
    patched: bool,
) -> bool:
    """Change `task` in memory by what a source said of it; whether its status moved. The one
    rule for every source, one report at a time (`task_record`) or many (`TasksRecording`)."""
    for name, value in details.items():
        if value:
            setattr(task, name, value)
    if authenticated is not None:
        task.authenticated = authenticated
    if status and _status_may_move(current=task.status, new=status, patched=patched):
        task.status = status
        if status in TERMINAL_STATUSES:
            task.finished_at = timezone.now()
            task.fail_reason = (fail_reason or "") if status == TaskStatus.FAILED else ""
        return True
    if fail_reason and task.status == TaskStatus.FAILED and not task.fail_reason:
        task.fail_reason = fail_reason
    return False


# What a claimant's browser says it launched, kept on its claim.
_CLAIM_FIELDS = ("operation", "action_type", "account_id")


def _task_claim_keep(*, task: Task, profile: Profile, details: dict[str, str]) -> None:
    launch = {name: details[name] for name in _CLAIM_FIELDS if details.get(name)}
    claim, created = TaskClaim.objects.get_or_create(task=task, profile=profile, defaults=launch)
    if not created and launch:
        TaskClaim.objects.filter(pk=claim.pk).update(**launch)


# What Atomic's word may change of a known task, the columns `TasksRecording` writes back.
_NEWS_FIELDS = [
    "status",
    "fail_reason",
    "authenticated",
    "company_id",
    "company_name",
    "product",
    "finished_at",
    "updated_at",
]


class TasksRecording:
    """`task_record` for many of Atomic's reports at once (a worker's claim of webhooks), in the
    caller's transaction: the tasks they name are locked in one query, each report is applied
    in turn by the same rule (`record`), and `save` writes the rows together, the new ones in
    one INSERT and the changed ones in one more, where `task_record` spends a savepoint, a
    SELECT and a write on each report.

    A task a browser claimed while Atomic could not be asked (`awaiting_confirmation`) is
    settled by `task_record` itself, claims and all. Should another process create one of the
    new tasks before `save`, its INSERT fails (IntegrityError), and with it the caller's
    transaction, rather than overwrite news it never saw: the caller goes one report at a time.
    """

    def __init__(self, *, atomic_ids: Iterable[str]) -> None:
        wanted = sorted(set(atomic_ids))
        # Locked in one order by every worker, so two claims naming the same tasks never
        # deadlock.
        locked = Task.objects.select_for_update().filter(atomic_id__in=wanted).order_by("atomic_id")
        self._tasks: dict[str, Task] = {task.atomic_id: task for task in locked} if wanted else {}
        self._new: dict[str, Task] = {}
        self._changed: dict[str, Task] = {}

    def record(
        self,
        *,
        profile: Profile,
        atomic_id: str,
        status: str | None = None,
        fail_reason: str | None = None,
        authenticated: bool | None = None,
        patched: bool = False,
        company_id: str = "",
        company_name: str = "",
        product: str = "",
    ) -> TaskChange:
        """As `task_record` with `confirmed=True`, in memory until `save`. Raises
        TaskOwnershipError when the task belongs to another profile."""
        details = {"company_id": company_id, "company_name": company_name, "product": product}
        task = self._tasks.get(atomic_id)
        if task is not None and task.awaiting_confirmation:
            change = task_record(
                profile=profile,
                atomic_id=atomic_id,
                status=status,
                fail_reason=fail_reason,
                authenticated=authenticated,
                patched=patched,
                company_id=company_id,
                company_name=company_name,
                product=product,
            )
            self._tasks[atomic_id] = change.task
            return change
        created = task is None
        if task is None:
            task = self._tasks[atomic_id] = self._new[atomic_id] = Task(
                profile=profile, atomic_id=atomic_id
            )
        elif task.profile_id != profile.pk:
            raise TaskOwnershipError(atomic_id)
        elif atomic_id not in self._new:
            self._changed[atomic_id] = task
        status_changed = _task_news_apply(
            task,
            details=details,
            status=status,
            fail_reason=fail_reason,
            authenticated=authenticated,
            patched=patched,
        )
        return TaskChange(task=task, created=created, status_changed=status_changed)

    def save(self) -> None:
        """Write what `record` changed; the changed tasks' cached rows are dropped as
        `task_record` drops them."""
        if self._new:
            Task.objects.bulk_create(self._new.values())
        if self._changed:
            changed = list(self._changed.values())
            kept = [task.created_at for task in changed]
            # An INSERT that meets each (locked) row and updates it instead: one statement for
            # rows of different values, where `bulk_update` builds a CASE per row and column,
            # ten times the work.
            Task.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["atomic_id"],
                update_fields=_NEWS_FIELDS,
            )
            # bulk_create stamps every object as if new; the rows kept their creation time.
            for task, created_at in zip(changed, kept, strict=True):
                task.created_at = created_at
            atomic_ids = list(self._changed)
            task_cache_versions_writing(atomic_ids=atomic_ids)
            transaction.on_commit(lambda: task_cache_versions_new(atomic_ids=atomic_ids))
        self._new, self._changed = {}, {}


def _task_cache_drop(*, atomic_id: str) -> None:
    # Marked as being written now, and given a new version after the commit: whatever was cached
    # before is stale (even a row a poll read before the commit and stores after it), and
    # between the two every poll reads the table, so from the commit on it shows the new row.
    task_cache_version_writing(atomic_id=atomic_id)
    transaction.on_commit(lambda: task_cache_version_new(atomic_id=atomic_id))


@dataclass(frozen=True)
class TaskRefresh:
    """How asking Atomic about a task went: the task as now known, and whether Atomic was asked
    (`checked`) or could not answer (`error`, a safe sentence)."""

    task: Task
    checked: bool = False
    error: str = ""
    # The task is not (or no longer) its user's: Atomic does not know it, or names another user.
    gone: bool = False


def task_told(*, atomic_id: str) -> None:
    """Note that a webhook just brought news of task `atomic_id` (shared across processes), so
    the task page's poll does not ask Atomic about it for TOLD_WINDOWS status windows."""
    told_for = settings.PAYLINK_STATUS_REFRESH_SECONDS * TOLD_WINDOWS
    cache.set(task_told_key(atomic_id=atomic_id), 1, told_for)


def tasks_told(*, atomic_ids: Iterable[str]) -> None:
    """`task_told` for many tasks, in one cache round trip."""
    told_for = settings.PAYLINK_STATUS_REFRESH_SECONDS * TOLD_WINDOWS
    keys = {task_told_key(atomic_id=atomic_id): 1 for atomic_id in atomic_ids}
    if keys:
        cache.set_many(keys, told_for)


def task_status_refresh(*, task: Task, windowed: bool = True) -> TaskRefresh:
    """Ask Atomic for `task`'s status, record it, and on completion request an accounts sync.

    The one path by which a status *asked for* reaches the host (webhooks are the other, told):
    the task page's poll and `paylink_reconcile` both come through here. With `windowed`, Atomic
    is asked at most once per PAYLINK_STATUS_REFRESH_SECONDS per task, across every poller and
    process (the shared cache decides), and not while a webhook's news is fresh (`task_told`).
    A final task is never asked about again. Whatever it finds, the task's cached row is
    dropped, so the poll that asked for this check reads the row as it now stands.
    """
    try:
        return _task_status_refresh(task=task, windowed=windowed)
    finally:
        _task_cache_drop(atomic_id=task.atomic_id)


def _task_status_refresh(*, task: Task, windowed: bool) -> TaskRefresh:
    if task.is_terminal and not task.awaiting_confirmation:
        return TaskRefresh(task=task)
    if windowed and task_told_recently(atomic_id=task.atomic_id):
        # A webhook told us about it moments ago: the row is as fresh as Atomic's answer.
        return TaskRefresh(task=task)
    if windowed and not _status_window_claim(task=task):
        # Another poller, maybe in another process, asked within the window.
        return TaskRefresh(task=task)
    if task.awaiting_confirmation:
        # Its status is asked for only once Atomic says whose it is.
        return _task_confirm(task=task)
    failed_key = task_status_check_failed_key(atomic_id=task.atomic_id)
    try:
        answer = client.atomic_client().task_status_get(task_id=task.atomic_id)
    except client.AtomicError as error:
        logger.warning("Task %s status check failed: %s", task.atomic_id, error)
        # The poll says "still checking" until a check succeeds.
        cache.set(failed_key, 1, settings.PAYLINK_STATUS_REFRESH_SECONDS * 6)
        return TaskRefresh(task=task, error=str(error))
    cache.delete(failed_key)
    change = task_record(
        profile=task.profile,
        atomic_id=task.atomic_id,
        status=answer.status[:32],
        fail_reason=answer.fail_reason,
    )
    Task.objects.filter(pk=task.pk).update(status_checked_at=timezone.now())
    if change.completed_now:
        accounts_sync_request(profile=task.profile)
    return TaskRefresh(task=change.task, checked=True)


# Atomic's answers meaning "no such task": 404 for an id it never issued, 400 or 422 for one
# that cannot even be an id.
_NOT_A_TASK = frozenset({400, 404, 422})


def _task_from_details(
    *, profile: Profile, atomic_id: str, details: client.TaskDetails, launch: TaskLaunch
) -> TaskChange:
    return task_record(
        profile=profile,
        atomic_id=atomic_id,
        status=details.status[:32],
        fail_reason=details.fail_reason,
        authenticated=details.authenticated,
        company_id=(details.company_id or "")[:64],
        company_name=(details.company_name or "")[:200],
        product=(details.product or "")[:32],
        operation=launch.operation,
        action_type=launch.action_type,
        account_id=launch.account_id,
    )


def _task_confirm(*, task: Task) -> TaskRefresh:
    """Ask Atomic whose `task` is; record it for that user, or drop it when it is nobody's here."""
    try:
        details = client.atomic_client().task_details_get(task_id=task.atomic_id)
    except client.AtomicError as error:
        if error.status in _NOT_A_TASK:
            logger.info("Task %s is unknown to Atomic; dropped", task.atomic_id)
            task.delete()
            _task_cache_drop(atomic_id=task.atomic_id)
            return TaskRefresh(task=task, gone=True)
        logger.warning("Task %s could not be confirmed: %s", task.atomic_id, error)
        return TaskRefresh(task=task, error=str(error))
    owner = (
        task.profile
        if details.identifier == task.profile.identifier
        else Profile.objects.filter(identifier=details.identifier or "").first()
    )
    if owner is None:
        logger.warning("Task %s belongs to no user of this host; dropped", task.atomic_id)
        task.delete()
        _task_cache_drop(atomic_id=task.atomic_id)
        return TaskRefresh(task=task, gone=True)
    change = _task_from_details(
        profile=owner, atomic_id=task.atomic_id, details=details, launch=TaskLaunch()
    )
    Task.objects.filter(pk=task.pk).update(status_checked_at=timezone.now())
    if change.completed_now:
        accounts_sync_request(profile=owner)
    return TaskRefresh(task=change.task, checked=True, gone=owner.pk != task.profile_id)


def task_confirm_and_record(*, profile: Profile, atomic_id: str, launch: TaskLaunch) -> TaskChange:
    """Record a task id the browser reported for `profile`, once Atomic confirms it is theirs.

    Atomic's task details must name the profile's identifier; until they can be read (Atomic
    slow or away) the task is kept awaiting confirmation, unlisted. Raises TaskOwnershipError
    when the task is another user's, TaskUnknownError when Atomic does not know it.
    """
    known = Task.objects.filter(atomic_id=atomic_id).first()
    if known is not None and not known.awaiting_confirmation:
        # Already confirmed by Atomic, for this profile or another: no need to ask again.
        return task_record(
            profile=profile,
            atomic_id=atomic_id,
            operation=launch.operation,
            action_type=launch.action_type,
            account_id=launch.account_id,
        )
    try:
        details = client.atomic_client().task_details_get(task_id=atomic_id)
    except client.AtomicError as error:
        if error.status in _NOT_A_TASK:
            raise TaskUnknownError(atomic_id) from None
        # Atomic slow, away, or refusing us (a key problem is not the user's fault): keep it.
        logger.warning("Task %s kept unconfirmed: %s", atomic_id, error)
        return task_record(
            profile=profile,
            atomic_id=atomic_id,
            confirmed=False,
            operation=launch.operation,
            action_type=launch.action_type,
            account_id=launch.account_id,
        )
    if details.identifier != profile.identifier:
        raise TaskOwnershipError(atomic_id)
    return _task_from_details(profile=profile, atomic_id=atomic_id, details=details, launch=launch)


def _status_window_claim(*, task: Task) -> bool:
    """True for the one caller per PAYLINK_STATUS_REFRESH_SECONDS per task that may ask Atomic
    (the shared cache decides, across every poller and process)."""
    return cache.add(
        task_status_window_key(atomic_id=task.atomic_id), 1, settings.PAYLINK_STATUS_REFRESH_SECONDS
    )


def task_status_check_request(*, task: Task, settled: bool | None = None) -> bool:
    """Have `task_status_refresh` ask Atomic about `task` in the background, at most once per
    window (the same one a windowed refresh claims); True when a check was enqueued.

    For the task page's poll: a request never waits on Atomic, so a slow Atomic holds up no
    web worker. The answer shows on a later poll, as any webhook's would. `settled` is what the
    poll's own cache read found (`PolledTask.check_settled`): when True, a webhook told us lately
    or the window is claimed, and the cache is not asked again; None asks it here.
    """
    if task.is_terminal and not task.awaiting_confirmation:
        return False
    if settled:
        return False
    if settled is None and task_told_recently(atomic_id=task.atomic_id):
        # A webhook told us about it moments ago: the row is as fresh as Atomic's answer.
        return False
    if not _status_window_claim(task=task):
        return False
    task_pk = task.pk
    transaction.on_commit(lambda: tasks.task_status_refresh.enqueue(task_pk))
    return True
