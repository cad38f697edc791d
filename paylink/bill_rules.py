"""The rules every page, email and feed applies to a bill, each in one function.

- When a plan is not billing (`inactive_span`): paused or cancelled, from when until when,
  read from the plan's status and its pending change. Fixed at sync, whatever today is.
- A bill's state on the person's today (`bill_state`, and `bill_state_case` for the ORM):
  paused or cancelled while inside that span, else overdue, due soon, later or no date.
- What an account can honestly save a month (`account_savings`).
- How often a bill recurs (`recurs_monthly`) and its expected dates in a month
  (`occurrences_in_month`; the month view asks the database the same, `selectors.due_month`,
  and tests hold the two to each other).
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

from django.db.models import Case, CharField, Q, Value, When

from paylink.payloads import PendingChange, Plan

DUE_SOON_DAYS = 7
_CENT = Decimal("0.01")

_PAUSED = frozenset({"paused", "pause", "suspended", "on-hold"})
_CANCELLED = frozenset({"cancelled", "canceled", "cancellation", "inactive", "ended", "closed"})
_ACTIVE = frozenset({"active", "resumed", "enabled"})


class InactiveKind(StrEnum):
    NONE = ""
    PAUSED = "paused"
    CANCELLED = "cancelled"


class BillState(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    LATER = "later"
    UNKNOWN = "unknown"  # no due date
    PAUSED = "paused"
    CANCELLED = "cancelled"


# The states a bill is due in: counted in totals, reminded, in the month view and the feed.
DUE_STATES = frozenset({BillState.OVERDUE, BillState.SOON, BillState.LATER})


@dataclass(frozen=True)
class InactiveSpan:
    """The plan bills nothing from `start` to `end` (each day inclusive; None is open)."""

    kind: InactiveKind = InactiveKind.NONE
    start: datetime | None = None
    end: datetime | None = None


def _kind_of(status: str) -> InactiveKind | None:
    status = status.strip().lower()
    if status in _PAUSED:
        return InactiveKind.PAUSED
    if status in _CANCELLED:
        return InactiveKind.CANCELLED
    if status in _ACTIVE:
        return InactiveKind.NONE
    return None  # unknown: shown as Atomic wrote it, billed as usual


def _pending_kind(change: PendingChange) -> InactiveKind | None:
    found = _kind_of(change.status) if change.status else None
    if found is None:
        found = _kind_of(change.type.replace("-plan", "").replace("plan-", ""))
    return found


def inactive_span(*, plans: tuple[Plan, ...]) -> InactiveSpan:
    """When the account's plan is paused or cancelled, from its first plan's status and pending
    change: a pending pause or cancellation takes effect on its start date, a pause ends on
    its end date (or when a pending change back to active starts)."""
    if not plans:
        return InactiveSpan()
    plan = plans[0]
    now_kind = _kind_of(plan.status) or InactiveKind.NONE
    change = plan.pending_change
    pending = _pending_kind(change) if change is not None else None
    if now_kind is not InactiveKind.NONE:
        # Already paused or cancelled: a pending return to active ends it.
        if change is not None and pending is InactiveKind.NONE and change.start_date:
            return InactiveSpan(now_kind, None, change.start_date - timedelta(days=1))
        if now_kind is InactiveKind.CANCELLED and change is not None and change.end_date:
            # Cancelled, with service until the end date: it ends that day ("Ends on Jan 3").
            return InactiveSpan(now_kind, change.end_date, None)
        return InactiveSpan(now_kind, None, None)
    if change is not None and pending in (InactiveKind.PAUSED, InactiveKind.CANCELLED):
        end = change.end_date if pending is InactiveKind.PAUSED else None
        return InactiveSpan(pending, change.start_date, end)
    return InactiveSpan()


@dataclass(frozen=True)
class DayBounds:
    """The person's today as instants in their time zone: what states are decided against."""

    today: date
    start: datetime  # today's midnight
    tomorrow: datetime  # tomorrow's midnight
    soon_end: datetime  # midnight after the last "due soon" day

    @classmethod
    def of(cls, today: date, zone: tzinfo) -> DayBounds:
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return cls(
            today=today,
            start=midnight(today),
            tomorrow=midnight(today + timedelta(days=1)),
            soon_end=midnight(today + timedelta(days=DUE_SOON_DAYS + 1)),
        )


