"""The month view at any number of bills: a page of the list at a time, the month's count and
total whatever the page, the grid's first bills and counts, and the drawn month kept in the
cache until the person's data (or their language, zone or day) changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from paylink.models import AccountSnapshot
from paylink.selectors.due_month import GRID_BILLS_PER_DAY, MONTH_BILLS_PER_PAGE
from reminders.page_cache import month_key
from tests.paylink.bills import bill_account, snapshot_with

pytestmark = pytest.mark.django_db

MARCH = date(2027, 3, 1)


def march_bills(count: int, *, unpriced: int = 0) -> list[dict]:
    """`count` bills spread over March 2027 (Biller 000 on the 1st, ...), the last `unpriced`
    of them without an amount."""
    return [
        bill_account(
            account_id=f"acct-{index:03d}",
            biller=f"Biller {index:03d}",
            due=date(2027, 3, index % 28 + 1),
            amount=None if index >= count - unpriced else 10 + index,
        )
        for index in range(count)
    ]


def month_of(client, **query) -> tuple[object, str]:
    """The month drawn now (not as the cache kept it), and its page."""
    cache.clear()
    response = client.get("/calendar/", {"month": "2027-03", **query})
    assert response.status_code == 200
    return response.context["month"], response.content.decode()


def page_of(client, **query) -> str:
    """The page as served: drawn, or as the cache kept it."""
    return client.get("/calendar/", {"month": "2027-03", **query}).content.decode()


def test_a_month_of_many_bills_is_listed_a_page_at_a_time_with_its_whole_count_and_total(
    alice, alice_client
):
    snapshot_with(alice, *march_bills(122, unpriced=2))
    total = sum(Decimal(10 + index) for index in range(120))
    seen = []
    for number, size in ((1, 50), (2, 50), (3, 22)):
        month, html = month_of(alice_client, page=number)
        # The count and the total are the whole month's, on every page.
        assert (month.count, month.total, month.unpriced) == (122, total, 2)
        assert f"122 bills, ${total:,.2f} in all." in html
        assert "2 of them have no amount on file." in html
        assert len(month.page) == size == min(MONTH_BILLS_PER_PAGE, 122 - 50 * (number - 1))
        seen += [(bill.day, bill.biller) for bill in month.page]
        assert ("Earlier bills" in html) == (number > 1)
    # Every bill once, soonest day first, then by name.
    assert len(seen) == 122 and seen == sorted(seen)


def test_show_more_is_a_link_that_works_without_javascript_and_appends_with_htmx(
    alice, alice_client
):
    snapshot_with(alice, *march_bills(70))
    _, html = month_of(alice_client)
    link = re.search(r'<p class="more-row" id="month-bills-more-2"><a [^>]+>', html)
    assert link is not None
    assert 'href="/calendar/?month=2027-03&amp;page=2#month-bills"' in link.group()
    assert 'hx-get="/calendar/bills/?month=2027-03&amp;page=2"' in link.group()
    assert 'hx-target="#month-bills-more-2"' in link.group()
    assert "Show 20 more bills" in html and "(20 not shown)" in html

    appended = alice_client.get(
        "/calendar/bills/", {"month": "2027-03", "page": "2"}, headers={"HX-Request": "true"}
    ).content.decode()
    # The next days alone, to go where the link was: no page around them, no link after.
    assert "<h1" not in appended and "<table" not in appended and "Show" not in appended
    second, _ = month_of(alice_client, page=2)
    assert appended.count("<li>") == len(second.page) == 20
    assert all(f"<li>{bill.label}</li>" in appended for bill in second.page)

    plain = alice_client.get("/calendar/bills/", {"month": "2027-03", "page": "2"})
    assert plain.status_code == 302
    assert plain["Location"] == "/calendar/?month=2027-03&page=2#month-bills"


def test_a_day_that_goes_on_from_the_page_before_says_so(alice, alice_client):
    snapshot_with(
        alice,
        *(
            bill_account(account_id=f"a{index:02d}", biller=f"B{index:02d}", due=date(2027, 3, 9))
            for index in range(MONTH_BILLS_PER_PAGE + 5)
        ),
    )
    first, first_html = month_of(alice_client)
    second, second_html = month_of(alice_client, page=2)
    assert not first.continues and "(continued)" not in first_html
    assert second.continues and "(continued)" in second_html
    assert [day for day, _ in second.days] == [date(2027, 3, 9)]


def test_the_grid_names_a_days_first_bills_and_counts_the_rest(alice, alice_client):
    names = ["Echo", "alpha", "Delta", "bravo", "Charlie"]
    snapshot_with(
        alice,
        *(
            bill_account(account_id=f"id-{name}", biller=name, due=date(2027, 3, 10))
            for name in names
        ),
    )
    month, html = month_of(alice_client)
    [cell] = [c for week in month.weeks for c in week if c.count]
    assert cell.day == date(2027, 3, 10)
    # By name, whatever the case; the rest counted, not named.
    assert [b.biller for b in cell.shown] == ["alpha", "bravo", "Charlie"][:GRID_BILLS_PER_DAY]
    assert (cell.count, cell.more) == (5, 2)
    assert "and 2 more" in html


def test_a_named_bill_is_listed_by_its_name_with_its_company(alice, alice_client):
    account = bill_account(account_id="apple", biller="Apple", due=date(2027, 3, 5))
    account["bills"] = [{"name": "Apple TV+", "amount": 9.99, "dueDate": "2027-03-05T12:00:00Z"}]
    snapshot_with(alice, account)
    month, _ = month_of(alice_client)
    assert [b.label for b in month.page] == ["Apple TV+ (Apple): $9.99"]


def test_the_drawn_month_is_kept_until_the_persons_data_changes(alice, alice_client):
    snapshot_with(alice, bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 3)))
    assert "Hulu: $20.46" in page_of(alice_client)
    # Written by hand without a new version: the rows change, the kept month does not.
    snapshot_with(
        alice, bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 3), amount=5)
    )
    assert "Hulu: $20.46" in page_of(alice_client)
    # A sync that stores new data moves the version: the month is drawn again.
    snapshot_with(
        alice,
        bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 3), amount=5),
        version=2,
    )
    response = alice_client.get("/calendar/", {"month": "2027-03"})
    assert "Hulu: $5.00" in response.content.decode()
    assert "Hulu: $20.46" not in response.content.decode()


def test_the_kept_month_follows_the_language_and_the_persons_today(alice, alice_client):
    snapshot_with(alice, bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 3)))
    english = page_of(alice_client)
    alice_client.cookies["django_language"] = "es"
    spanish = page_of(alice_client)
    assert "March 2027" in english and "marzo" in spanish.lower()

    snapshot = AccountSnapshot.objects.get(profile__user=alice)
    keys = {
        month_key(
            snapshot=snapshot,
            month=MARCH,
            page=1,
            part="month",
            language=language,
            zone="UTC",
            today=timezone.localdate(),
        )
        for language in ("en", "es")
    }
    assert all(cache.get(key) for key in keys) and len(keys) == 2
    # On another day the month is drawn again (states and "today" follow the day).
    tomorrow = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        month = alice_client.get("/calendar/", {"month": "2027-03"}).context["month"]
    assert [c.day for week in month.weeks for c in week if c.is_today] == [date(2027, 3, 3)]


def test_the_kept_month_and_feed_leave_the_cache_with_the_account(alice, alice_client, atomic):
    from paylink.services.account_deletion import account_delete
    from reminders.services.preferences import calendar_token_rotate
    from tests.paylink.bills import preferences_of

    snapshot_with(alice, bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 3)))
    page_of(alice_client)
    token = calendar_token_rotate(preferences=preferences_of(alice))
    assert alice_client.get(f"/calendar/{token}.ics").status_code == 200
    profile_id = alice.paylink_profile.pk
    kept = [key for key in _keys() if key.startswith(f"paylink:dashboard:{profile_id}:")]
    assert any(":calendar:" in key for key in kept) and any(":feed:" in key for key in kept)

    account_delete(user=alice)

    assert not [key for key in _keys() if key.startswith(f"paylink:dashboard:{profile_id}:")]


def _keys() -> list[str]:
    # The tests' cache is the process's memory: its keys, as they were set.
    return [key.split(":", 2)[-1] for key in cache._cache]  # type: ignore[attr-defined]
