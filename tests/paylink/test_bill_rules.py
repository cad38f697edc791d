"""The rules every page applies to a bill: its state on the person's today, what an account
can honestly save, and how a bill recurs."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from paylink.bill_rules import (
    BillState,
    DayBounds,
    InactiveKind,
    account_savings,
    bill_state,
    bill_state_case,
    inactive_span,
    occurrences_in_month,
    recurs_monthly,
)
from paylink.models import Bill
from paylink.payloads import PendingChange, Plan
from tests.paylink.read_model import stored

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
TODAY = date(2026, 12, 1)


def plan(status: str, change: PendingChange | None = None) -> tuple[Plan, ...]:
    return (
        Plan(
            source_id="",
            status=status,
            title="Premium",
            description="",
            free_trial=False,
            cycle="monthly",
            pending_change=change,
        ),
    )


def change(status: str, start: str | None, end: str | None = None, kind: str = "") -> PendingChange:
    return PendingChange(
        type=kind or "status-update",
        status=status,
        title="",
        amount=None,
        start_date=datetime.fromisoformat(start) if start else None,
        end_date=datetime.fromisoformat(end) if end else None,
    )


def state_of(span, *, due: str | None, today: date = TODAY, zone=UTC) -> BillState:
    return bill_state(
        due_at=datetime.fromisoformat(due) if due else None,
        inactive_kind=span.kind.value,
        inactive_start=span.start,
        inactive_end=span.end,
        bounds=DayBounds.of(today, zone),
    )


def test_a_paused_plan_is_paused_whatever_its_due_date():
    span = inactive_span(plans=plan("paused"))
    assert span.kind is InactiveKind.PAUSED
    assert state_of(span, due="2026-11-20T12:00:00+00:00") is BillState.PAUSED
    assert state_of(span, due=None) is BillState.PAUSED


def test_a_pending_pause_that_starts_next_week_leaves_the_bill_due_until_then():
    span = inactive_span(
        plans=plan(
            "active", change("paused", "2026-12-08T00:00:00+00:00", "2027-01-08T00:00:00+00:00")
        )
    )
    assert state_of(span, due="2026-12-03T12:00:00+00:00") is BillState.SOON
    assert state_of(span, due="2026-12-03T12:00:00+00:00", today=date(2026, 12, 10)) is (
        BillState.PAUSED
    )
    # The day after the pause ends, the plan bills again.
    assert state_of(span, due="2027-01-20T12:00:00+00:00", today=date(2027, 1, 9)) is (
        BillState.LATER
    )


def test_a_paused_plan_with_a_pending_return_is_paused_until_the_day_before():
    span = inactive_span(plans=plan("paused", change("active", "2026-12-20T00:00:00+00:00")))
    assert span.end == datetime(2026, 12, 19, tzinfo=UTC)
    assert state_of(span, due=None, today=date(2026, 12, 19)) is BillState.PAUSED
    assert state_of(span, due=None, today=date(2026, 12, 20)) is BillState.UNKNOWN


def test_a_cancelled_plan_with_an_end_date_bills_until_it_ends():
    span = inactive_span(
        plans=plan("cancelled", change("cancelled", None, "2027-01-03T00:00:00+00:00"))
    )
    assert span.kind is InactiveKind.CANCELLED
    assert state_of(span, due="2026-12-15T12:00:00+00:00") is BillState.LATER
    assert state_of(span, due="2026-12-15T12:00:00+00:00", today=date(2027, 1, 3)) is (
        BillState.CANCELLED
    )


def test_a_cancelled_plan_without_dates_is_cancelled():
    assert state_of(inactive_span(plans=plan("canceled")), due=None) is BillState.CANCELLED


def test_an_unknown_plan_status_bills_as_usual():
    assert inactive_span(plans=plan("frobnicated")).kind is InactiveKind.NONE


@pytest.mark.parametrize(
    ("due", "state"),
    [
        ("2026-11-30T23:59:59+00:00", BillState.OVERDUE),
        ("2026-12-01T00:00:00+00:00", BillState.SOON),
        ("2026-12-08T23:59:59+00:00", BillState.SOON),
        ("2026-12-09T00:00:00+00:00", BillState.LATER),
        (None, BillState.UNKNOWN),
    ],
)
def test_due_states_count_whole_days_from_today(due, state):
    assert state_of(inactive_span(plans=()), due=due) is state


def test_today_is_the_persons_not_the_servers():
    # 23:30 UTC on Nov 30 is already Dec 1 in Madrid: a bill due then is today's, not overdue.
    due = "2026-11-30T23:30:00+00:00"
    assert state_of(inactive_span(plans=()), due=due, zone=UTC) is BillState.OVERDUE
    assert state_of(inactive_span(plans=()), due=due, zone=MADRID) is BillState.SOON


@pytest.mark.django_db
def test_the_database_decides_every_state_as_the_function_does():
    accounts = []
    dues = [None, "2026-11-20T10:00:00Z", "2026-12-03T10:00:00Z", "2027-02-01T10:00:00Z"]
    plans = [
        {"status": "active"},
        {"status": "paused"},
        {"status": "cancelled"},
        {
            "status": "active",
            "pendingChange": {
                "changes": {"status": "paused"},
                "startDate": "2026-12-05T00:00:00Z",
                "endDate": "2026-12-25T00:00:00Z",
            },
        },
    ]
    for i, (due, raw_plan) in enumerate((d, p) for d in dues for p in plans):
        accounts.append(
            {
                "_id": f"a{i}",
                "company": {"name": f"C{i}"},
                "account": {
                    "billing": {"amount": 5, "dueDate": due},
                    "data": {"plans": [raw_plan]},
                },
            }
        )
    snapshot = stored({"accounts": accounts})
    for today in (date(2026, 11, 1), TODAY, date(2026, 12, 10), date(2027, 3, 1)):
        bounds = DayBounds.of(today, MADRID)
        rows = Bill.objects.filter(snapshot=snapshot).annotate(state=bill_state_case(bounds))
        for row in rows:
            assert row.state == bill_state(
                due_at=row.due_at,
                inactive_kind=row.inactive_kind,
                inactive_start=row.inactive_start,
                inactive_end=row.inactive_end,
                bounds=bounds,
            ), (row.name, today)


@pytest.mark.parametrize(
    ("savings", "bill", "expected"),
    [
        ([Decimal(14), Decimal(7)], Decimal("38.78"), Decimal(14)),  # alternatives, not added
        ([Decimal(50)], Decimal("20.46"), Decimal("20.46")),  # never more than the bill
        ([None, Decimal(0)], Decimal(30), Decimal(0)),  # nothing countable
        ([Decimal(5)], None, Decimal(0)),  # no known bill to vouch for
    ],
)
def test_an_accounts_savings_are_its_best_suggestion_capped_at_its_bill(savings, bill, expected):
    assert account_savings(savings=savings, monthly_bill=bill) == expected


def test_a_bill_recurs_monthly_by_its_cycle_or_its_history():
    assert recurs_monthly(cycle="monthly", history=[])
    assert not recurs_monthly(cycle="yearly", history=[])
    monthly = [datetime(2026, m, 3, tzinfo=UTC) for m in (8, 9, 10)]
    assert recurs_monthly(cycle="", history=monthly)
    assert not recurs_monthly(cycle="", history=monthly[:1])


def test_a_monthly_bill_is_expected_every_month_from_its_due_date_on():
    due = date(2026, 1, 31)
    assert occurrences_in_month(due_day=due, monthly=True, year=2026, month=1) == [due]
    assert occurrences_in_month(due_day=due, monthly=True, year=2026, month=2) == [
        date(2026, 2, 28)
    ]
    assert occurrences_in_month(due_day=due, monthly=True, year=2025, month=12) == []
    assert occurrences_in_month(due_day=due, monthly=False, year=2026, month=2) == []
