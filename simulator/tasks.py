"""The simulated Atomic's task lifecycle, shared by the API, the Transact UI and QA's controls.

A task is stored `queued`; the stepper thread (started by `simulator.startup`) moves it to
`processing` and then to its final status, one step apart, emitting the webhooks Atomic would.
Every state is in the database with the time its next step is due, so reads stay right and a
restart picks up where it was: any overdue step is also taken lazily when a task is read.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from simulator import accounts, background, reads, webhooks
from simulator.catalogue import biller_by_id
from simulator.errors import SimulatorError
from simulator.logins import task_outcome
from simulator.models import (
    ConfigOverride,
    LinkedAccount,
    SimTask,
    SimUser,
    TaskStatus,
    choice,
    fail_reason_key,
)

# Set when a task is committed, so the stepper looks at once instead of at its next tick.
_wake = threading.Event()


def step_seconds() -> float:
    return float(ConfigOverride.current("task_step_seconds", settings.SIMULATOR_TASK_STEP_SECONDS))


def _task_create(**fields: Any) -> SimTask:
    with transaction.atomic():
        task = SimTask.objects.create(
            next_step_at=timezone.now() + timedelta(seconds=step_seconds()), **fields
        )
        transaction.on_commit(_wake.set)
    return task


def task_start(
    *, user: SimUser, company_id: str, username: str, metadata: dict[str, Any] | None = None
) -> SimTask:
    """Start a connect (manage) task; its outcome follows the sandbox username."""
    reads.company_get(company_id)
    return _task_create(
        user=user,
        company_id=company_id,
        operation="manage",
        username=username[:255],
        metadata=metadata or {},
    )


def action_task_start(
    *, user: SimUser, action_id: str, metadata: dict[str, Any] | None = None
) -> SimTask:
    """Start an action task (pause, cancel, change plan) on one of the user's accounts."""
    info = reads.action_describe(user=user, action_id=action_id)
    return _task_create(
        user=user,
        company_id=info.company.id,
        operation="action",
        action_type=info.action_type,
        account_id=info.account_id,
        bill_id=info.bill_id,
        metadata=metadata or {},
    )


def task_get(*, user: SimUser, task_id: str) -> SimTask:
    """One of `user`'s tasks, brought up to date; another user's task is not found."""
    task = SimTask.objects.filter(user=user, task_id=task_id).first()
    if task is None:
        raise SimulatorError("No task has that id.", status=404)
    return task_catch_up(task)


def accounts_for(*, identifier: str) -> list[dict[str, Any]]:
    """The user's PayLink accounts, exactly as GET /{identifier}/pay-link/accounts lists them.

    An unknown identifier has no linked accounts, so it gets an empty list, not a 404.
    """
    user = SimUser.objects.filter(identifier=identifier).first()
    if user is None:
        return []
    # A connect whose last step is overdue (the stepper was down) must show up here too.
    for task in user.tasks.filter(next_step_at__lte=timezone.now()):
        task_catch_up(task)
    return reads.user_accounts(user)


def task_catch_up(task: SimTask) -> SimTask:
    """Take any steps that are overdue (after a restart, or a busy stepper)."""
    while task.next_step_at is not None and task.next_step_at <= timezone.now():
        task_step(task)
        task.refresh_from_db()
    return task


def _task_event(task: SimTask, *, previous: str) -> dict[str, Any]:
    biller = biller_by_id(task.company_id)
    return {
        "taskId": task.task_id,
        "status": task.status,
        "previousStatus": previous,
        fail_reason_key(): task.fail_reason or None,
        "authenticated": task.authenticated,
        "company": {"_id": task.company_id, "name": biller.name if biller else ""},
        "product": "pay-link",
        "operation": task.operation,
        "actionType": task.action_type or None,
        "metadata": task.metadata,
    }


def _task_finish_effects(task: SimTask) -> list[str]:
    """Apply a completed task to the user's accounts; the account ids it touched."""
    if task.operation == "manage":
        connected, _ = LinkedAccount.objects.get_or_create(
            user=task.user, company_id=task.company_id
        )
        return [connected.account_id]
    link = LinkedAccount.objects.filter(user=task.user, account_id=task.account_id).first()
    if link is None:
        return []
    accounts.account_apply_action(
        link=link,
        identifier=task.user.identifier,
        action_type=task.action_type,
        bill_id=task.bill_id,
    )
    return [link.account_id]


