"""The read model: each account of a stored payload as typed rows (`LinkedAccount`, `Bill`,
`Suggestion`, `Payment`), written only where an account's content changed."""

from __future__ import annotations

import gc
import hashlib
import json
import operator
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from paylink.bill_rules import account_savings, inactive_span, recurs_monthly
from paylink.formatting import time_zone_for
from paylink.lib.vendor_json import as_dict, as_list, when
from paylink.models import (
    AccountSnapshot,
    Bill,
    LinkedAccount,
    Payment,
    Profile,
    Suggestion,
)
from paylink.payloads import Account, account_parse
from paylink.selectors.snapshot_totals import snapshot_totals_compute, snapshot_totals_encode

_CENT = Decimal("0.01")
# The latest payments a card charts; older ones are in the payload and the payment rows.
HISTORY_KEPT = 6
# Rows per INSERT statement's batch of parameters.
_INSERT_BATCH = 1000
# The columns hold 14 digits; an amount beyond them is not a bill anyone pays.
_MONEY_LIMIT = Decimal("1e11")

# How many payments of each billing cycle fall in a month. Unknown cycles count as monthly.
_CYCLE_PER_MONTH: dict[str, Decimal] = {
    "daily": Decimal(365) / Decimal(12),
    "weekly": Decimal(52) / Decimal(12),
    "biweekly": Decimal(26) / Decimal(12),
    "semimonthly": Decimal(2),
    "monthly": Decimal(1),
    "bimonthly": Decimal(1) / Decimal(2),
    "quarterly": Decimal(1) / Decimal(3),
    "semiannual": Decimal(1) / Decimal(6),
    "semiannually": Decimal(1) / Decimal(6),
    "annual": Decimal(1) / Decimal(12),
    "annually": Decimal(1) / Decimal(12),
    "yearly": Decimal(1) / Decimal(12),
}


def account_digest(raw: dict[str, Any]) -> str:
    """The account's content as a digest: key order and spacing do not count as a change."""
    return _sha256(_canonical(raw))


def money_column(value: Decimal | None) -> Decimal | None:
    if value is None or abs(value) >= _MONEY_LIMIT:
        return None
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def per_month(*, amount: Decimal | None, cycle: str) -> Decimal | None:
    """A bill as a monthly cost by its cycle; an unknown cycle counts as billed."""
    if amount is None:
        return None
    factor = _CYCLE_PER_MONTH.get(cycle.lower().replace("-", "").replace(" ", ""), Decimal(1))
    return money_column(amount * factor)


def _cycle(account: Account) -> str:
    billing = account.billing
    cycle = billing.autopay.cycle if billing and billing.autopay else ""
    return cycle or next((p.cycle for p in account.plans if p.cycle), "")


def _last_four(number: str) -> str:
    # A number of four characters or fewer would be shown whole: then none of it is shown.
    number = number.strip()
    return number[-4:] if len(number) > 4 else ""


def _actions_json(actions: tuple) -> list[dict[str, Any]]:
    return [{"type": a.type, "id": a.id, "automated": a.automated} for a in actions]


@dataclass
class _Rows:
    """An account's columns by name, and its bills', suggestions' and payments' (without the
    account's key, which the database gives its row)."""

    account: dict[str, Any]
    bills: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)


