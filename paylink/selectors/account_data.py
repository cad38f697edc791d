"""Everything the host holds about one person, as JSON they can download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.db.models import BinaryField, F, Func, TextField
from django.db.models.functions import Cast

from paylink.atomic_values import account_numbers_masked
from paylink.data_export import BILL_FIELDS, ENCODER, numbers_masked_text
from paylink.lib.vendor_json import JsonRejected, json_parse
from paylink.models import (
    AccountsDownload,
    AccountSnapshot,
    Bill,
    Profile,
    WebhookEvent,
    WebhookState,
)


def _body(text: str) -> Any:
    try:
        return account_numbers_masked(json_parse(text))
    except JsonRejected:
        return text


def account_data_for_user(*, user: User, with_accounts: bool = True) -> dict[str, Any]:
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
    profiles = Profile.objects.filter(user=user).select_related("snapshot")
    if not with_accounts:
        profiles = profiles.defer("snapshot__payload")
    profile = profiles.first()
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
            "payload": account_numbers_masked(snapshot.payload) if with_accounts else None,
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


# Bills encoded and sent together, where the download reads them from their rows.
_BATCH = 500


def account_data_chunks(*, user: User) -> Iterator[str | bytes]:
    """`account_data_for_user` as compact JSON, streamed.

    The accounts part (the payload, account numbers masked, and the bills as the host reads
    them, `bills`) was written when the sync stored it (`AccountsDownload`), so a download
    sends stored text: nothing decoded or encoded again, and as fresh as the rows, since a
    sync that changes them writes it in the same transaction. It is sent as the database's
    own UTF-8 bytes. A snapshot without it (written before it existed) is read from the
    record and the bill rows instead.
    """
    # Imported here: services import selectors, not the other way round, but for this.
    from paylink.services.account_rows import accounts_rows_ensure

    stored = AccountSnapshot.objects.filter(profile__user=user).only(
        "pk", "version", "payload_sha256"
    )
    for found in stored:
        accounts_rows_ensure(snapshot=found)
    data = account_data_for_user(user=user, with_accounts=False)
    snapshot = data.pop("accounts_snapshot")
    yield ENCODER.encode(data)[:-1]
    yield ',"accounts_snapshot":'
    if snapshot is None:
        yield 'null,"bills":[]}'
        return
    yield ENCODER.encode({"fetched_at": snapshot["fetched_at"]})[:-1] + ',"payload":'
    prepared = (
        AccountsDownload.objects.filter(snapshot__profile__user=user)
        .values_list(Utf8(F("payload")), Utf8(F("bills")))
        .first()
    )
    if prepared is None:
        yield from _from_the_record(user=user)
        return
    payload, bills = prepared
    yield payload
    yield '},"bills":['
    yield bills
    yield "]}"


def _from_the_record(*, user: User) -> Iterator[str]:
    """The payload and the bills read from the record and the bill rows: the payload masked
    as text, never decoded whole."""
    text = (
        AccountSnapshot.objects.filter(profile__user=user)
        .values_list(Cast("payload", TextField()), flat=True)
        .get()
    )
    yield numbers_masked_text(text or "null")
    yield '},"bills":['
    bills = Bill.objects.filter(snapshot__profile__user=user).order_by(
        "account__position", "position"
    )
    rows = list(bills.values(*BILL_FIELDS))
    for start in range(0, len(rows), _BATCH):
        yield ("," if start else "") + ENCODER.encode(rows[start : start + _BATCH])[1:-1]
    yield "]}"


class Utf8(Func):
    """A text column as its UTF-8 bytes, as the database holds them: SQLite hands the text of
    a BLOB cast over as it is; PostgreSQL converts. Megabytes of text then go out without
    being decoded into a str and encoded back."""

    output_field = BinaryField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS BLOB)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="convert_to(%(expressions)s, 'UTF8')")
