"""The simulated Atomic's task engine, shared by the API views and the Transact UI.

A task is stored `queued`; one background thread moves it to `processing` and then to its final
status, one step apart, emitting the webhooks Atomic would. Every state is in the database
with the time its next step is due, so reads stay right and a restart picks up where it was:
any overdue step is also taken lazily when a task is read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from simulator import accounts, background, webhooks
from simulator.catalogue import BILLERS, Company, biller_by_id
from simulator.models import (
    ConfigOverride,
    LinkedAccount,
    PublicToken,
    SimTask,
    SimUser,
    TaskStatus,
    account_shape,
    choice,
    fail_reason_key,
)

__all__ = [
    "MFA_QUESTION",
    "ActionError",
    "ActionInfo",
    "Company",
    "NotFound",
    "SimulatorError",
    "TokenError",
    "accounts_for",
    "action_describe",
    "action_task_start",
    "companies_list",
    "company_get",
    "login_step",
    "task_get",
    "task_patch",
    "task_start",
    "token_resolve",
    "user_data",
]

MFA_QUESTION = "What was the name of your first pet?"


class SimulatorError(Exception):
    status: int = 400
    code: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenError(SimulatorError):
    """The public token is missing, unknown or expired."""

    status = code = 401


class NotFound(SimulatorError):
    status = code = 404


class ActionError(SimulatorError):
    """The action id is unknown, expired, or not this user's."""

    status = code = 422


@dataclass(frozen=True)
class ActionInfo:
    action_type: str
    account_id: str
    company: Company
    plan_title: str
    # The named bill it acts on ("" for the account's own plan).
    bill_id: str = ""


@dataclass(frozen=True)
class Outcome:
    authenticated: bool
    status: str
    fail_reason: str = ""


# The sandbox credentials; any other username is a wrong login.
_OUTCOMES = {
    "test-good": Outcome(True, TaskStatus.COMPLETED),
    "test-code-mfa": Outcome(True, TaskStatus.COMPLETED),
    "test-question-mfa": Outcome(True, TaskStatus.COMPLETED),
    "test-failure": Outcome(True, TaskStatus.FAILED, "unknown-failure"),
    "test-declined": Outcome(True, TaskStatus.FAILED, "payment-method-declined"),
    "test-inactive": Outcome(True, TaskStatus.FAILED, "subscription-inactive"),
}
_BAD_LOGIN = Outcome(False, TaskStatus.FAILED, "bad-credentials")
_ACTION_OUTCOME = Outcome(True, TaskStatus.COMPLETED)


def _outcome(task: SimTask) -> Outcome:
    if task.operation == "action":
        return _ACTION_OUTCOME
    return _OUTCOMES.get(task.username.strip().lower(), _BAD_LOGIN)


def step_seconds() -> float:
    return float(ConfigOverride.current("task_step_seconds", settings.SIMULATOR_TASK_STEP_SECONDS))


# --- reads used by the Transact UI ----------------------------------------------------------


def token_resolve(public_token: str) -> SimUser:
    """The user a public token belongs to."""
    if not public_token:
        raise TokenError("A public token is required.")
    row = PublicToken.objects.select_related("user").filter(token=public_token).first()
    if row is None:
        raise TokenError("The public token is not valid.")
    if row.expires_at <= timezone.now():
        raise TokenError("The public token has expired.")
    return row.user


def companies_list(*, query: str = "") -> list[Company]:
    needle = query.strip().casefold()
    return [b.company for b in BILLERS if needle in b.name.casefold()]


def company_get(company_id: str) -> Company:
    biller = biller_by_id(company_id)
    if biller is None:
        raise NotFound("No company has that id.")
    return biller.company


def login_step(username: str) -> str:
    """What the login form asks next: "ok", "mfa-code" or "mfa-question"."""
    match username.strip().lower():
        case "test-code-mfa":
            return "mfa-code"
        case "test-question-mfa":
            return "mfa-question"
        case _:
            return "ok"


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
    return _accounts_built(user)


