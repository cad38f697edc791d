"""Bills with a due date, read from the read model: what reminders and the calendar feed are
built from (the month view asks the database the same questions, `due_month`). Nothing here
calls Atomic, and no payload is decoded.

Every day is taken in the active time zone (the person's), as the dashboard takes it, so a
reminder, the feed and the dashboard never disagree about when a bill is due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from paylink.bill_rules import DUE_STATES, DayBounds, bill_state_case, span_covers
from paylink.models import AccountSnapshot, Bill, LinkedAccount

ZERO = Decimal("0")


# Slotted: a thousand of these are made for one page.
@dataclass(frozen=True, slots=True)
class DueBill:
    # What tells this bill apart from the person's others: the account id, and for the second
    # and later named bills of one account, their place (reminders and calendar UIDs key on it).
    account_id: str
    biller: str
    amount: Decimal | None
    due_day: date
    # Only ever the last four characters of the account number.
    account_last_four: str
    autopay: bool | None
    recurs_monthly: bool = False
    # The inactive span (`bill_rules.inactive_span`): no bill is expected inside it.
    inactive_kind: str = ""
    inactive_start: datetime | None = None
    inactive_end: datetime | None = None

    def expected_on(self, day: date, *, zone: tzinfo | None = None) -> bool:
        """Whether a bill is expected on `day` (in `zone`, the active time zone unless a loop
        over many bills passes it): not while the plan is paused or cancelled."""
        if not self.inactive_kind:
            return True
        zone = zone or timezone.get_current_timezone()
        start = datetime.combine(day, time.min, tzinfo=zone)
        return not span_covers(
            kind=self.inactive_kind,
            start=self.inactive_start,
            end=self.inactive_end,
            day_start=start,
            day_end=start + timedelta(days=1),
        )


@dataclass(frozen=True)
class DueDates:
    bills: tuple[DueBill, ...]


def monthly_savings_for(*, snapshot: AccountSnapshot | None) -> Decimal:
    """What the suggestions can honestly save a month (`bill_rules.account_savings`), summed:
    asked for apart, by the weekly summary alone."""
    if snapshot is None:
        return ZERO
    savings = LinkedAccount.objects.filter(snapshot_id=snapshot.pk).aggregate(
        total=Sum("monthly_savings")
    )["total"]
    return savings or ZERO


def _bill_key(position: int, account_id: str) -> str:
    return account_id if position == 0 else f"{account_id[:58]}#{position}"


def due_dates_for_snapshot(
    *, snapshot: AccountSnapshot | None, today: date, spans_from: date | None = None
) -> DueDates:
    """Every bill that has an account id and a due date and is due (not paused or cancelled)
    on the person's today, soonest first. A pause or cancellation that ended before
    `spans_from` (today unless a page shows earlier days) can skip no day shown, so it is
    left off the bill."""
    if snapshot is None:
        return DueDates(bills=())
    # Imported here: the read-model service imports selectors' neighbours.
    from paylink.services.account_rows import accounts_rows_ensure

    accounts_rows_ensure(snapshot=snapshot)
    zone = timezone.get_current_timezone()
    # The state is the database's to work out (`bill_state_case`), so only due bills come back,
    # as plain tuples: a thousand bills are a thousand of these.
    rows = (
        Bill.objects.filter(snapshot_id=snapshot.pk, due_at__isnull=False)
        # Without an id a bill cannot be told apart from the next one: no reminder can be
        # de-duplicated and no calendar UID kept stable, so it is left out.
        .exclude(account__atomic_id="")
        .annotate(state=bill_state_case(DayBounds.of(today, zone)))
        .filter(state__in=[state.value for state in DUE_STATES])
        .annotate(**_spans_since(DayBounds.of(spans_from or today, zone).start))
        .values_list(
            "position",
            "name",
            "named",
            "company_name",
            "amount",
            "due_at",
            "account_last_four",
            "autopay",
            "recurs_monthly",
            "span_kind",
            "span_start",
            "span_end",
            "account__atomic_id",
        )
    )
    bills = [
        DueBill(
            account_id=_bill_key(position, atomic_id),
            biller=f"{name} ({company})" if named else company,
            amount=amount,
            due_day=due_at.astimezone(zone).date(),
            account_last_four=last_four,
            autopay=autopay,
            recurs_monthly=monthly,
            inactive_kind=kind,
            inactive_start=start,
            inactive_end=end,
        )
        for (
            position,
            name,
            named,
            company,
            amount,
            due_at,
            last_four,
            autopay,
            monthly,
            kind,
            start,
            end,
            atomic_id,
        ) in rows
        if due_at is not None  # always, by the query's filter: said again for the type
    ]
    bills.sort(key=lambda b: (b.due_day, b.biller.lower(), b.account_id))
    return DueDates(bills=tuple(bills))


def _spans_since(moment: datetime) -> dict[str, Case]:
    """The inactive span's columns, blank where it ended before `moment`: the database leaves
    them out, so a bill whose pause is long over costs no dates to read."""
    matters = Q(inactive_end__isnull=True) | Q(inactive_end__gte=moment)
    return {
        "span_kind": Case(When(matters, then=F("inactive_kind")), default=Value("")),
        "span_start": Case(When(matters, then=F("inactive_start")), default=None),
        "span_end": Case(When(matters, then=F("inactive_end")), default=None),
    }


def bill_uid(*, profile_identifier: str, bill: DueBill) -> str:
    """A calendar UID stable for one person's bill on one due date, revealing neither id."""
    digest = hashlib.sha256(f"{profile_identifier}:{bill.account_id}".encode()).hexdigest()[:32]
    return f"bill-{digest}-{bill.due_day:%Y%m%d}"