def task_step(task: SimTask) -> bool:
    """Move `task` one status forward if its step is due; False if another thread did."""
    if task.next_step_at is None:
        return False
    outcome = task_outcome(task)
    with transaction.atomic():
        previous = task.status
        changes: dict[str, Any] = {"updated_at": timezone.now()}
        if previous == TaskStatus.QUEUED:
            changes |= {
                "status": TaskStatus.PROCESSING,
                "authenticated": outcome.authenticated,
                "next_step_at": task.next_step_at + timedelta(seconds=step_seconds()),
            }
        else:
            changes |= {
                "status": outcome.status,
                "fail_reason": outcome.fail_reason,
                "next_step_at": None,
            }
        # Only the thread whose conditional update lands takes the step (and sends its events).
        taken = SimTask.objects.filter(
            pk=task.pk, status=previous, next_step_at=task.next_step_at
        ).update(**changes)
        if not taken:
            return False
        task.refresh_from_db()
        user = task.user
        webhooks.webhook_emit(
            event_type="task-status-updated", user=user, data=_task_event(task, previous=previous)
        )
        if task.status == TaskStatus.PROCESSING:
            webhooks.webhook_emit(
                event_type="task-authentication-status-updated",
                user=user,
                data={
                    "taskId": task.task_id,
                    "authenticated": task.authenticated,
                    "company": {"_id": task.company_id},
                    "metadata": task.metadata,
                },
            )
            return True
        if task.status == TaskStatus.COMPLETED:
            account_ids = _task_finish_effects(task)
            data: dict[str, Any] = {"accountIds": account_ids, "taskId": task.task_id}
            if choice("accounts_webhook_data") == "accounts":
                # "Atomic will send the users data via webhook": the accounts themselves.
                data["accounts"] = reads.user_accounts(user)
            webhooks.webhook_emit(event_type="pay-link-accounts-updated", user=user, data=data)
        finished: dict[str, Any] = {
            "taskWorkflowId": task.workflow_id,
            "taskId": task.task_id,
            "taskIds": [task.task_id],
            "status": task.status,
            "metadata": task.metadata,
        }
        if task.fail_reason:
            finished[fail_reason_key()] = task.fail_reason
        webhooks.webhook_emit(event_type="task-workflow-finished", user=user, data=finished)
    return True


def task_patch(*, task_id: str, status: str, reason: str = "") -> SimTask:
    """Correct a final task's status, as Atomic rarely does, and send task-status-patched.

    Only QA's control calls it, so a value that makes no sense is a 422, as there."""
    if status not in (TaskStatus.COMPLETED, TaskStatus.FAILED):
        raise SimulatorError("status must be completed or failed.", status=422)
    with transaction.atomic():
        task = SimTask.objects.select_for_update().select_related("user").filter(task_id=task_id)
        found = task.first()
        if found is None:
            raise SimulatorError("No task has that id.", status=404)
        found = task_catch_up(found)
        if not found.is_final:
            raise SimulatorError("Only a final task's status can be patched.", status=422)
        previous = found.status
        found.status = status
        found.fail_reason = (reason or "unknown-failure") if status == TaskStatus.FAILED else ""
        found.save(update_fields=["status", "fail_reason", "updated_at"])
        webhooks.webhook_emit(
            event_type="task-status-patched",
            user=found.user,
            data=_task_event(found, previous=previous),
        )
    return found


def tasks_advance_due() -> float:
    """Take every due step; seconds until the next one is due."""
    for task in SimTask.objects.filter(next_step_at__lte=timezone.now()).order_by("next_step_at"):
        task_step(task)
    upcoming = (
        SimTask.objects.exclude(next_step_at=None)
        .order_by("next_step_at")
        .values_list("next_step_at", flat=True)
        .first()
    )
    if upcoming is None:
        return 1.0
    return max(0.0, (upcoming - timezone.now()).total_seconds())


def stepper_start() -> None:
    """Take task steps as they fall due, in a thread of their own."""
    background.loop_start(name="simulator-tasks", step=tasks_advance_due, wake=_wake)
