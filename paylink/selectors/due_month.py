"""A month of due dates, as the month view shows it, worked out by the database.

The rule is the one the reminders and the feed follow (`due_dates`): a bill that has an
account id and a due date and is due on the person's today (not paused or cancelled then)
is expected on its due day and, for a monthly bill, on the same day of every later month
(the month's last day where it is shorter), except on days its plan's pause or cancellation
covers. Days are the person's: each bill's due day in their time zone (`Profile.time_zone`,
which the page is served in) is on its row (`Bill.due_day`, `due_dom`, written at sync and
again when the zone changes), so the database places, orders and totals the month's bills;
what is read of each is two integers (its day and its key), and only the bills the page
shows are read whole. The drawn month is kept in the cache (`reminders.views.calendar`).

What the page shows, and the rule each figure keeps:
- the month's count and total: every bill expected in the month, the total of those with an
  amount (and how many have none), whatever page is shown;
- the grid: each day's first `GRID_BILLS_PER_DAY` bills by name, and how many more that day
  has, for the days of the months around it too;
- the list: the month's bills `MONTH_BILLS_PER_PAGE` at a time, soonest day first, then by
  name, grouped by day.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import groupby

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Least, Lower
from django.utils import timezone

from paylink.bill_rules import DUE_STATES, DayBounds, bill_state_case, days_in_month, span_covers
from paylink.formatting import money
from paylink.models import AccountSnapshot, Bill

# A day of the grid names this many bills, and says how many more it has.
GRID_BILLS_PER_DAY = 3
# The list under the grid, a page at a time.
MONTH_BILLS_PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class MonthBill:
    """A bill expected on a day of the month: on its due date, or a month's recurrence."""

    day: date
    biller: str
    amount: Decimal | None
    # Which bill it is: its row's key.
    key: int

    @property
    def label(self) -> str:
        """What the grid and the list say of it: "Hulu: $20.46"."""
        return f"{self.biller}: {money(self.amount)}"


@dataclass(frozen=True)
class MonthDay:
    day: date
    in_month: bool
    is_today: bool
    # The day's first bills by name, and how many it has in all.
    shown: tuple[MonthBill, ...]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.shown)


@dataclass(frozen=True)
class Month:
    first: date
    weeks: tuple[tuple[MonthDay, ...], ...]
    # One page of the month's bills, soonest first.
    page: Page
    # Every bill expected in the month, the total of their amounts, and how many have none.
    count: int
    total: Decimal
    unpriced: int
    previous: date
    next: date
    # The page's first day goes on from the page before.
    continues: bool = False

    @property
    def days(self) -> list[tuple[date, list[MonthBill]]]:
        """The page's bills grouped by day, for the list."""
        return [(day, list(bills)) for day, bills in groupby(self.page, key=lambda b: b.day)]


