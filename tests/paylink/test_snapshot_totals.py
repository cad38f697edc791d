"""The dashboard's totals kept on the snapshot (`AccountSnapshot.totals`): every writer of the
rows keeps them equal to what the dashboard's own queries find, and the unfiltered dashboard
reads them instead of running those queries, with the same page."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from bench.run import accounts_payload
from paylink.models import AccountSnapshot, Payment, Profile
from paylink.selectors.dashboard import Filters, Pages, dashboard_for_snapshot, snapshot_for_user
from paylink.selectors.snapshot_totals import (
    SnapshotTotals,
    snapshot_totals_compute,
    snapshot_totals_decode,
    snapshot_totals_encode,
)
from paylink.services.account_rows import _rows_clear, accounts_rows_ensure, accounts_rows_refill
from paylink.services.accounts import accounts_store
from paylink.time_zone import time_zone_set
from tests.paylink.read_model import cold_page

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 30)


def payload(count: int = 4) -> dict:
    found = accounts_payload(count)
    # Two types, so the totals per type are more than one line.
    found["accounts"][0]["account"]["type"] = "telecom"
    return found


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice")


def profile_of(user: User) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def kept(user: User) -> dict | None:
    return AccountSnapshot.objects.get(profile__user=user).totals


def queried(user: User) -> dict:
    snapshot = AccountSnapshot.objects.get(profile__user=user)
    return snapshot_totals_encode(snapshot_totals_compute(snapshot_id=snapshot.pk))


def assert_kept_as_queried(user: User) -> dict:
    stored = kept(user)
    assert stored is not None
    assert stored == queried(user)
    return stored


def test_the_first_sync_keeps_the_totals_of_its_rows(alice):
    accounts_store(profile=profile_of(alice), payload=payload())

    stored = assert_kept_as_queried(alice)
    assert sorted(stored["kinds"]) == [["subscription", 3, "30.00"], ["telecom", 1, "9.99"]]
    assert stored["suggestions"] == 8
    assert sorted(stored["paid"]) == [
        ["2024-09-01", "subscription", "58.14"],
        ["2024-09-01", "telecom", "19.38"],
        ["2024-10-01", "subscription", "62.10"],
        ["2024-10-01", "telecom", "20.70"],
    ]


def test_a_sync_that_changes_types_savings_and_payments_keeps_the_new_totals(alice):
    profile = profile_of(alice)
    accounts_store(profile=profile, payload=payload())
    before = kept(alice)
    changed = payload()
    second = changed["accounts"][1]["account"]
    second["type"] = "utility"
    second["suggestions"][0]["monthlySavings"] = 3
    second["billing"]["history"][0]["amount"] = 99.99
    third = changed["accounts"][2]["account"]
    third["suggestions"] = third["suggestions"][:1]

    accounts_store(profile=profile, payload=changed)

    stored = assert_kept_as_queried(alice)
    assert stored != before
    assert stored["suggestions"] == 7
    assert ["utility", 1, "5.00"] in stored["kinds"]
    assert ["2024-10-01", "utility", "99.99"] in stored["paid"]


def test_a_sync_that_removes_accounts_keeps_the_totals_of_those_left(alice):
    profile = profile_of(alice)
    accounts_store(profile=profile, payload=payload())
    fewer = payload()
    fewer["accounts"] = fewer["accounts"][1:3]

    accounts_store(profile=profile, payload=fewer)

    stored = assert_kept_as_queried(alice)
    assert stored["kinds"] == [["subscription", 2, "20.00"]]
    assert stored["suggestions"] == 4


def test_a_new_time_zone_moves_the_spending_by_month_with_the_payments(alice):
    profile = profile_of(alice)
    late = payload(2)
    for account in late["accounts"]:
        # Late on October 31 in Los Angeles: November 1 in Tokyo.
        account["account"]["billing"]["history"][0]["date"] = "2024-11-01T04:00:00.000Z"
    time_zone_set(user=alice, name="America/Los_Angeles")
    accounts_store(profile=profile, payload=late)
    assert ["2024-10-01", "telecom", "20.70"] in assert_kept_as_queried(alice)["paid"]

    assert time_zone_set(user=alice, name="Asia/Tokyo")

    stored = assert_kept_as_queried(alice)
    assert ["2024-11-01", "telecom", "20.70"] in stored["paid"]
    assert ["2024-10-01", "telecom", "20.70"] not in stored["paid"]


def test_rows_rebuilt_on_demand_keep_their_totals(alice):
    accounts_store(profile=profile_of(alice), payload=payload())
    snapshot = AccountSnapshot.objects.get(profile__user=alice)
    # As a payload written by hand is: no digest, no rows, no totals known.
    _rows_clear(snapshot=snapshot)
    AccountSnapshot.objects.filter(pk=snapshot.pk).update(payload_sha256="")
    assert kept(alice) is None
    loaded = snapshot_for_user(user=alice)
    assert loaded is not None and loaded.totals is None

    accounts_rows_ensure(snapshot=loaded)

    assert loaded.totals == assert_kept_as_queried(alice)
    assert loaded.totals["suggestions"] == 8


def test_clearing_the_rows_forgets_the_totals_and_a_refill_keeps_them_again(alice):
    accounts_store(profile=profile_of(alice), payload=payload())
    snapshot = AccountSnapshot.objects.get(profile__user=alice)

    _rows_clear(snapshot=snapshot)
    assert kept(alice) is None

    accounts_rows_refill(snapshot=snapshot)
    assert assert_kept_as_queried(alice)["suggestions"] == 8


def test_kept_totals_read_back_exactly():
    totals = SnapshotTotals(
        kinds={"": (1, Decimal("0.00")), "telecom": (2, Decimal("1234567890123.45"))},
        suggestions=7,
        paid={(date(2024, 10, 1), "telecom"): Decimal("-0.10")},
    )
    # Through the column and back, as a page reads it.
    profile = Profile.objects.create(user=User.objects.create_user("bob"))
    AccountSnapshot.objects.create(profile=profile, totals=snapshot_totals_encode(totals))

    read = snapshot_totals_decode(AccountSnapshot.objects.get(profile=profile).totals)

    assert read == totals
    assert read is not None and str(read.kinds["telecom"][1]) == "1234567890123.45"
    assert snapshot_totals_decode(None) is None


def page_of(user: User) -> tuple[int, str]:
    """The dashboard drawn cold (nothing cached): its queries, and its HTML without what
    differs in each answer."""
    count, html = cold_page(user)
    strip = re.compile(r'(nonce="|value="|data-csrf="|"X-CSRFToken": "|after=)[^"&]+')
    return count, strip.sub("", html)


def test_an_unfiltered_cold_dashboard_reads_the_kept_totals_in_three_queries_fewer(alice):
    accounts_store(profile=profile_of(alice), payload=payload(8))
    with_totals, page = page_of(alice)
    AccountSnapshot.objects.filter(profile__user=alice).update(totals=None)

    without, page_from_sql = page_of(alice)

    assert with_totals == without - 3
    assert page == page_from_sql
    assert "Biller 5" in page


def dashboards(user: User, filters: Filters):
    snapshot = snapshot_for_user(user=user)
    return dashboard_for_snapshot(snapshot=snapshot, today=TODAY, pages=Pages(), filters=filters)


def test_the_dashboard_shows_the_kept_totals_and_a_filtered_one_totals_in_sql(alice):
    accounts_store(profile=profile_of(alice), payload=payload())
    # Totals that are not those of the rows: only a page that reads them can show them.
    wrong = SnapshotTotals(
        kinds={"subscription": (40, Decimal("1.00"))},
        suggestions=99,
        paid={(date(2024, 10, 1), "subscription"): Decimal("5.00")},
    )
    right = dashboards(alice, Filters())
    right_filtered = dashboards(alice, Filters(type="subscription"))
    AccountSnapshot.objects.filter(profile__user=alice).update(totals=snapshot_totals_encode(wrong))

    shown = dashboards(alice, Filters())
    filtered = dashboards(alice, Filters(type="subscription"))

    assert shown.summary.connected == 40
    assert shown.suggestions is not None and shown.suggestions.paginator.count == 99
    assert shown.spending is not None and shown.spending.total == Decimal("5.00")
    assert filtered.summary == right_filtered.summary
    assert filtered.summary.connected == 3
    assert filtered.suggestions is not None and right_filtered.suggestions is not None
    assert filtered.suggestions.paginator.count == 6
    assert filtered.spending == right_filtered.spending
    assert right.summary.connected == 4


def test_a_dashboard_with_its_totals_kept_is_the_one_without(alice):
    accounts_store(profile=profile_of(alice), payload=payload(9))
    kept_totals = dashboards(alice, Filters())
    AccountSnapshot.objects.filter(profile__user=alice).update(totals=None)

    from_sql = dashboards(alice, Filters())

    assert kept_totals.summary == from_sql.summary
    assert kept_totals.spending == from_sql.spending
    assert kept_totals.types == from_sql.types == ("subscription", "telecom")
    assert kept_totals.suggestions is not None and from_sql.suggestions is not None
    assert kept_totals.suggestions.paginator.count == from_sql.suggestions.paginator.count == 18
    assert [s.suggestion.pk for s in kept_totals.suggestions] == [
        s.suggestion.pk for s in from_sql.suggestions
    ]


def test_payments_written_by_a_sync_are_what_the_kept_spending_sums(alice):
    accounts_store(profile=profile_of(alice), payload=payload())
    paid = sum((p.amount for p in Payment.objects.all()), Decimal(0))
    stored = assert_kept_as_queried(alice)
    assert sum((Decimal(amount) for _, _, amount in stored["paid"]), Decimal(0)) == paid
