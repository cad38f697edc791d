"""Bills with a due date, read from a stored accounts payload: what reminders, the calendar feed
and the month view are built from. Nothing here calls Atomic."""

from __future__ import annotations

import calendar as stdlib_calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from paylink.payloads import accounts_parse

ZERO = Decimal("0")


@dataclass(frozen=True)
class DueBill:
    account_id: str
    biller: str
    amount: Decimal | None
    due_day: date
    # Only ever the last four characters of the account number.
    account_last_four: str
    autopay: bool | None


@dataclass(frozen=True)
class DueDates:
    bills: tuple[DueBill, ...]
    # Monthly savings the suggestions found, across all accounts.
    monthly_savings: Decimal


def _last_four(number: str) -> str:
    # A number of four characters or fewer would be shown whole: then none of it is shown.
    number = number.strip()
    return number[-4:] if len(number) > 4 else ""


def due_dates_for_payload(*, payload: object) -> DueDates:
    """Every bill that has an account id and a due date, soonest first.

    The day is taken in the site's time zone, as the dashboard takes it, so a reminder and the
    dashboard never disagree about when a bill is due.
    """
    bills: list[DueBill] = []
    savings = ZERO
    for account in accounts_parse(payload):
        savings += sum((s.monthly_savings or ZERO for s in account.suggestions), ZERO)
        billing = account.billing
        # Without an id a bill cannot be told apart from the next one: no reminder can be
        # de-duplicated and no calendar UID kept stable, so it is left out.
        if billing is None or billing.due_date is None or not account.id:
            continue
        bills.append(
            DueBill(
                account_id=account.id,
                biller=account.company.name,
                amount=billing.amount,
                due_day=timezone.localtime(billing.due_date).date(),
                account_last_four=_last_four(billing.account_number),
                autopay=billing.autopay.enabled if billing.autopay else None,
            )
        )
    bills.sort(key=lambda b: (b.due_day, b.biller.lower(), b.account_id))
    return DueDates(bills=tuple(bills), monthly_savings=savings)


def bill_uid(*, profile_identifier: str, bill: DueBill) -> str:
    """A calendar UID stable for one person's bill on one due date, revealing neither id."""
    digest = hashlib.sha256(f"{profile_identifier}:{bill.account_id}".encode()).hexdigest()[:32]
    return f"bill-{digest}-{bill.due_day:%Y%m%d}"


@dataclass(frozen=True)
class MonthDay:
    day: date
    in_month: bool
    is_today: bool
    bills: tuple[DueBill, ...]


@dataclass(frozen=True)
class Month:
    first: date
    weeks: tuple[tuple[MonthDay, ...], ...]
    # The bills due within the month itself, soonest first: the same days as a plain list.
    bills: tuple[DueBill, ...]
    previous: date
    next: date


def month_of_due_dates(*, payload: object, first: date, today: date) -> Month:
    """The weeks (Monday first) of the month starting at `first`, each day with its bills."""
    bills = due_dates_for_payload(payload=payload).bills
    by_day: dict[date, list[DueBill]] = {}
    for bill in bills:
        by_day.setdefault(bill.due_day, []).append(bill)
    weeks = tuple(
        tuple(
            MonthDay(
                day=day,
                in_month=day.month == first.month,
                is_today=day == today,
                bills=tuple(by_day.get(day, ())),
            )
            for day in week
        )
        for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(
            first.year, first.month
        )
    )
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    in_month = tuple(
        b for b in bills if (b.due_day.year, b.due_day.month) == (first.year, first.month)
    )
    return Month(first=first, weeks=weeks, bills=in_month, previous=previous, next=following)