def card_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The account as its card reads it (`payloads.account_parse`), without what the rows hold
    already (suggestions, payment methods) or the card never shows (usage, older payments):
    copied along the trimmed paths only, so the stored payload is left as it came."""
    details = as_dict(raw.get("account"))
    billing = as_dict(details.get("billing"))
    trimmed_billing = {k: v for k, v in billing.items() if k != "paymentMethods"}
    history = [h for h in as_list(billing.get("history")) if isinstance(h, dict)]
    if len(history) > HISTORY_KEPT:
        dated = sorted(
            (h for h in history if when(h.get("date")) is not None),
            key=lambda h: when(h.get("date")),  # type: ignore[arg-type,return-value]
        )
        trimmed_billing["history"] = dated[-HISTORY_KEPT:]
    data = as_dict(details.get("data"))
    trimmed = {k: v for k, v in details.items() if k not in ("suggestions", "billing", "data")}
    if "billing" in details:
        trimmed["billing"] = trimmed_billing if isinstance(details["billing"], dict) else None
    if "plans" in data:
        trimmed["data"] = {"plans": data["plans"]}
    return {**raw, "account": trimmed}


def _rows_for(
    *,
    snapshot: AccountSnapshot,
    position: int,
    raw: dict[str, Any],
    digest: str,
    zone: tzinfo,
) -> _Rows:
    account = account_parse(raw)
    kind = account.type.lower()[:32]
    billing = account.billing
    cycle = _cycle(account)
    history = [h.date for h in billing.history if h.date] if billing else []
    monthly = recurs_monthly(cycle=cycle, history=history)
    span = inactive_span(plans=account.plans)
    plan = account.plans[0] if account.plans else None
    change = plan.pending_change if plan else None
    method = billing.primary_payment_method if billing else None
    common: dict[str, Any] = {
        "snapshot_id": snapshot.pk,
        "company_name": account.company.name[:200],
        "kind": kind,
        "cycle": cycle[:32],
        "recurs_monthly": monthly,
        "plan_title": (plan.title if plan else "")[:200],
        "plan_status": (plan.status if plan else "")[:64],
        "pending_type": (change.type if change else "")[:64],
        "pending_status": (change.status if change else "")[:64],
        "pending_start": change.start_date if change else None,
        "pending_end": change.end_date if change else None,
        "inactive_kind": span.kind.value,
        "inactive_start": span.start,
        "inactive_end": span.end,
        "autopay": billing.autopay.enabled if billing and billing.autopay else None,
        "payment_method": (method.brand or method.type if method else "")[:64],
        "payment_last_four": method.last_four if method else "",
        "account_last_four": _last_four(billing.account_number) if billing else "",
    }
    row: dict[str, Any] = {
        "snapshot_id": snapshot.pk,
        "position": position,
        "digest": digest,
        "card": card_of(raw),
        "atomic_id": account.id[:64],
        "company_name": common["company_name"],
        "kind": kind,
    }
    rows = _Rows(account=row)
    if account.bills:
        lone = len(account.bills) == 1
        for index, entry in enumerate(account.bills):
            # A lone bill that names no amount or date is the account's own bill.
            amount = entry.amount
            if amount is None and lone and billing:
                amount = billing.amount
            due = entry.due_date or (billing.due_date if lone and billing else None)
            rows.bills.append(
                {
                    **common,
                    "position": index,
                    "name": (entry.name or account.company.name)[:200],
                    "named": bool(entry.name),
                    "amount": money_column(amount),
                    "due_at": due,
                    "actions": _actions_json(entry.actions or (account.actions if lone else ())),
                }
            )
    elif billing is not None and (billing.amount is not None or billing.due_date is not None):
        rows.bills.append(
            {
                **common,
                "position": 0,
                "name": account.company.name[:200],
                "named": False,
                "amount": money_column(billing.amount),
                "due_at": billing.due_date,
                "actions": _actions_json(account.actions),
            }
        )
    for bill in rows.bills:
        bill["monthly_amount"] = per_month(amount=bill["amount"], cycle=cycle)
        if bill["due_at"] is not None and row["atomic_id"]:
            # The day the month view lists it on, where the person lives: only a bill that can
            # be told apart from the next one, by its account's id, is listed (as `due_dates`).
            bill["due_day"] = day = bill["due_at"].astimezone(zone).date()
            bill["due_dom"] = day.day
    known = [b["monthly_amount"] for b in rows.bills if b["monthly_amount"] is not None]
    row["monthly_amount"] = sum(known, Decimal(0)) if known else None
    row["monthly_savings"] = account_savings(
        savings=[s.monthly_savings for s in account.suggestions],
        monthly_bill=row["monthly_amount"],
    )
    for index, suggestion in enumerate(account.suggestions):
        rows.suggestions.append(
            {
                "snapshot_id": snapshot.pk,
                "position": index,
                "category": suggestion.category[:64],
                "monthly_savings": money_column(suggestion.monthly_savings),
                "short_description": suggestion.short_description[:500],
                "detailed_description": suggestion.detailed_description,
                "button_title": suggestion.button_title[:200],
            }
        )
    if billing is not None:
        for payment in billing.history:
            amount = money_column(payment.amount)
            if payment.date is not None and amount is not None:
                rows.payments.append(
                    {
                        "snapshot_id": snapshot.pk,
                        "kind": kind,
                        "paid_at": payment.date,
                        "paid_month": _month_of(payment.date, zone),
                        "amount": amount,
                    }
                )
    row["suggestions_digest"] = _rows_digest(rows.suggestions)
    row["payments_digest"] = _rows_digest(rows.payments)
    return rows


def _rows_digest(rows: list[dict[str, Any]]) -> str:
    # Of the values as written (Decimals, dates), not of JSON: a repr is a tenth of the cost.
    return _sha256(repr(rows)) if rows else ""


def _raw_accounts(payload: object) -> list[tuple[int, dict[str, Any]]]:
    """The payload's account objects with their index in its `accounts` list."""
    return [
        (index, raw)
        for index, raw in enumerate(as_list(as_dict(payload).get("accounts")))
        if isinstance(raw, dict)
    ]


