"""The read model: each stored account as typed rows (`LinkedAccount`, `Bill`, `Suggestion`,
`Payment`), written only where an account changed, rebuilt from the payload on demand."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from decimal import Decimal
from importlib import import_module
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from paylink.models import AccountSnapshot, Bill, LinkedAccount, Payment, Suggestion
from paylink.payloads import accounts_parse
from paylink.selectors.dashboard import snapshot_for_user
from paylink.services.account_rows import accounts_rows_ensure, accounts_rows_store
from paylink.services.accounts import accounts_store
from tests.atomic_json import atomic_json
from tests.paylink.read_model import dashboard_of
from tests.paylink.test_dashboard_selectors import varied_payload

TODAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def rows_of(snapshot: AccountSnapshot) -> list[tuple[int, str]]:
    return list(
        LinkedAccount.objects.filter(snapshot=snapshot)
        .order_by("position")
        .values_list("position", "company_name")
    )


def small_account(index: int, amount: float = 10) -> dict:
    return {
        "_id": f"acct{index:05d}",
        "company": {"name": f"Biller {index}"},
        "account": {
            "type": "subscription",
            "billing": {"amount": amount, "dueDate": "2026-12-01T12:00:00Z"},
        },
    }


def test_storing_a_payload_keeps_typed_rows_per_account(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=varied_payload())
    rows = rows_of(snapshot)
    # Entries that are not accounts are skipped; positions are their place in the payload.
    assert len(rows) == len(accounts_parse(varied_payload())) < len(varied_payload()["accounts"])
    assert rows[0] == (0, "Biller 0") and rows[5] == (6, "Biller 5")
    hulu = accounts_store(profile=alice_profile, payload=atomic_json("accounts/hulu"))
    (bill,) = Bill.objects.filter(snapshot=hulu)
    assert (bill.name, bill.amount, bill.autopay, bill.payment_method) == (
        "Hulu",
        Decimal("20.46"),
        True,
        "Mastercard",
    )
    assert (bill.account_last_four, bill.plan_status, bill.pending_status) == (
        "1919",
        "active",
        "paused",
    )
    assert (bill.inactive_kind, bill.recurs_monthly) == ("paused", True)
    assert Suggestion.objects.filter(snapshot=hulu).count() == 2
    assert Payment.objects.filter(snapshot=hulu).count() == 2
    # The payload is the record, kept once: on the snapshot, not on the rows.
    assert not any(f.name == "payload" for f in LinkedAccount._meta.get_fields())


def test_an_accounts_named_bills_are_a_row_each_with_their_own_actions(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=atomic_json("accounts/apple_bills"))
    bills = list(Bill.objects.filter(snapshot=snapshot).order_by("position"))
    assert [(b.name, b.amount, b.named) for b in bills] == [
        ("Apple TV+", Decimal("9.99"), True),
        ("NY Times", Decimal("16.99"), True),
    ]
    assert [a["id"] for a in bills[1].actions] == ["NYT_CANCEL", "NYT_CHANGE"]
    (account,) = LinkedAccount.objects.filter(snapshot=snapshot)
    assert account.monthly_amount == Decimal("26.98")
    # Two suggestions for one account: the better, not both.
    assert account.monthly_savings == Decimal("9.99")


def test_an_account_without_named_bills_is_its_own_bill(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=atomic_json("accounts/hulu"))
    assert list(Bill.objects.filter(snapshot=snapshot).values_list("name", "named")) == [
        ("Hulu", False)
    ]


def test_the_same_payload_writes_nothing_and_a_changed_account_only_its_own_rows(alice_profile):
    payload = {"accounts": [small_account(i) for i in range(4)]}
    accounts_store(profile=alice_profile, payload=payload)
    kept = dict(LinkedAccount.objects.values_list("company_name", "pk"))
    with CaptureQueriesContext(connection) as queries:
        accounts_store(profile=alice_profile, payload=copy.deepcopy(payload))
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("INSERT", "DELETE"))]

    changed = copy.deepcopy(payload)
    changed["accounts"][2]["account"]["billing"]["amount"] = 99
    del changed["accounts"][3]
    accounts_store(profile=alice_profile, payload=changed)
    now = dict(LinkedAccount.objects.values_list("company_name", "pk"))
    # The changed account is renewed in place (its row keeps its key); the removed one goes.
    assert now == {name: kept[name] for name in ("Biller 0", "Biller 1", "Biller 2")}
    assert Bill.objects.get(company_name="Biller 2").amount == Decimal(99)
    assert not Bill.objects.filter(company_name="Biller 3").exists()


def test_a_moved_account_keeps_its_rows_and_takes_its_new_place(alice_profile):
    payload = {"accounts": [small_account(i) for i in range(3)]}
    accounts_store(profile=alice_profile, payload=payload)
    kept = dict(LinkedAccount.objects.values_list("company_name", "pk"))
    accounts_store(profile=alice_profile, payload={"accounts": payload["accounts"][::-1]})
    assert dict(LinkedAccount.objects.values_list("company_name", "pk")) == kept
    assert dict(LinkedAccount.objects.values_list("company_name", "position")) == {
        "Biller 0": 2,
        "Biller 1": 1,
        "Biller 2": 0,
    }


def test_a_five_thousand_account_sync_with_one_change_writes_one_accounts_rows(alice_profile):
    payload = {"accounts": [small_account(i) for i in range(5000)]}
    accounts_store(profile=alice_profile, payload=payload)
    assert LinkedAccount.objects.count() == 5000
    bills = set(Bill.objects.values_list("pk", flat=True))
    changed = json.loads(json.dumps(payload))
    changed["accounts"][1234]["account"]["billing"]["amount"] = 42
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    snapshot.payload = changed
    with CaptureQueriesContext(connection) as queries:
        written = accounts_rows_store(snapshot=snapshot)
    assert (written.created, written.renewed, written.moved, written.deleted) == (0, 1, 0, 0)
    # Every other account's bill is the row it was; the changed one's is new.
    now = set(Bill.objects.values_list("pk", flat=True))
    assert len(now - bills) == len(bills - now) == 1
    assert Bill.objects.get(company_name="Biller 1234").amount == Decimal(42)
    assert LinkedAccount.objects.count() == 5000
    if connection.vendor == "sqlite":
        # Rows go many at a time ("1 times: INSERT ..."): one statement per table written
        # (PostgreSQL's COPY is not in the log): the account's row, over, and its one bill.
        written = [
            q["sql"]
            for q in queries.captured_queries
            if re.match(r"\d+ times: (INSERT|UPDATE) ", q["sql"])
        ]
        assert [sql.split()[:4] for sql in written] == [
            ["1", "times:", "UPDATE", '"paylink_linkedaccount"'],
            ["1", "times:", "INSERT", "INTO"],
        ]


def test_a_changed_account_keeps_the_suggestion_and_payment_rows_that_came_out_the_same(
    alice_profile,
):
    hulu = atomic_json("accounts/hulu")
    other = copy.deepcopy(hulu["accounts"][0])
    other["_id"], other["company"]["name"] = "other-account", "Other"
    accounts_store(profile=alice_profile, payload={"accounts": [hulu["accounts"][0], other]})
    suggestions = set(Suggestion.objects.values_list("pk", flat=True))
    payments = dict(Payment.objects.values_list("pk", "amount"))
    accounts = dict(LinkedAccount.objects.values_list("company_name", "pk"))

    changed = copy.deepcopy(hulu["accounts"][0])
    changed["account"]["billing"]["amount"] = 30
    changed["account"]["billing"]["history"][0]["amount"] = 21.5
    accounts_store(profile=alice_profile, payload={"accounts": [changed, other]})

    assert dict(LinkedAccount.objects.values_list("company_name", "pk")) == accounts
    assert Bill.objects.get(company_name="Hulu").amount == Decimal(30)
    # The suggestions came out the same: the very rows stay.
    assert set(Suggestion.objects.values_list("pk", flat=True)) == suggestions
    # Hulu's payments changed: its two are new rows; the other account's stay.
    now = dict(Payment.objects.values_list("pk", "amount"))
    assert len(now) == 4 and len(set(now) & set(payments)) == 2
    assert sorted(
        Payment.objects.filter(account__company_name="Hulu").values_list("amount", flat=True)
    ) == [Decimal("19.38"), Decimal("21.50")]
    assert LinkedAccount.objects.get(company_name="Hulu").card["account"]["billing"]["amount"] == 30


def test_a_payload_written_by_hand_gets_its_rows_on_the_next_read(alice, alice_profile):
    AccountSnapshot.objects.create(
        profile=alice_profile, payload=atomic_json("accounts/hulu"), version=3
    )
    snapshot = snapshot_for_user(user=alice)
    assert not LinkedAccount.objects.exists()
    accounts_rows_ensure(snapshot=snapshot)
    assert rows_of(snapshot) == [(0, "Hulu")]
    assert AccountSnapshot.objects.get().payload_sha256
    dashboard = dashboard_of(snapshot, today=TODAY)
    assert [c.row.company_name for c in dashboard.cards] == ["Hulu"]


def test_the_refill_command_rebuilds_every_row_from_the_stored_payloads(alice_profile):
    snapshot = accounts_store(profile=alice_profile, payload=atomic_json("accounts/messy"))
    before = sorted(LinkedAccount.objects.values_list("company_name", "monthly_amount"))
    Bill.objects.all().update(amount=None)
    out = StringIO()
    call_command("paylink_rows_refill", stdout=out)
    assert "Rebuilt the rows of" in out.getvalue()
    assert sorted(LinkedAccount.objects.values_list("company_name", "monthly_amount")) == before
    assert Bill.objects.filter(snapshot=snapshot, amount__isnull=False).exists()


def test_cards_read_only_their_own_accounts_out_of_the_payload(alice_profile):
    payload = {"accounts": [small_account(i) for i in range(30)]}
    snapshot = accounts_store(profile=alice_profile, payload=payload)
    dashboard = dashboard_of(snapshot, today=TODAY, pages=None)
    assert [c.account.company.name for c in dashboard.cards] == [f"Biller {i}" for i in range(30)]


def test_changed_accounts_are_written_over_in_place_never_deleted_and_written_back(
    alice_profile,
):
    accounts_store(
        profile=alice_profile, payload={"accounts": [small_account(i) for i in range(3)]}
    )
    keys = dict(LinkedAccount.objects.values_list("position", "pk"))
    deleted_before = _account_rows_deleted()

    changed = [small_account(i, amount=20 + i) for i in range(3)]
    accounts_store(profile=alice_profile, payload={"accounts": changed})

    # Each row keeps its key and holds the new content; none was deleted to be written back
    # (every key pointing at a row deleted and written back is checked again at commit).
    assert dict(LinkedAccount.objects.values_list("position", "pk")) == keys
    assert list(
        LinkedAccount.objects.order_by("position").values_list("monthly_amount", flat=True)
    ) == [Decimal(20), Decimal(21), Decimal(22)]
    assert [c["account"]["billing"]["amount"] for c in _cards()] == [20, 21, 22]
    if deleted_before is not None:
        assert _account_rows_deleted() == deleted_before


def _cards() -> list[dict]:
    return list(LinkedAccount.objects.order_by("position").values_list("card", flat=True))


def _account_rows_deleted() -> int | None:
    """PostgreSQL: the rows of the account table this transaction deleted (the test's own)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_del FROM pg_stat_xact_user_tables WHERE relname = %s",
            [LinkedAccount._meta.db_table],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_account_rows_leave_room_on_their_page_for_the_rewrite_of_a_changed_account():
    if connection.vendor != "postgresql":
        # SQLite has no such setting: the migration sends it nothing.
        spaced = import_module("paylink.migrations.0098_linkedaccount_fillfactor").spaced
        with CaptureQueriesContext(connection) as sent:
            spaced(None, SimpleNamespace(connection=connection))
        assert [q["sql"] for q in sent.captured_queries if "fillfactor" in q["sql"]] == []
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'paylink_linkedaccount'")
        (options,) = cursor.fetchone()
    assert "fillfactor=60" in (options or [])