def span_covers(
    *,
    kind: str,
    start: datetime | None,
    end: datetime | None,
    day_start: datetime,
    day_end: datetime,
) -> bool:
    """Whether the inactive span touches the day from `day_start` to `day_end`."""
    return bool(kind) and (start is None or start < day_end) and (end is None or end >= day_start)


def bill_state(
    *,
    due_at: datetime | None,
    inactive_kind: str,
    inactive_start: datetime | None,
    inactive_end: datetime | None,
    bounds: DayBounds,
) -> BillState:
    """A bill's state on the person's today. `bill_state_case` is the same rule for the ORM."""
    if span_covers(
        kind=inactive_kind,
        start=inactive_start,
        end=inactive_end,
        day_start=bounds.start,
        day_end=bounds.tomorrow,
    ):
        return BillState(inactive_kind)
    if due_at is None:
        return BillState.UNKNOWN
    if due_at < bounds.start:
        return BillState.OVERDUE
    if due_at < bounds.soon_end:
        return BillState.SOON
    return BillState.LATER


def _inactive_q(bounds: DayBounds, kind: InactiveKind) -> Q:
    return (
        Q(inactive_kind=kind.value)
        & (Q(inactive_start__isnull=True) | Q(inactive_start__lt=bounds.tomorrow))
        & (Q(inactive_end__isnull=True) | Q(inactive_end__gte=bounds.start))
    )


def bill_state_case(bounds: DayBounds) -> Case:
    """`bill_state` as a SQL expression over `Bill` rows, so the database filters and totals."""
    return Case(
        When(_inactive_q(bounds, InactiveKind.PAUSED), then=Value(BillState.PAUSED.value)),
        When(_inactive_q(bounds, InactiveKind.CANCELLED), then=Value(BillState.CANCELLED.value)),
        When(due_at__isnull=True, then=Value(BillState.UNKNOWN.value)),
        When(due_at__lt=bounds.start, then=Value(BillState.OVERDUE.value)),
        When(due_at__lt=bounds.soon_end, then=Value(BillState.SOON.value)),
        default=Value(BillState.LATER.value),
        output_field=CharField(),
    )


def account_savings(*, savings: list[Decimal | None], monthly_bill: Decimal | None) -> Decimal:
    """What an account can save a month: its best suggestion, never more than its bill.

    Suggestions for one account are alternatives (pause it, or downgrade it), so they are
    never added; one without a monthly figure saves nothing countable. Without a known bill
    nothing can be vouched for, so nothing is counted.
    """
    best = max((s for s in savings if s is not None and s > 0), default=Decimal(0))
    if monthly_bill is None:
        return Decimal(0)
    return min(best, max(monthly_bill, Decimal(0))).quantize(_CENT)


_MONTHLY = frozenset({"monthly", "month", "everymonth", "1month", "p1m"})


def recurs_monthly(*, cycle: str, history: list[datetime]) -> bool:
    """Monthly where the autopay or plan cycle says so, or, without a cycle, where the payment
    history is one a month (at least two payments, 25 to 35 days apart)."""
    word = cycle.strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    if word:
        return word in _MONTHLY
    dated = sorted(history)
    if len(dated) < 2:
        return False
    return all(25 <= (b - a).days <= 35 for a, b in itertools.pairwise(dated))


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    # calendar.monthrange works out the weekday too: several times this, per bill per month.
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1]


def _in_month(day: date, year: int, month: int) -> date:
    return date(year, month, min(day.day, days_in_month(year, month)))


def occurrences_in_month(*, due_day: date, monthly: bool, year: int, month: int) -> list[date]:
    """The days in the month a bill is expected: its due day, and for a monthly bill the same
    day of the month (the month's last day where it is shorter) in every month from it on."""
    if (due_day.year, due_day.month) == (year, month):
        return [due_day]
    if monthly and (year, month) > (due_day.year, due_day.month):
        return [_in_month(due_day, year, month)]
    return []