@dataclass(frozen=True)
class RowsWritten:
    """What a store changed: accounts written anew, changed in place (renewed: the same row,
    rewritten), moved, and removed."""

    created: int
    moved: int
    deleted: int
    renewed: int = 0


@dataclass
class _Stored:
    """An account's row as stored: what a store needs to keep it, move it or renew it."""

    pk: int
    position: int
    atomic_id: str
    suggestions_digest: str
    payments_digest: str


def accounts_rows_store(
    *, snapshot: AccountSnapshot, encoded: EncodedPayload | None = None
) -> RowsWritten:
    """Bring the snapshot's rows in line with its payload, touching only what changed.

    An account whose content (digest) is already stored keeps its rows (its position, and
    its suggestions' copy of it, are updated if it moved). A changed account with a stored
    row of the same account id is renewed: the same row rewritten, with its bills, and its
    suggestions and payments only where they came out different (the suggestions kept take
    its position). Any other account gets new rows; the rows of accounts no longer in the
    payload are deleted. Call inside the transaction that stored the payload;
    `encoded`, when the caller has it, spares encoding each account again.
    """
    if encoded is None:
        encoded = payload_encode(snapshot.payload)
    with _collector_paused():
        return _rows_store(snapshot=snapshot, encoded=encoded)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Thousands of rows are built as plain dicts and lists, none of them part of a cycle:
    meanwhile the cyclic garbage collector, which would walk every object the process holds
    (the payload just decoded among them) a time or two, a third of a 5,000-account store,
    is paused, and left as it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows_store(*, snapshot: AccountSnapshot, encoded: EncodedPayload) -> RowsWritten:
    by_digest: dict[str, list[_Stored]] = defaultdict(list)
    found = LinkedAccount.objects.filter(snapshot=snapshot).values_list(
        "digest",
        "pk",
        "position",
        "atomic_id",
        "suggestions_digest",
        "payments_digest",
    )
    for digest, pk, position, atomic_id, suggestions_digest, payments_digest in found:
        by_digest[digest].append(
            _Stored(pk, position, atomic_id, suggestions_digest, payments_digest)
        )
    kept: list[int] = []
    moved: list[LinkedAccount] = []
    # Accounts whose suggestions stay but move with them: their rows' `account_position`.
    repositioned: list[int] = []
    changed: list[tuple[int, dict[str, Any]]] = []
    for position, raw in _raw_accounts(snapshot.payload):
        same = by_digest.get(encoded.account_digests[position])
        if not same:
            changed.append((position, raw))
            continue
        row = same.pop()
        kept.append(row.pk)
        if row.position != position:
            moved.append(LinkedAccount(pk=row.pk, position=position))
            repositioned.append(row.pk)
    # What is left was changed or removed: a changed account takes the row of its id.
    left: dict[str, list[_Stored]] = defaultdict(list)
    for rows in by_digest.values():
        for row in rows:
            left[row.atomic_id].append(row)
    zone = _zone_of(snapshot)
    fresh: list[_Rows] = []
    renewed: list[_Rows] = []
    # Account rows whose suggestions (or payments) stay as they are.
    spared: dict[str, list[int]] = {"suggestions": list(kept), "payments": list(kept)}
    for position, raw in changed:
        built = _rows_for(
            snapshot=snapshot,
            position=position,
            raw=raw,
            digest=encoded.account_digests[position],
            zone=zone,
        )
        same_id = left.get(built.account["atomic_id"]) if built.account["atomic_id"] else None
        if not same_id:
            fresh.append(built)
            continue
        row = same_id.pop()
        built.account["id"] = row.pk
        for kind in ("suggestions", "payments"):
            if built.account[f"{kind}_digest"] == getattr(row, f"{kind}_digest"):
                setattr(built, kind, [])
                spared[kind].append(row.pk)
                if kind == "suggestions" and row.position != position:
                    repositioned.append(row.pk)
        renewed.append(built)
    gone = [row.pk for rows in left.values() for row in rows]
    rewritten = [r.account["id"] for r in renewed]
    # A renewed account's row keeps its key, so the rows it keeps still point at it: written
    # over in place (no foreign key is checked again, as a row deleted and written back under
    # its key would have every key pointing at it checked when the transaction commits).
    with transaction.atomic():
        _rows_delete(snapshot=snapshot, model=LinkedAccount, doomed=gone, spared=kept + rewritten)
        _rows_delete(snapshot=snapshot, model=Bill, doomed=gone + rewritten, spared=kept)
        for child, kind in ((Suggestion, "suggestions"), (Payment, "payments")):
            spare = set(spared[kind])
            doomed = gone + [pk for pk in rewritten if pk not in spare]
            _rows_delete(snapshot=snapshot, model=child, doomed=doomed, spared=spared[kind])
        if moved:
            LinkedAccount.objects.bulk_update(moved, ["position"], batch_size=500)
        _update(LinkedAccount, [r.account for r in renewed])
        _insert(LinkedAccount, [r.account for r in fresh])
        if fresh:
            # The new rows' keys, by position: one account per position once the gone are gone.
            keys = dict(
                LinkedAccount.objects.filter(snapshot=snapshot).values_list("position", "pk")
            )
            for built in fresh:
                built.account["id"] = keys[built.account["position"]]
        for model, kind in ((Bill, "bills"), (Suggestion, "suggestions"), (Payment, "payments")):
            children = []
            for built in (*renewed, *fresh):
                for child in getattr(built, kind):
                    child["account_id"] = built.account["id"]
                    if model is Suggestion:
                        child["account_position"] = built.account["position"]
                    children.append(child)
            _insert(model, children)
        _suggestions_follow(
            snapshot=snapshot, accounts=repositioned, of=len(kept) + len(renewed) + len(fresh)
        )
        _totals_store(snapshot=snapshot)
    return RowsWritten(
        created=len(fresh), moved=len(moved), deleted=len(gone), renewed=len(renewed)
    )