class _Occurrences:
    """The bills expected in one month as a query: each bill on its day there (`dom`)."""

    def __init__(self, *, snapshot_id: int, first: date, today: date, zone: tzinfo) -> None:
        self.first = first
        self.last_dom = days_in_month(first.year, first.month)
        self.zone = zone
        self.covered: set[int] = set()
        last = first.replace(day=self.last_dom)
        self.rows: QuerySet[Bill] = (
            Bill.objects.filter(snapshot_id=snapshot_id, due_day__lte=last)
            # Due within the month, or monthly and due before it. (A bill without its account's
            # id, which cannot be told apart from the next one, has no day.)
            .filter(Q(due_day__gte=first) | Q(recurs_monthly=True))
            .annotate(state=bill_state_case(DayBounds.of(today, zone)))
            .filter(state__in=[state.value for state in DUE_STATES])
            .annotate(dom=Least(F("due_dom"), Value(self.last_dom)))
        )
        # Whether the plan's pause or cancellation reaches into the month at all: only such a
        # bill is asked whether it covers its day (`_covered`).
        self.touches = Case(
            When(
                ~Q(inactive_kind="")
                & (Q(inactive_end__isnull=True) | Q(inactive_end__gte=self._midnight(1)))
                & (
                    Q(inactive_start__isnull=True)
                    | Q(inactive_start__lt=self._midnight(last.day + 1))
                ),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )

    def _midnight(self, number: int) -> datetime:
        """The start of the month's day `number` (the next month's first for one past its
        last), as `DueBill.expected_on` takes a day."""
        day = self.first + timedelta(days=number - 1)
        return datetime.combine(day, time.min, tzinfo=self.zone)

    def placed(self, days: frozenset[int] | None = None) -> list[tuple[int, int]]:
        """Each bill expected in the month (or on its `days`), as its day's number and its
        row's key, in the list's order: two small integers a bill, in one pass."""
        rows = self.rows
        if days is not None:
            rows = rows.filter(dom__in=sorted(days))  # type: ignore[misc]  # annotated above
        found = list(rows.order_by(*_ORDER).values_list("dom", "pk", self.touches))
        self.covered = self._covered({pk: number for number, pk, touches in found if touches})
        return [(number, pk) for number, pk, _ in found if pk not in self.covered]

    def _covered(self, touching: dict[int, int]) -> set[int]:
        """Of the bills `touching` (key: day number), those whose plan's pause or cancellation
        covers their day, by the rule every other page follows (`bill_rules.span_covers`)."""
        spans = Bill.objects.filter(pk__in=list(touching)).values_list(
            "pk", "inactive_kind", "inactive_start", "inactive_end"
        )
        return {
            pk
            for pk, kind, start, end in (spans if touching else ())
            if span_covers(
                kind=kind,
                start=start,
                end=end,
                day_start=self._midnight(touching[pk]),
                day_end=self._midnight(touching[pk] + 1),
            )
        }


# By day, then by name as the list reads: a named bill ("Apple TV+ (Apple)") by its name, then
# its company's.
_ORDER = ("dom", Lower("name"), Lower("company_name"), "account_id", "position")


def _bills(placed: dict[int, date]) -> dict[int, MonthBill]:
    """The bills `placed` (row key: day), as the page shows them."""
    rows = Bill.objects.filter(pk__in=list(placed)).values_list(
        "pk", "name", "named", "company_name", "amount"
    )
    return {
        pk: MonthBill(
            day=placed[pk],
            biller=f"{name} ({company})" if named else company,
            amount=amount,
            key=pk,
        )
        for pk, name, named, company, amount in rows
    }


def month_of_due_dates(
    *, snapshot: AccountSnapshot | None, first: date, today: date, page: int = 1
) -> Month:
    """The weeks (Monday first) of the month starting at `first`, each day with its first
    bills and their count, the month's count and total, and page `page` of its bills (the
    last page where there are fewer).

    The database places and orders the month's bills and sums their amounts; what is read of
    each is its day and key, and only the bills shown are read whole.
    """
    zone = timezone.get_current_timezone()
    grid = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    listed: list[tuple[int, int]] = []
    placed: list[tuple[date, int]] = []
    total, unpriced = Decimal(0), 0
    if snapshot is not None:
        # Imported here: the read-model service imports selectors' neighbours.
        from paylink.services.account_rows import accounts_rows_ensure

        accounts_rows_ensure(snapshot=snapshot)
        this = _Occurrences(snapshot_id=snapshot.pk, first=first, today=today, zone=zone)
        listed = this.placed()
        placed = [(first.replace(day=number), pk) for number, pk in listed]
        # The grid's first and last rows hold days of the months around it, greyed, with theirs.
        for month in (previous, following):
            days = frozenset(day.day for week in grid for day in week if day.month == month.month)
            if days:
                around = _Occurrences(snapshot_id=snapshot.pk, first=month, today=today, zone=zone)
                placed += [(month.replace(day=number), pk) for number, pk in around.placed(days)]
        figures = this.rows.exclude(pk__in=this.covered).aggregate(
            total=Sum("amount"), unpriced=Count("pk", filter=Q(amount=None))
        )
        total, unpriced = figures["total"] or Decimal(0), figures["unpriced"]
    counts: dict[date, int] = {}
    first_ones: dict[date, list[int]] = {}
    for day, pk in placed:
        counts[day] = counts.get(day, 0) + 1
        if counts[day] <= GRID_BILLS_PER_DAY:
            first_ones.setdefault(day, []).append(pk)
    paginator = Paginator(listed, MONTH_BILLS_PER_PAGE)
    keys = paginator.get_page(page)
    on_page = [(first.replace(day=number), pk) for number, pk in keys]
    wanted = {pk: day for day, pks in first_ones.items() for pk in pks}
    wanted.update((pk, day) for day, pk in on_page)
    bills = _bills(wanted) if wanted else {}
    weeks = tuple(
        tuple(
            MonthDay(
                day=day,
                in_month=day.month == first.month,
                is_today=day == today,
                shown=tuple(bills[pk] for pk in first_ones.get(day, ())),
                count=counts.get(day, 0),
            )
            for day in week
        )
        for week in grid
    )
    start = keys.start_index()
    return Month(
        first=first,
        weeks=weeks,
        page=Page([bills[pk] for _, pk in on_page], keys.number, paginator),
        count=len(listed),
        total=total,
        unpriced=unpriced,
        previous=previous,
        next=following,
        # The page's first day goes on from the page before (its last bill is on that day too).
        continues=start > 1 and bool(on_page) and listed[start - 2][0] == listed[start - 1][0],
    )
