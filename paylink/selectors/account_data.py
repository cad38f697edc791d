"""Everything the host holds about one person, as JSON they can download."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from paylink.atomic_values import account_numbers_masked
from paylink.lib.gzip_pieces import Deflated, deflated, gzip_joined, inflated
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
    "pending_status",
    "autopay",
    "payment_method",
    "payment_last_four",
    "account_last_four",
)


_DECODER = json.JSONDecoder()
_KEY_END = 'number":'


def _masked_text(text: str) -> str:
    """JSON `text` with every account number cut to its last four, as
    `account_numbers_masked` cuts them, worked on the text itself: each key ending in "number"
    is found by a string search and only its value is decoded, so the payload (megabytes) is
    never decoded and encoded again. Inside a JSON string a quote is always escaped, so
    `number":` can only end a key."""
    lower = text.lower()
    parts, done = [], 0
    found = lower.find(_KEY_END)
    while found != -1:
        key_start = text.rfind('"', 0, found)
        value_start = found + len(_KEY_END)
        while text[value_start : value_start + 1].isspace():
            value_start += 1
        if text[key_start - 1] == "\\" or "\\" in text[key_start:found]:
            # An escaped quote in the key: the slow, sure way.
            return _ENCODER.encode(account_numbers_masked(json.loads(text)))
        number, value_end = _DECODER.raw_decode(text, value_start)
        if isinstance(number, (dict, list)):
            return _ENCODER.encode(account_numbers_masked(json.loads(text)))
        masked = account_numbers_masked({"number": number})["number"]
        parts += [text[done:value_start], _ENCODER.encode(masked)]
        done = value_end
        found = lower.find(_KEY_END, value_end)
    parts.append(text[done:])
    return "".join(parts)


def _prepared(*, snapshot_id: int, version: int) -> Deflated | None:
    """The accounts part as a download kept it for this version of the snapshot: compressed,
    a hundredth of its text, sent as it is to a client that takes gzip."""
    found = (
        AccountsDownload.objects.filter(snapshot_id=snapshot_id, version=version)
        .values_list("deflated", "crc32", "size")
        .first()
    )
    return None if found is None else Deflated(bytes(found[0]), found[1], found[2])


def _prepare(*, snapshot_id: int, version: int) -> Deflated:
    """The accounts part read from the record and the bill rows, and kept for the next
    download of this version: the payload masked as text, never decoded whole; each bill's
    columns as the host reads them; then the download's end."""
    text = (
        AccountSnapshot.objects.filter(pk=snapshot_id)
        .values_list(Cast("payload", TextField()), flat=True)
        .get()
    )
    payload = _masked_text(text or "null")
    rows = Bill.objects.filter(snapshot_id=snapshot_id).order_by("account__position", "position")
    bills = _ENCODER.encode(list(rows.values(*_BILL_FIELDS)))
    accounts = deflated(f'{payload}}},"bills":{bills}}}'.encode())
    kept = {"deflated": accounts.data, "crc32": accounts.crc32, "size": accounts.size}
    # Only forward: a download that read an older version does not overwrite a newer one.
    updated = AccountsDownload.objects.filter(snapshot_id=snapshot_id, version__lte=version).update(
        version=version, **kept
    )
    if not updated:
        with transaction.atomic():
            AccountsDownload.objects.get_or_create(
                snapshot_id=snapshot_id, defaults={"version": version, **kept}
            )
    return accounts


def account_data_pieces(*, user: User) -> tuple[bytes, Deflated | None]:
    """`account_data_for_user` as compact JSON, and the bills as the host reads them (`bills`),
    in two pieces: the text read for this request, and the accounts part that follows it,
    compressed (None when there is no snapshot: the text is then the whole download).

    The accounts part (the payload, masked, and the bills) is megabytes at 5,000 accounts and
    changes only with a sync that stores new data: the first download of each version of the
    snapshot works it out and keeps it (`AccountsDownload`, by version), later ones send what
    was kept. A sync moves the version, so nothing older than the rows is ever sent.
    """
    # Imported here: services import selectors, not the other way round, but for this.
    from paylink.services.account_rows import accounts_rows_ensure

    stored = (
        AccountSnapshot.objects.filter(profile__user=user)
        .only("pk", "version", "payload_sha256")
        .first()
    )
    if stored is not None:
        accounts_rows_ensure(snapshot=stored)
    data = account_data_for_user(user=user, with_accounts=False)
    snapshot = data.pop("accounts_snapshot")
    head = _ENCODER.encode(data)[:-1] + ',"accounts_snapshot":'
    if snapshot is None or stored is None:
        return (head + 'null,"bills":[]}').encode(), None
    head += _ENCODER.encode({"fetched_at": snapshot["fetched_at"]})[:-1] + ',"payload":'
    accounts = _prepared(snapshot_id=stored.pk, version=stored.version) or _prepare(
        snapshot_id=stored.pk, version=stored.version
    )
    return head.encode(), accounts


def account_data_chunks(*, user: User) -> Iterator[bytes]:
    """The download as JSON text, streamed: the kept accounts part inflated a chunk at a time."""
    head, accounts = account_data_pieces(user=user)
    yield head
    if accounts is not None:
        yield from inflated(accounts)


def account_data_gzip(*, user: User) -> bytes:
    """The download as one gzip body: the kept accounts part sent as it was compressed."""
    head, accounts = account_data_pieces(user=user)
    pieces = [deflated(head)] if accounts is None else [deflated(head), accounts]
    return b"".join(gzip_joined(pieces))