def _suggestions_follow(*, snapshot: AccountSnapshot, accounts: list[int], of: int) -> None:
    """The suggestions of `accounts` (of the snapshot's `of`), which moved, take their
    accounts' positions again, in one statement: named by the accounts where they are the
    fewer, else every suggestion of the snapshot's."""
    if not accounts:
        return
    rows = Suggestion.objects.filter(snapshot_id=snapshot.pk)
    if len(accounts) * 2 <= of:
        rows = rows.filter(account_id__in=accounts)
    owner = LinkedAccount.objects.filter(pk=OuterRef("account_id")).values("position")
    rows.update(account_position=Subquery(owner))


def _rows_delete(
    *,
    snapshot: AccountSnapshot,
    model: type[LinkedAccount | Bill | Suggestion | Payment],
    doomed: list[int],
    spared: list[int],
) -> None:
    """The rows of `model` that belong to the accounts `doomed`, in one statement (the ORM's
    cascade would first load the accounts, then delete them a hundred at a time; nothing else
    points at these rows), named by whichever is shorter, they or the snapshot's other
    accounts (`spared`): a sync that changed every account deletes by the snapshot alone."""
    if not doomed:
        return
    key = "pk" if model is LinkedAccount else "account_id"
    rows = model.objects.filter(snapshot_id=snapshot.pk)
    if len(doomed) <= len(spared):
        rows = rows.filter(**{f"{key}__in": doomed})
    elif spared:
        rows = rows.exclude(**{f"{key}__in": spared})
    rows._raw_delete(connection.alias)


def _rows_clear(*, snapshot: AccountSnapshot) -> None:
    for model in (Bill, Suggestion, Payment, LinkedAccount):
        model.objects.filter(snapshot_id=snapshot.pk)._raw_delete(connection.alias)
    _totals_store(snapshot=snapshot, known=False)


