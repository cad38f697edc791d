"""The read model: each account of a stored payload as typed rows (`LinkedAccount`, `Bill`,
`Suggestion`, `Payment`), written only where an account's content changed."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from paylink.bill_rules import account_savings, inactive_span, recurs_monthly
from paylink.formatting import time_zone_for
from paylink.lib.vendor_json import as_dict, as_list
from paylink.models import AccountSnapshot, Bill, LinkedAccount, Payment, Profile, Suggestion
from paylink.payloads import Account, account_parse

_CENT = Decimal("0.01")
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
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    account: LinkedAccount
    bills: list[Bill] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)


def _rows_for(
    *, snapshot: AccountSnapshot, position: int, raw: dict[str, Any], zone: tzinfo
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
        "snapshot": snapshot,
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
    row = LinkedAccount(
        snapshot=snapshot,
        position=position,
        digest=account_digest(raw),
        atomic_id=account.id[:64],
        company_name=common["company_name"],
        kind=kind,
    )
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
                Bill(
                    account=row,
                    position=index,
                    name=(entry.name or account.company.name)[:200],
                    named=bool(entry.name),
                    amount=money_column(amount),
                    due_at=due,
                    actions=_actions_json(entry.actions or (account.actions if lone else ())),
                    **common,
                )
            )
    elif billing is not None and (billing.amount is not None or billing.due_date is not None):
        rows.bills.append(
            Bill(
                account=row,
                name=account.company.name[:200],
                amount=money_column(billing.amount),
                due_at=billing.due_date,
                actions=_actions_json(account.actions),
                **common,
            )
        )
    for bill in rows.bills:
        bill.monthly_amount = per_month(amount=bill.amount, cycle=cycle)
    known = [b.monthly_amount for b in rows.bills if b.monthly_amount is not None]
    row.monthly_amount = sum(known, Decimal(0)) if known else None
    row.monthly_savings = account_savings(
        savings=[s.monthly_savings for s in account.suggestions], monthly_bill=row.monthly_amount
    )
    for index, suggestion in enumerate(account.suggestions):
        rows.suggestions.append(
            Suggestion(
                snapshot=snapshot,
                account=row,
                position=index,
                category=suggestion.category[:64],
                monthly_savings=money_column(suggestion.monthly_savings),
                short_description=suggestion.short_description[:500],
                detailed_description=suggestion.detailed_description,
                button_title=suggestion.button_title[:200],
            )
        )
    if billing is not None:
        for entry in billing.history:
            amount = money_column(entry.amount)
            if entry.date is not None and amount is not None:
                rows.payments.append(
                    Payment(
                        snapshot=snapshot,
                        account=row,
                        kind=kind,
                        paid_at=entry.date,
                        paid_month=_month_of(entry.date, zone),
                        amount=amount,
                    )
                )
    return rows


def _raw_accounts(payload: object) -> list[tuple[int, dict[str, Any]]]:
    """The payload's account objects with their index in its `accounts` list."""
    return [
        (index, raw)
        for index, raw in enumerate(as_list(as_dict(payload).get("accounts")))
        if isinstance(raw, dict)
    ]


@dataclass(frozen=True)
class RowsWritten:
    """What a store changed: accounts written anew, moved, and removed."""

    created: int
    moved: int
    deleted: int


def accounts_rows_store(*, snapshot: AccountSnapshot) -> RowsWritten:
    """Bring the snapshot's rows in line with its payload, touching only what changed.

    An account whose content (digest) is already stored keeps its rows (its position is
    updated if it moved); a new or changed account gets new rows; the rows of accounts no
    longer in the payload are deleted. Call inside the transaction that stored the payload.
    """
    stored: dict[str, list[LinkedAccount]] = defaultdict(list)
    for row in LinkedAccount.objects.filter(snapshot=snapshot).only("pk", "digest", "position"):
        stored[row.digest].append(row)
    fresh: list[_Rows] = []
    moved: list[LinkedAccount] = []
    zone = _zone_of(snapshot)
    for position, raw in _raw_accounts(snapshot.payload):
        same = stored.get(account_digest(raw))
        if same:
            row = same.pop()
            if row.position != position:
                row.position = position
                moved.append(row)
            continue
        fresh.append(_rows_for(snapshot=snapshot, position=position, raw=raw, zone=zone))
    gone = [row.pk for rows in stored.values() for row in rows]
    with transaction.atomic():
        if gone:
            LinkedAccount.objects.filter(pk__in=gone).delete()
        if moved:
            LinkedAccount.objects.bulk_update(moved, ["position"], batch_size=500)
        LinkedAccount.objects.bulk_create([r.account for r in fresh], batch_size=500)
        # The accounts have their keys now (every backend the host runs returns them).
        Bill.objects.bulk_create([b for r in fresh for b in r.bills], batch_size=500)
        Suggestion.objects.bulk_create([s for r in fresh for s in r.suggestions], batch_size=500)
        Payment.objects.bulk_create([p for r in fresh for p in r.payments], batch_size=500)
    return RowsWritten(created=len(fresh), moved=len(moved), deleted=len(gone))


def _month_of(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def _zone_of(snapshot: AccountSnapshot) -> tzinfo:
    """The person's time zone (the site's until they have one)."""
    name = Profile.objects.filter(pk=snapshot.profile_id).values_list("time_zone", flat=True)
    return time_zone_for(name.first() or "") or timezone.get_default_timezone()


def payments_rezone(*, profile: Profile) -> None:
    """The months of the person's payments again, in their (new) time zone."""
    snapshot = AccountSnapshot.objects.filter(profile=profile).only("pk", "profile_id").first()
    if snapshot is None:
        return
    zone = _zone_of(snapshot)
    payments = list(Payment.objects.filter(snapshot=snapshot).only("pk", "paid_at", "paid_month"))
    for payment in payments:
        payment.paid_month = _month_of(payment.paid_at, zone)
    Payment.objects.bulk_update(payments, ["paid_month"], batch_size=500)


def payload_sha256(payload: object) -> str:
    """The payload's digest; key order and spacing must not count as a change, or every
    sync would bump the version."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def accounts_rows_refill(*, snapshot: AccountSnapshot) -> RowsWritten:
    """Rebuild every row of the snapshot from its stored payload (after a change to the read
    model's rules or columns); a payload stored without its digest gets it."""
    with transaction.atomic():
        LinkedAccount.objects.filter(snapshot=snapshot).delete()
        written = accounts_rows_store(snapshot=snapshot)
        if not snapshot.payload_sha256:
            snapshot.payload_sha256 = payload_sha256(snapshot.payload)
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
