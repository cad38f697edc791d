"""Task records: created from whichever source hears of a task first, moved forward only."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from paylink.models import STATUS_RANK, TERMINAL_STATUSES, Profile, Task


class TaskOwnershipError(Exception):
    """A task id arrived for one user but the host already holds it for another."""


@dataclass(frozen=True)
class TaskChange:
    task: Task
    created: bool
    status_changed: bool

    @property
    def completed_now(self) -> bool:
        return self.status_changed and self.task.status == "completed"


# Details a source may fill in; a blank value never erases what another source said.
_DETAIL_FIELDS = (
    "company_id",
    "company_name",
    "product",
    "operation",
    "action_type",
    "account_id",
)


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
    **details: str,
) -> TaskChange:
    """Create or update the task `atomic_id` for `profile`.

    The status only moves forward (queued, processing, then completed or failed), so a
    late or replayed report can never undo a newer one; `patched=True` is the exception.
    Raises TaskOwnershipError when the task belongs to another profile.
    """
    unknown = set(details) - set(_DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"task_record() got unknown details: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        task, created = Task.objects.select_for_update().get_or_create(
            atomic_id=atomic_id, defaults={"profile": profile}
        )
        if task.profile_id != profile.pk:
            raise TaskOwnershipError(atomic_id)
        for name, value in details.items():
            if value:
                setattr(task, name, value)
        if authenticated is not None:
            task.authenticated = authenticated
        status_changed = False
        if status and _status_may_move(current=task.status, new=status, patched=patched):
            task.status = status
            status_changed = True
            if status in TERMINAL_STATUSES:
                task.finished_at = timezone.now()
                task.fail_reason = (fail_reason or "") if status == "failed" else ""
        elif fail_reason and task.status == "failed" and not task.fail_reason:
            task.fail_reason = fail_reason
        task.save()
    return TaskChange(task=task, created=created, status_changed=status_changed)
