"""Everything the host holds about one person, as JSON they can download."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from paylink.models import Profile, WebhookEvent, WebhookState
from paylink.vendor_json import JsonRejected, account_numbers_masked, json_parse


def _body(text: str) -> Any:
    try:
        return account_numbers_masked(json_parse(text))
    except JsonRejected:
        return text


def account_data_for_user(*, user: AbstractBaseUser) -> dict[str, Any]:
    """The user's own records only: their account, profile, tasks, accounts and events."""
    data: dict[str, Any] = {
        "account": {
            "username": user.get_username(),
            "email": getattr(user, "email", ""),
            "first_name": getattr(user, "first_name", ""),
            "last_name": getattr(user, "last_name", ""),
            "date_joined": getattr(user, "date_joined", None),
            "last_login": user.last_login,
        },
        "profile": None,
        "tasks": [],
        "accounts_snapshot": None,
        "sdk_events": [],
        "webhook_events": [],
    }
    profile = Profile.objects.filter(user=user).select_related("snapshot").first()
    if profile is None:
        return data
    data["profile"] = {
        "identifier": profile.identifier,
        "created_at": profile.created_at,
        "monitoring_ended_at": profile.monitoring_ended_at,
    }
    data["tasks"] = list(
        profile.tasks.order_by("created_at").values(
            "atomic_id",
            "status",
            "fail_reason",
            "company_name",
            "product",
            "operation",
            "action_type",
            "created_at",
            "finished_at",
        )
    )
    snapshot = getattr(profile, "snapshot", None)
    if snapshot is not None:
        data["accounts_snapshot"] = {
            "fetched_at": snapshot.fetched_at,
            "payload": account_numbers_masked(snapshot.payload),
        }
    data["sdk_events"] = [
        {**event, "payload": account_numbers_masked(event["payload"])}
        for event in profile.sdk_events.order_by("created_at").values(
            "kind", "name", "task_atomic_id", "payload", "created_at"
        )
    ]
    # Only events proven to be Atomic's: a forged request naming someone is not their data.
    events = WebhookEvent.objects.filter(identifier=profile.identifier).exclude(
        state=WebhookState.REJECTED_SIGNATURE
    )
    data["webhook_events"] = [
        {
            "event_type": event.event_type,
            "received_at": event.received_at,
            "body": _body(event.body),
        }
        for event in events.order_by("received_at")
    ]
    return data