def _totals_store(*, snapshot: AccountSnapshot, known: bool = True) -> None:
    """The snapshot's totals (`AccountSnapshot.totals`) of its rows as they now are, by the
    queries the dashboard runs; or, not `known`, none. Every writer of the rows calls it, in
    the transaction that wrote them. Not told as a change of the snapshot's: it only follows
    the rows, and what wrote them retires the pages drawn of them, or not, as it did before."""
    totals = None
    if known:
        totals = snapshot_totals_encode(snapshot_totals_compute(snapshot_id=snapshot.pk))
    # The plain manager: its update() tells no one (`AccountSnapshot.objects` would).
    AccountSnapshot._base_manager.filter(pk=snapshot.pk).update(totals=totals)
    snapshot.totals = totals


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Rows given as columns by name, inserted many at a time: thousands of bills are
    thousands of model instances for bulk_create, which costs most of a sync's time. Each
    value goes through its field's own conversion for the database, as bulk_create's would;
    PostgreSQL takes them by COPY, which parses them on the server in one stream. The
    database gives each its key."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = _values(fields, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Names from the model's own metadata, quoted; the values go as COPY's data.
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
            return
        # Names from the model's own metadata, quoted; every value goes as a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        for start in range(0, len(values), _INSERT_BATCH):
            cursor.executemany(sql, values[start : start + _INSERT_BATCH])


def _update(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Rows that keep their key (`id`), written over where they are, every column. SQLite: a
    thousand at a time, a third of the cost of deleting and inserting them again. PostgreSQL:
    taken by COPY into a temporary table of the same columns (unlogged, unindexed, unchecked),
    then written over from it in one statement."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    key = model._meta.pk
    assert key is not None  # every model has one
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = quote(key.column or key.attname)
    columns = [quote(f.column or f.attname) for f in fields]
    if connection.vendor == "postgresql":
        scratch = quote(f"{model._meta.db_table}_written")
        values = _values([key, *fields], rows)
        assignments = ", ".join(f"{column} = s.{column}" for column in columns)
        with connection.cursor() as cursor:
            # Names from the model's own metadata, quoted; the values go as COPY's data.
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} (LIKE {table})")
            with cursor.copy(f"COPY {scratch} ({', '.join([where, *columns])}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM {scratch} AS s"  # noqa: S608
                f" WHERE t.{where} = s.{where}"
            )
            cursor.execute(f"DROP TABLE {scratch}")
        return
    values = _values([*fields, key], rows)
    assignments = ", ".join(f"{column} = %s" for column in columns)
    # Names from the model's own metadata, quoted; every value goes as a parameter.
    sql = f"UPDATE {table} SET {assignments} WHERE {where} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(values), _INSERT_BATCH):
            cursor.executemany(sql, values[start : start + _INSERT_BATCH])


