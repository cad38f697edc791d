"""Everything the host holds about one person, as JSON they can download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder

from paylink.models import AccountSnapshot, Bill, Profile, WebhookEvent, WebhookState
from paylink.vendor_json import JsonRejected, account_numbers_masked, json_parse


def _body(text: str) -> Any:
    try:
        return account_numbers_masked(json_parse(text))
    except JsonRejected:
        return text


def account_data_for_user(*, user: AbstractBaseUser, with_accounts: bool = True) -> dict[str, Any]:
    """The user's own records only: their account, profile, tasks, accounts and events (the
    accounts payload unmasked only `with_accounts`=False, for `account_data_chunks` to mask
    one account at a time)."""
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
            "payload": account_numbers_masked(snapshot.payload)
            if with_accounts
            else snapshot.payload,
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


# Compact, and written by the C encoder a piece at a time: `indent` (or `iterencode`) would
# force the pure-Python one, three quarters of the time at 5,000 accounts.
_ENCODER = DjangoJSONEncoder(separators=(",", ":"), ensure_ascii=False)

_BILL_FIELDS = (
    "company_name",
    "name",
    "kind",
    "amount",
    "monthly_amount",
    "due_at",
    "plan_status",
    "pending_type",
    "pending_status",
    "pending_start",
    "pending_end",
    "autopay",
    "payment_method",
    "payment_last_four",
    "account_last_four",
)


def account_data_chunks(*, user: AbstractBaseUser) -> Iterator[str]:
    """`account_data_for_user` as compact JSON text, streamed: the accounts payload one
    account at a time, so neither side holds the whole document. Also the bills as the host
    reads them (`bills`)."""
    # Imported here: services import selectors, not the other way round, but for this.
    from paylink.services.account_rows import accounts_rows_ensure

    stored = AccountSnapshot.objects.filter(profile__user=user).only(
        "pk", "version", "payload_sha256"
    )
    for found in stored:
        accounts_rows_ensure(snapshot=found)
    data = account_data_for_user(user=user, with_accounts=False)
    snapshot = data.pop("accounts_snapshot")
    yield _ENCODER.encode(data)[:-1]
    yield ',"accounts_snapshot":'
    payload = snapshot["payload"] if snapshot else None
    accounts = payload.get("accounts") if isinstance(payload, dict) else None
    if snapshot is None:
        yield "null"
    elif not isinstance(accounts, list):
        yield _ENCODER.encode({**snapshot, "payload": account_numbers_masked(payload)})
    else:
        others = {k: account_numbers_masked(v) for k, v in payload.items() if k != "accounts"}
        head = {"fetched_at": snapshot["fetched_at"], "payload": {**others, "accounts": []}}
        # Up to the opening of the accounts list ("...,"accounts":["), which follows.
        yield _ENCODER.encode(head)[:-3]
        for index, account in enumerate(accounts):
            yield ("," if index else "") + _ENCODER.encode(account_numbers_masked(account))
        yield "]}}"
    yield ',"bills":['
    bills = Bill.objects.filter(snapshot__profile__user=user).order_by(
        "account__position", "position"
    )
    for index, row in enumerate(bills.values(*_BILL_FIELDS).iterator(chunk_size=1000)):
        yield ("," if index else "") + _ENCODER.encode(row)
    yield "]}"
