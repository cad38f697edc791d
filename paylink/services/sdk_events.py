"""What the browser reports from Transact's callbacks: parsed strictly, stored, acted on."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from paylink import client
from paylink.atomic_values import account_numbers_masked, atomic_id
from paylink.lib.vendor_json import JsonRejected, json_object_parse, text
from paylink.models import Profile, SdkEvent, SdkEventKind, Task
from paylink.services.accounts import accounts_sync_request
from paylink.services.tasks import TaskLaunch, task_confirm_and_record

logger = logging.getLogger(__name__)

SDK_EVENT_MAX_BYTES = 16 * 1024
_ID_RULE = "1 to 64 letters, digits, hyphens or underscores."


class SdkEventInvalid(ValueError):
    """The browser sent something that is not an SDK event; the message says what."""


@dataclass(frozen=True)
class LaunchInfo:
    """What the page launched, sent along with a finish so the task knows its origin."""

    operation: str = "manage"
    action_type: str = ""
    account_id: str = ""


@dataclass(frozen=True)
class SdkEventInput:
    kind: SdkEventKind
    payload: dict[str, Any]
    launch: LaunchInfo = field(default_factory=LaunchInfo)

    @property
    def name(self) -> str:
        return text(self.payload.get("name"), 200)

    @property
    def task_atomic_id(self) -> str:
        # Checked by sdk_event_parse: an id of Atomic's shape, or absent.
        return atomic_id(self.payload.get("taskId")) or ""


def sdk_event_parse(*, body: bytes) -> SdkEventInput:
    """`{"kind": ..., "payload": {...}, "launch"?: {...}}` or SdkEventInvalid saying why."""
    try:
        data = json_object_parse(body)
    except JsonRejected as error:
        raise SdkEventInvalid(str(error)) from None
    try:
        kind = SdkEventKind(str(data.get("kind")))
    except ValueError:
        choices = ", ".join(SdkEventKind.values)
        raise SdkEventInvalid(f"Unknown event kind; expected one of: {choices}.") from None
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise SdkEventInvalid("The event's payload must be a JSON object.")
    launch = data.get("launch") or {}
    if not isinstance(launch, dict):
        raise SdkEventInvalid("The event's launch details must be a JSON object.")
    operation = launch.get("operation") or "manage"
    if operation not in ("manage", "action"):
        raise SdkEventInvalid("The launch operation must be manage or action.")
    task_id = payload.get("taskId")
    # A finish may come without a task: Atomic's SDKs make taskId optional, and a person who
    # only looked around the Hub, or acted in it without a task of their own, ends with Done.
    # Atomic's Flutter plugin on Android sends a missing one as "" (optString): no task either.
    # The id is stored, put in URLs and sent to Atomic: only Atomic's id shape gets that far.
    if task_id not in (None, "") and atomic_id(task_id) is None:
        raise SdkEventInvalid(f"The taskId is not an Atomic task id: {_ID_RULE}")
    details = {}
    for key in ("actionType", "accountId"):
        value = launch.get(key) or ""
        # Our pages take both from Atomic's account payload, so they have its id shape too.
        if value and atomic_id(value) is None:
            raise SdkEventInvalid(f"The launch {key} is not one of Atomic's ids: {_ID_RULE}")
        details[key] = value
    return SdkEventInput(
        kind=kind,
        payload=payload,
        launch=LaunchInfo(
            operation=operation,
            action_type=details["actionType"],
            account_id=details["accountId"],
        ),
    )


def sdk_event_record(*, profile: Profile, event: SdkEventInput) -> SdkEvent:
    """Store what the browser reported, as it came, for the user's profile."""
    return SdkEvent.objects.create(
        profile=profile,
        kind=event.kind,
        name=event.name,
        task_atomic_id=event.task_atomic_id,
        payload=account_numbers_masked(event.payload),
    )


def _identity_known(user: User) -> dict[str, str]:
    known = {
        "identity.firstName": getattr(user, "first_name", ""),
        "identity.lastName": getattr(user, "last_name", ""),
        "identity.email": getattr(user, "email", ""),
    }
    return {name: value for name, value in known.items() if value}


def _requested_fields(payload: dict[str, Any]) -> list[str]:
    fields = payload.get("fields")
    if not isinstance(fields, list):
        return []
    names = []
    for item in fields:
        # Fields arrive as dotted names; some SDK versions wrap them as {"name": ...}.
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            names.append(name)
    return names


def sdk_data_request_answer(*, user: User, profile: Profile, payload: dict[str, Any]) -> list[str]:
    """Answer Transact's data request from the server with `PUT /user`.

    Sends only the requested fields the host knows, for the profile's own identifier
    (never one from the browser). Returns the names of the fields sent, never their values.
    Raises `client.AtomicError` when Atomic does not accept the update.
    """
    known = _identity_known(user)
    sent = [name for name in dict.fromkeys(_requested_fields(payload)) if name in known]
    if not sent:
        return []
    data: dict[str, dict[str, str]] = {}
    for name in sent:
        section, key = name.split(".", 1)
        data.setdefault(section, {})[key] = known[name]
    client.atomic_client().user_update(identifier=profile.identifier, data=data)
    return sent


def sdk_finish_record(*, profile: Profile, event: SdkEventInput) -> Task | None:
    """Record the task Transact finished once Atomic confirms it is this user's, then ask for
    a sync: it often means new accounts. A task Atomic cannot confirm yet waits, unsynced.
    A finish without a task (None back) still asks for a sync: the Hub may have changed things.

    Raises `paylink.services.tasks.TaskOwnershipError` when the task is another user's and
    `TaskUnknownError` when Atomic does not know it.
    """
    if not event.task_atomic_id:
        accounts_sync_request(profile=profile)
        return None
    launch = event.launch
    # Only an action names an action and an account.
    if launch.operation == "action":
        task_launch = TaskLaunch(
            operation=launch.operation,
            action_type=launch.action_type,
            account_id=launch.account_id,
        )
    else:
        task_launch = TaskLaunch(operation=launch.operation)
    change = task_confirm_and_record(
        profile=profile, atomic_id=event.task_atomic_id, launch=task_launch
    )
    if not change.task.awaiting_confirmation:
        accounts_sync_request(profile=profile)
    return change.task
