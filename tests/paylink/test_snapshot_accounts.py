"""A stored payload's accounts, one per row: what `accounts_store` writes, and a dashboard drawn
from those rows that is the one drawn from the payload, whatever the page, filter or order."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from bench.run import accounts_payload
from paylink.models import AccountSnapshot, SnapshotAccount
from paylink.payloads import (
    account_brief_from_record,
    account_brief_record,
    accounts_brief_parse,
    accounts_parse,
)
from paylink.selectors.dashboard import (
    Filters,
    Pages,
    dashboard_for_payload,
    dashboard_for_snapshot,
    filters_from_query,
    snapshot_for_user,
)
from paylink.services.accounts import accounts_store
from tests.paylink.test_dashboard_selectors import fixture, varied_payload

TODAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def payloads() -> dict[str, dict]:
    return {
        "hulu": fixture("hulu"),
        "messy": fixture("messy"),
        "newer": fixture("newer"),
        "varied": varied_payload(),
        "many": accounts_payload(40),
    }


def rows_of(snapshot: AccountSnapshot) -> list[tuple[int, str, str]]:
    return list(
        SnapshotAccount.objects.filter(snapshot=snapshot)
        .order_by("position")
        .values_list("position", "payload_sha256", "payload__company__name")
    )


@pytest.mark.parametrize("name", ["hulu", "messy", "newer", "varied"])
def test_a_brief_stored_as_json_reads_back_the_same(name):
    briefs = accounts_brief_parse(payloads()[name], with_history=True)
    assert briefs
    for brief in briefs:
        assert account_brief_from_record(account_brief_record(brief), with_history=True) == brief


def test_storing_a_payload_keeps_one_row_per_account_under_its_digest(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=varied_payload())
    rows = rows_of(snapshot)
    # Entries that are not accounts are skipped and numbered as the parse numbers them.
    assert len(rows) == len(accounts_parse(varied_payload())) < len(varied_payload()["accounts"])
    assert [position for position, _, _ in rows] == list(range(len(rows)))
    assert {digest for _, digest, _ in rows} == {snapshot.payload_sha256}
    assert rows[0][2] == "Biller 0"


def test_a_new_payload_replaces_the_rows_and_the_same_one_keeps_them(alice_profile):
    first = accounts_store(profile=alice_profile, payload=fixture("messy"))
    kept = list(SnapshotAccount.objects.values_list("pk", flat=True))
    accounts_store(profile=alice_profile, payload=fixture("messy"))
    assert list(SnapshotAccount.objects.values_list("pk", flat=True)) == kept

    second = accounts_store(profile=alice_profile, payload=fixture("hulu"))
    assert second.version == first.version + 1
    assert rows_of(second) == [(0, second.payload_sha256, "Hulu")]


def test_a_snapshot_stored_before_the_rows_existed_gets_them_on_its_next_sync(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=fixture("hulu"))
    SnapshotAccount.objects.all().delete()
    again = accounts_store(profile=alice_profile, payload=fixture("hulu"))
    assert again.version == snapshot.version
    assert rows_of(again) == [(0, snapshot.payload_sha256, "Hulu")]


CHOICES = [
    Filters(),
    filters_from_query(type="", status="", sort="amount"),
    filters_from_query(type="subscription", status="", sort=""),
    filters_from_query(type="", status="later", sort=""),
    filters_from_query(type="", status="unknown", sort="amount"),
    filters_from_query(type="telecom", status="", sort=""),
]


@pytest.mark.parametrize("name", ["hulu", "messy", "newer", "varied", "many"])
def test_the_dashboard_from_the_rows_is_the_one_from_the_payload(alice, alice_profile, name):
    payload = payloads()[name]
    accounts_store(profile=alice_profile, payload=payload)
    snapshot = snapshot_for_user(user=alice)
    for filters, pages, with_spending in itertools.product(
        CHOICES, [Pages(), Pages(bills=2, suggestions=3, cards=2), Pages(cards=99)], [True, False]
    ):
        choice = {"today": TODAY, "pages": pages, "filters": filters}
        with CaptureQueriesContext(connection) as queries:
            version, stored = dashboard_for_snapshot(
                snapshot=snapshot, with_spending=with_spending, **choice
            )
        # Read from the rows: the payload column of the snapshot is never selected.
        assert not [q for q in queries.captured_queries if "paylink_accountsnapshot" in q["sql"]]
        assert version == snapshot.version
        assert stored == dashboard_for_payload(
            payload=payload, with_spending=with_spending, **choice
        )


def test_a_payload_written_without_its_digest_is_read_from_the_payload(alice, alice_profile):
    accounts_store(profile=alice_profile, payload=fixture("hulu"))
    # Written around accounts_store: the rows describe the old payload and must not be used.
    AccountSnapshot.objects.filter(profile=alice_profile).update(
        payload=fixture("messy"), payload_sha256="", version=5
    )
    version, dashboard = dashboard_for_snapshot(
        snapshot=snapshot_for_user(user=alice), today=TODAY, pages=Pages(), filters=Filters()
    )
    assert version == 5
    assert dashboard == dashboard_for_payload(
        payload=fixture("messy"), today=TODAY, pages=Pages(), filters=Filters()
    )


def test_rows_replaced_during_a_render_send_it_to_the_payload(alice, alice_profile):
    accounts_store(profile=alice_profile, payload=accounts_payload(20))
    snapshot = snapshot_for_user(user=alice)
    # As if a sync deleted them between the read of the briefs and of the accounts shown.
    SnapshotAccount.objects.filter(position=3).delete()
    version, dashboard = dashboard_for_snapshot(
        snapshot=snapshot, today=TODAY, pages=Pages(), filters=Filters()
    )
    assert version == snapshot.version
    assert dashboard == dashboard_for_payload(
        payload=accounts_payload(20), today=TODAY, pages=Pages(), filters=Filters()
    )
