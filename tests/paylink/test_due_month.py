"""The month view's SQL keeps the rule the reminders and the feed follow in Python: each bill on
its due day and, monthly, on the same day of later months (the last where shorter), never on a
day its pause or cancellation covers, in the person's time zone."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from paylink.bill_rules import occurrences_in_month
from paylink.models import Bill
from paylink.selectors import due_month
from paylink.selectors.due_dates import due_dates_for_snapshot
from paylink.selectors.due_month import month_of_due_dates
from paylink.services.accounts import accounts_store
from paylink.time_zone import time_zone_set
from tests.paylink.bills import bill_account

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 6)
MADRID = "Europe/Madrid"


def _plan(status: str, *, change: str = "", start: str = "", end: str = "") -> dict:
    plan: dict = {"status": status}
    if change:
        plan["pendingChange"] = {"changes": {"status": change}, "startDate": start, "endDate": end}
    return plan


def varied_accounts() -> list[dict]:
    """Bills that test every branch of the rule."""
    accounts = [
        # Monthly on the 31st: the last day of shorter months.
        bill_account(account_id="end", biller="Month end", due=date(2026, 10, 31)),
        # Due at 23:30 UTC: the next day in Madrid.
        bill_account(account_id="late", biller="Late", due=date(2026, 12, 14)),
        # Not monthly (a yearly cycle): its due day only.
        bill_account(account_id="yearly", biller="Yearly", due=date(2027, 2, 3)),
        # No account id: no calendar lists it.
        bill_account(account_id="", biller="Nameless", due=date(2027, 1, 9)),
        # Paused today: left out altogether.
        bill_account(account_id="paused", biller="Paused", due=date(2026, 12, 20)),
        # A pause from mid-January to mid-March: those months' days left out.
        bill_account(account_id="pause", biller="Pausing", due=date(2026, 12, 18)),
        # Cancelled from February: nothing after.
        bill_account(account_id="ends", biller="Ending", due=date(2026, 12, 25)),
        # A pause that ended long ago: billed every month.
        bill_account(account_id="old", biller="Old pause", due=date(2026, 9, 2), amount=None),
    ]
    month_end, late, yearly = accounts[0], accounts[1], accounts[2]
    month_end["account"]["billing"]["dueDate"] = "2026-10-31T12:00:00Z"
    late["account"]["billing"]["dueDate"] = "2026-12-14T23:30:00Z"
    yearly["account"]["billing"]["autopay"]["cycle"] = "yearly"
    accounts[4]["account"]["data"] = {"plans": [_plan("paused")]}
    accounts[5]["account"]["data"] = {
        "plans": [
            _plan(
                "active", change="paused", start="2027-01-15T12:00:00Z", end="2027-03-15T12:00:00Z"
            )
        ]
    }
    accounts[6]["account"]["data"] = {
        "plans": [_plan("active", change="cancelled", start="2027-02-01T00:00:00Z")]
    }
    accounts[7]["account"]["data"] = {
        "plans": [
            _plan(
                "active", change="paused", start="2025-01-01T00:00:00Z", end="2025-03-01T00:00:00Z"
            )
        ]
    }
    # Three named bills of one account, on two days.
    apple = bill_account(account_id="apple", biller="Apple", due=date(2027, 1, 5))
    apple["bills"] = [
        {"name": "Apple TV+", "amount": 9.99, "dueDate": "2027-01-05T12:00:00Z"},
        {"name": "iCloud", "amount": 2.99, "dueDate": "2027-01-28T12:00:00Z"},
        {"name": "Arcade", "amount": 6.99, "dueDate": "2027-01-28T12:00:00Z"},
    ]
    return [*accounts, apple]


def by_the_python_rule(snapshot, first: date) -> list[tuple[date, str]]:
    """The month's bills as `due_dates` and `bill_rules` place them."""
    bills = due_dates_for_snapshot(
        snapshot=snapshot, today=TODAY, spans_from=first - timedelta(days=7)
    ).bills
    return sorted(
        (day, bill.biller)
        for bill in bills
        for day in occurrences_in_month(
            due_day=bill.due_day, monthly=bill.recurs_monthly, year=first.year, month=first.month
        )
        if bill.expected_on(day)
    )