def _accounts_built(user: SimUser) -> list[dict[str, Any]]:
    shape = account_shape()
    built = (
        accounts.account_build(
            link=link,
            identifier=user.identifier,
            user_atomic_id=user.atomic_id,
            known_identity=user.data.get("identity"),
            shape=shape,
        )
        for link in user.linked_accounts.all()
    )
    return [account for account in built if account]


def user_data(*, identifier: str) -> dict[str, Any]:
    """What access-token extras and PUT /user stored for the user."""
    user = SimUser.objects.filter(identifier=identifier).first()
    if user is None:
        raise NotFound("No user has that identifier.")
    return dict(user.data)


def action_describe(*, user: SimUser, action_id: str) -> ActionInfo:
    """What an action id would do, checked to belong to `user` and not expired."""
    claim = accounts.action_id_read(action_id)
    if claim is None or claim.user_atomic_id != user.atomic_id:
        raise ActionError("This action is no longer available. Refresh and try again.")
    link = LinkedAccount.objects.filter(user=user, account_id=claim.account_id).first()
    biller = biller_by_id(link.company_id) if link else None
    if link is None or biller is None:
        raise ActionError("This action is no longer available. Refresh and try again.")
    title = accounts.plan_title(link=link, identifier=user.identifier)
    if claim.bill_id:
        names = {
            accounts.bill_id_for(account_id=link.account_id, name=bill.name): bill.name
            for bill in biller.bundled
        }
        if claim.bill_id not in names:
            raise ActionError("This action is no longer available. Refresh and try again.")
        title = names[claim.bill_id]
    return ActionInfo(
        action_type=claim.action_type,
        account_id=link.account_id,
        company=biller.company,
        plan_title=title,
        bill_id=claim.bill_id,
    )


# --- task lifecycle -----------------------------------------------------------------------


def _task_create(**fields: Any) -> SimTask:
    with transaction.atomic():
        task = SimTask.objects.create(
            next_step_at=timezone.now() + timedelta(seconds=step_seconds()), **fields
        )
        transaction.on_commit(_wake.set)
    engine_start()
    return task


def task_start(
    *, user: SimUser, company_id: str, username: str, metadata: dict[str, Any] | None = None
) -> SimTask:
    """Start a connect (manage) task; its outcome follows the sandbox username."""
    company_get(company_id)
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
    info = action_describe(user=user, action_id=action_id)
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
        raise NotFound("No task has that id.")
    return task_catch_up(task)


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
        added, _ = LinkedAccount.objects.get_or_create(user=task.user, company_id=task.company_id)
        return [added.account_id]
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
    outcome = _outcome(task)
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
                data["accounts"] = _accounts_built(user)
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
    """Correct a final task's status, as Atomic rarely does, and send task-status-patched."""
    if status not in (TaskStatus.COMPLETED, TaskStatus.FAILED):
        raise SimulatorError("status must be completed or failed.")
    with transaction.atomic():
        task = SimTask.objects.select_for_update().select_related("user").filter(task_id=task_id)
        found = task.first()
        if found is None:
            raise NotFound("No task has that id.")
        found = task_catch_up(found)
        if not found.is_final:
            raise SimulatorError("Only a final task's status can be patched.")
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


# --- background threads -------------------------------------------------------------------

_wake = threading.Event()
_started = False
_start_lock = threading.Lock()


def engine_start() -> None:
    """Start the task stepper and the webhook sender once per process."""
    global _started
    if _started:
        return
    with _start_lock:
        if _started:
            return
        background.loop_start(name="simulator-tasks", step=tasks_advance_due, wake=_wake)
        webhooks.sender_start()
        _started = True


class EngineStartMiddleware:
    """Starts the background threads with the first request (never during `migrate`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        engine_start()
        return self.get_response(request)