def _values(fields: list[models.Field], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Each row's values in the order of `fields`, each as its field's conversion for the
    database would give it (`_adapter`)."""
    postgres = connection.vendor == "postgresql"
    defaults = {f.attname: f.get_default() for f in fields}
    pick = operator.itemgetter(*defaults)
    adapters = [
        (index, adapter)
        for index, adapter in enumerate(_adapter(f, postgres=postgres) for f in fields)
        if adapter is not None
    ]
    values = []
    for row in rows:
        value = list(pick({**defaults, **row}))
        for index, adapter in adapters:
            if value[index] is not None:
                value[index] = adapter(value[index])
        values.append(value)
    return values


def _adapter(field: models.Field, *, postgres: bool) -> Callable[[Any], Any] | None:
    """How a value the rows are built with goes to the database (None is never adapted):
    JSON encoded here, compact; on SQLite, an aware datetime as the backend's adapter writes it
    (naive, in the connection's zone). Everything else as it is: PostgreSQL's COPY writes
    datetimes, dates and Decimals itself, and SQLite's driver dates and Decimals."""
    match field.get_internal_type():
        case "JSONField":
            return _COMPACT.encode
        case "DateTimeField" if not postgres:
            # `adapt_datetimefield_value`, less its checks: these are aware, and USE_TZ is on.
            zone = connection.timezone
            return lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    return None


def _month_of(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def _zone_of(snapshot: AccountSnapshot) -> tzinfo:
    """The person's time zone (the site's until they have one)."""
    name = Profile.objects.filter(pk=snapshot.profile_id).values_list("time_zone", flat=True)
    return time_zone_for(name.first() or "") or timezone.get_default_timezone()


def rows_rezone(*, profile: Profile) -> None:
    """The days of the person's rows again, in their (new) time zone: each payment's month,
    each bill's due day."""
    snapshot = AccountSnapshot.objects.filter(profile=profile).only("pk", "profile_id").first()
    if snapshot is None:
        return
    zone = _zone_of(snapshot)
    payments = list(Payment.objects.filter(snapshot=snapshot).only("pk", "paid_at", "paid_month"))
    for payment in payments:
        payment.paid_month = _month_of(payment.paid_at, zone)
    bills = list(
        Bill.objects.filter(snapshot=snapshot, due_day__isnull=False).only(
            "pk", "due_at", "due_day", "due_dom"
        )
    )
    for bill in bills:
        bill.due_day = bill.due_at.astimezone(zone).date()  # type: ignore[union-attr]  # filtered
        bill.due_dom = bill.due_day.day
    with transaction.atomic():
        Payment.objects.bulk_update(payments, ["paid_month"], batch_size=500)
        Bill.objects.bulk_update(bills, ["due_day", "due_dom"], batch_size=500)
        # The spending by month moved with the payments.
        _totals_store(snapshot=snapshot)


# Key order and spacing must not count as a change, or every sync would bump the version.
# What JSON decoding made holds no cycle: the encoders need not look for one (a sixth faster).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
)
# What the rows' JSON columns hold: any key order, no spaces.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _canonical(value: object) -> str:
    return _CANONICAL.encode(value)


@dataclass(frozen=True)
class EncodedPayload:
    """A payload encoded once: its canonical JSON text (what is stored), its digest, and
    each account's digest by its place in `accounts` (the same text, cut per account)."""

    text: str
    sha256: str
    account_digests: dict[int, str]


def payload_encode(payload: object) -> EncodedPayload:
    """The payload's canonical JSON, built from each account's own canonical text, so the
    accounts are encoded once for their digests, the payload's digest and the stored copy.
    The payload's digest is taken of the accounts' digests and the text around them: as
    telling as one of the whole text, without reading its megabytes a second time."""
    accounts = payload.get("accounts") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(accounts, list):
        text = _canonical(payload)
        return EncodedPayload(text, _sha256(text), {})
    texts = [_canonical(account) for account in accounts]
    digests = [_sha256(account) for account in texts]
    # The list is put in where a one-off marker was encoded: the text json.dumps would write.
    marker = _canonical(f"accounts-{uuid.uuid4()}")
    head, _, tail = _canonical({**payload, "accounts": marker[1:-1]}).partition(marker)
    return EncodedPayload(
        f"{head}[{','.join(texts)}]{tail}",
        _sha256(f"{head}[{','.join(digests)}]{tail}"),
        {
            index: digests[index]
            for index, account in enumerate(accounts)
            if isinstance(account, dict)
        },
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def payload_sha256(payload: object) -> str:
    """The payload's digest; key order and spacing do not count as a change."""
    return payload_encode(payload).sha256


def accounts_rows_refill(*, snapshot: AccountSnapshot) -> RowsWritten:
    """Rebuild every row of the snapshot from its stored payload (after a change to the read
    model's rules or columns); a payload stored without its digest gets it."""
    encoded = payload_encode(snapshot.payload)
    with transaction.atomic():
        _rows_clear(snapshot=snapshot)
        written = accounts_rows_store(snapshot=snapshot, encoded=encoded)
        if not snapshot.payload_sha256:
            snapshot.payload_sha256 = encoded.sha256
            snapshot.save(update_fields=["payload_sha256"])
        return written


def accounts_rows_ensure(*, snapshot: AccountSnapshot) -> None:
    """Rows for a snapshot whose payload was written without them (by hand, or before the
    read model existed): its digest is then blank. Built once, from the payload."""
    if snapshot.payload_sha256 or snapshot.version == 0:
        return
    with transaction.atomic():
        locked = AccountSnapshot.objects.select_for_update().get(pk=snapshot.pk)
        if not locked.payload_sha256:
            accounts_rows_refill(snapshot=locked)
    snapshot.payload_sha256 = locked.payload_sha256
    snapshot.totals = locked.totals