def listed(snapshot, first: date) -> tuple[list[tuple[date, str]], dict[date, int]]:
    month = month_of_due_dates(snapshot=snapshot, first=first, today=TODAY)
    bills = [(b.day, b.biller) for b in month.page]
    for number in month.page.paginator.page_range[1:]:
        page = month_of_due_dates(snapshot=snapshot, first=first, today=TODAY, page=number).page
        bills += [(b.day, b.biller) for b in page]
    counts = {cell.day: cell.count for week in month.weeks for cell in week if cell.in_month}
    return bills, counts


@pytest.mark.parametrize("zone", ["UTC", MADRID])
def test_the_month_in_sql_is_the_month_by_the_python_rule(alice, alice_profile, zone, settings):
    settings.TIME_ZONE = "UTC"
    time_zone_set(user=alice, name=zone)
    snapshot = accounts_store(profile=alice_profile, payload={"accounts": varied_accounts()})
    with timezone.override(zone):
        for first in [date(2026, month, 1) for month in (9, 10, 11, 12)] + [
            date(2027, month, 1) for month in range(1, 8)
        ]:
            expected = by_the_python_rule(snapshot, first)
            bills, counts = listed(snapshot, first)
            assert sorted(bills) == expected, first
            assert {day: n for day, n in counts.items() if n} == dict(
                Counter(d for d, _ in expected)
            )
    # The rule's branches were met, not skipped.
    with timezone.override(zone):
        december = by_the_python_rule(snapshot, date(2026, 12, 1))
        january = by_the_python_rule(snapshot, date(2027, 1, 1))
        february = by_the_python_rule(snapshot, date(2027, 2, 1))
    assert (date(2027, 2, 28), "Month end") in february
    assert not [b for b in january + february if b[1] in ("Paused", "Nameless")]
    assert (date(2027, 1, 18), "Pausing") not in january and "Ending" not in dict(february).values()
    late = date(2026, 12, 15) if zone == MADRID else date(2026, 12, 14)
    assert (late, "Late") in december


def test_a_new_zone_moves_the_bills_to_the_days_there(alice, alice_profile, alice_client):
    account = bill_account(account_id="late", biller="Late", due=date(2027, 3, 14))
    account["account"]["billing"]["dueDate"] = "2027-03-14T23:30:00Z"
    snapshot = accounts_store(profile=alice_profile, payload={"accounts": [account]})
    assert Bill.objects.get(snapshot=snapshot).due_day == date(2027, 3, 14)
    alice_client.post("/time-zone/", {"time_zone": MADRID})
    assert Bill.objects.get(snapshot=snapshot).due_day == date(2027, 3, 15)
    page = alice_client.get("/calendar/", {"month": "2027-03"})
    assert [b.day for b in page.context["month"].page] == [date(2027, 3, 15)]


def test_a_zone_chosen_on_the_settings_page_moves_them_too(alice, alice_profile):
    from paylink.services.profiles import profile_settings_update

    account = bill_account(account_id="late", biller="Late", due=date(2027, 3, 14))
    account["account"]["billing"]["dueDate"] = "2027-03-14T23:30:00Z"
    accounts_store(profile=alice_profile, payload={"accounts": [account]})
    profile_settings_update(
        user=alice, first_name="", last_name="", language="", time_zone="Asia/Tokyo"
    )
    assert Bill.objects.get().due_day == date(2027, 3, 15)


def test_a_month_of_thousands_reads_two_numbers_a_bill_and_the_shown_ones_whole(
    alice_profile, monkeypatch
):
    accounts = [
        bill_account(account_id=f"a{i:04d}", biller=f"B{i:04d}", due=date(2027, 3, i % 28 + 1))
        for i in range(600)
    ]
    snapshot = accounts_store(profile=alice_profile, payload={"accounts": copy.deepcopy(accounts)})
    read: list[int] = []
    bills = due_month._bills

    def counted(placed):
        read.append(len(placed))
        return bills(placed)

    monkeypatch.setattr(due_month, "_bills", counted)
    month = month_of_due_dates(snapshot=snapshot, first=date(2027, 3, 1), today=TODAY)
    assert month.count == 600 and len(month.page) == due_month.MONTH_BILLS_PER_PAGE
    # Only the page's bills and the grid's first few a day are read whole.
    shown = {b.key for b in month.page} | {b.key for w in month.weeks for c in w for b in c.shown}
    assert read == [len(shown)]
    assert len(shown) <= due_month.MONTH_BILLS_PER_PAGE + due_month.GRID_BILLS_PER_DAY * 42
