"""The dashboard's view-model from the read model: sorting, totals, due flags, monthly
equivalents, honest savings, paging."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from paylink.bill_rules import BillState
from paylink.models import LinkedAccount, Suggestion
from paylink.payloads import accounts_parse
from paylink.selectors.dashboard import (
    BILLS_PER_PAGE,
    CARDS_PER_PAGE,
    SUGGESTIONS_PER_PAGE,
    Filters,
    Pages,
)
from paylink.services.accounts import accounts_store
from tests.atomic_json import atomic_json
from tests.paylink.read_model import dashboard_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def _in_english():
    # Labels are read in the active language, which a request in an earlier test may have
    # left as Spanish.
    with translation.override("en"):
        yield


def biller(
    index: int, *, amount: object, due: str | None, cycle: str = "monthly", savings=()
) -> dict:
    account = copy.deepcopy(atomic_json("accounts/hulu")["accounts"][0])
    account["_id"] = f"acct{index}"
    account["company"]["name"] = f"Biller {index}"
    account["account"]["billing"]["amount"] = amount
    account["account"]["billing"]["dueDate"] = due
    account["account"]["billing"]["autopay"]["cycle"] = cycle
    account["account"]["suggestions"] = [
        {"monthlySavings": s, "category": "cancel-plan", "shortDescription": f"Save {s}"}
        for s in savings
    ]
    return account


def test_it_sorts_bills_by_due_date_with_undated_bills_last():
    payload = {
        "accounts": [
            biller(1, amount=10, due="2026-12-15T00:00:00Z"),
            biller(2, amount=20, due=None),
            biller(3, amount=30, due="2026-11-10T00:00:00.000Z"),
            biller(4, amount=40, due="2026-11-24"),
        ]
    }
    bills = dashboard_of(payload, today=TODAY).bills
    assert [b.bill.company_name for b in bills] == ["Biller 3", "Biller 4", "Biller 1", "Biller 2"]
    assert [b.state for b in bills] == [
        BillState.OVERDUE,
        BillState.SOON,
        BillState.LATER,
        BillState.UNKNOWN,
    ]


def test_it_marks_due_within_seven_days_inclusive_and_overdue_from_yesterday():
    payload = {
        "accounts": [
            biller(1, amount=1, due="2026-11-20T23:59:59Z"),
            biller(2, amount=1, due="2026-11-21T00:00:00Z"),
            biller(3, amount=1, due="2026-11-28T12:00:00Z"),
            biller(4, amount=1, due="2026-11-29T00:00:00Z"),
        ]
    }
    states = {b.bill.company_name: b.state for b in dashboard_of(payload, today=TODAY).bills}
    assert states == {
        "Biller 1": BillState.OVERDUE,
        "Biller 2": BillState.SOON,
        "Biller 3": BillState.SOON,
        "Biller 4": BillState.LATER,
    }


def test_it_totals_what_is_due_in_the_next_thirty_days_apart_from_overdue():
    payload = {
        "accounts": [
            biller(1, amount=10, due="2026-11-25"),
            biller(2, amount="5.50", due="2026-12-21"),
            biller(3, amount=100, due="2026-12-22"),
            biller(4, amount=7, due="2026-11-01"),
            biller(5, amount=None, due="2026-11-30"),
        ]
    }
    summary = dashboard_of(payload, today=TODAY).summary
    assert summary.due_soon_total == Decimal("15.50")
    assert summary.due_soon_count == 3
    assert summary.overdue_total == Decimal(7)
    assert summary.overdue_count == 1
    assert summary.connected == 5


def test_it_turns_each_bill_into_a_monthly_equivalent_by_its_cycle():
    payload = {
        "accounts": [
            biller(1, amount=120, due=None, cycle="yearly"),
            biller(2, amount=10, due=None, cycle="weekly"),
            biller(3, amount=30, due=None, cycle="quarterly"),
            biller(4, amount="9.99", due=None, cycle="whenever"),
        ]
    }
    dashboard = dashboard_of(payload, today=TODAY)
    assert [c.row.monthly_amount for c in dashboard.cards] == [
        Decimal("10.00"),
        Decimal("43.33"),
        Decimal("10.00"),
        Decimal("9.99"),
    ]
    assert dashboard.summary.monthly_spend == Decimal("73.32")


def test_it_uses_a_plans_cycle_when_autopay_has_none():
    account = biller(1, amount=60, due=None)
    account["account"]["billing"]["autopay"] = None
    account["account"]["data"]["plans"][0]["cycle"] = "annual"
    (card,) = dashboard_of({"accounts": [account]}, today=TODAY).cards
    assert card.row.monthly_amount == Decimal("5.00")


def test_alternatives_for_one_account_are_never_added_and_the_best_comes_first():
    # Streamly: pause it ($14) or downgrade it ($7) is $14 at most, not $21.
    payload = {"accounts": [biller(1, amount="38.78", due=None, savings=[7, 14])]}
    dashboard = dashboard_of(payload, today=TODAY)
    assert dashboard.summary.monthly_savings == Decimal(14)
    (card,) = dashboard.cards
    assert [s.suggestion.monthly_savings for s in card.suggestions] == [Decimal(14), Decimal(7)]


def test_an_accounts_savings_never_exceed_its_bill():
    payload = {"accounts": [biller(1, amount="20.46", due=None, savings=[50])]}
    assert dashboard_of(payload, today=TODAY).summary.monthly_savings == Decimal("20.46")


def test_a_suggestion_without_a_monthly_saving_is_shown_but_not_counted():
    payload = {"accounts": [biller(1, amount=30, due=None, savings=[None, "0"])]}
    dashboard = dashboard_of(payload, today=TODAY)
    assert dashboard.summary.monthly_savings == 0
    assert [s.counted for s in dashboard.suggestions] == [False, False]


def test_it_sorts_suggestions_by_savings_across_accounts_and_sums_each_accounts_best():
    payload = {
        "accounts": [
            biller(1, amount=100, due=None, savings=[3, "12.5"]),
            biller(2, amount=100, due=None, savings=[None, 8]),
        ]
    }
    dashboard = dashboard_of(payload, today=TODAY)
    assert [s.suggestion.monthly_savings for s in dashboard.suggestions] == [
        Decimal("12.5"),
        Decimal(8),
        Decimal(3),
        None,
    ]
    assert dashboard.summary.monthly_savings == Decimal("20.5")
    assert dashboard.summary.yearly_savings == Decimal("246.0")


def test_ways_to_save_tied_on_savings_follow_their_accounts_order_after_a_sync_moves_them(
    alice_profile,
):
    first = [biller(n, amount=100, due=None, savings=[5, None, 5]) for n in range(4)]
    for n, account in enumerate(first):
        account["account"]["type"] = "utility" if n == 2 else "subscription"
    accounts_store(profile=alice_profile, payload={"accounts": first})
    kept = set(Suggestion.objects.values_list("pk", flat=True))
    changed = copy.deepcopy(first[1])
    changed["account"]["billing"]["amount"] = 200

    def ranked(payload: list[dict]) -> list[tuple[str, int]]:
        """The ways to save after a sync of `payload`, whole, checked page by page and
        type-filtered against it."""
        snapshot = accounts_store(profile=alice_profile, payload={"accounts": payload})
        # Every account kept its suggestions' rows, moved or changed beside them.
        assert set(Suggestion.objects.values_list("pk", flat=True)) == kept
        for suggestion in Suggestion.objects.select_related("account"):
            assert suggestion.account_position == suggestion.account.position
        whole = [
            (s.company_name, s.suggestion.position)
            for s in dashboard_of(snapshot, today=TODAY).suggestions
        ]
        paged = [
            (s.company_name, s.suggestion.position)
            for number in range(1, 5)
            for s in dashboard_of(
                snapshot, today=TODAY, pages=Pages(suggestions=number)
            ).suggestions
        ]
        assert paged == whole
        filtered = dashboard_of(snapshot, today=TODAY, filters=Filters(type="subscription"))
        assert [(s.company_name, s.suggestion.position) for s in filtered.suggestions] == [
            pair for pair in whole if pair[0] != "Biller 2"
        ]
        return whole

    def tied(*order: int) -> list[tuple[str, int]]:
        # Savings first (5, 5, then none), then the accounts' order, then the suggestions'.
        names = [f"Biller {n}" for n in order]
        return [*((n, p) for n in names for p in (0, 2)), *((n, 1) for n in names)]

    # Biller 1 changed (a new bill amount) with the same suggestions and swapped places with
    # Biller 2, which moved as it is: the accounts' keys no longer follow their positions.
    assert ranked([first[0], first[2], changed, first[3]]) == tied(0, 2, 1, 3)
    # Every account moved, as it is.
    assert ranked([first[3], changed, first[2], first[0]]) == tied(3, 1, 2, 0)
    by_key = list(LinkedAccount.objects.order_by("pk").values_list("company_name", "position"))
    assert by_key == [("Biller 0", 3), ("Biller 1", 1), ("Biller 2", 2), ("Biller 3", 0)]


def test_it_links_a_suggestion_to_a_matching_action_only():
    dashboard = dashboard_of(atomic_json("accounts/messy"), today=TODAY)
    by_category = {s.suggestion.category: s for s in dashboard.suggestions}
    assert by_category["cancel-plan"].action["id"] == "act-new-shape"
    assert by_category["telepathic-savings"].action is None
    assert by_category["telepathic-savings"].category_label == "telepathic-savings"
    assert by_category["cancel-plan"].category_label == "Cancel plan"


def test_it_summarises_the_seed_hulu_example_honestly():
    # Atomic's example pauses the plan from Nov 20 to Dec 20 2024: before then it bills.
    dashboard = dashboard_of(atomic_json("accounts/hulu"), today=date(2024, 11, 15))
    (bill,) = dashboard.bills
    assert bill.state == BillState.SOON
    assert bill.bill.autopay is True
    assert bill.bill.payment_method == "Mastercard"
    assert bill.note == "Pauses on Nov 20"
    assert dashboard.summary.due_soon_total == Decimal("20.46")
    assert dashboard.summary.monthly_spend == Decimal("20.46")
    # $10 or $5 off a $20.46 bill: up to $10, not $15.
    assert dashboard.summary.monthly_savings == Decimal(10)
    (card,) = dashboard.cards
    assert [h.amount for h in card.history] == [Decimal("19.38"), Decimal("20.7")]


def test_the_seed_hulu_example_while_paused_is_not_due():
    dashboard = dashboard_of(atomic_json("accounts/hulu"), today=date(2024, 12, 1))
    (bill,) = dashboard.bills
    assert bill.state == BillState.PAUSED
    assert bill.note == "Paused until Dec 20"
    assert dashboard.summary.due_soon_total == 0 and dashboard.summary.overdue_count == 0
    assert dashboard.summary.monthly_spend == 0


def test_it_keeps_only_the_last_six_payments_in_date_order():
    account = biller(1, amount=1, due=None)
    account["account"]["billing"]["history"] = [
        {"date": f"2026-{month:02d}-01T00:00:00Z", "amount": month} for month in range(10, 0, -1)
    ]
    (card,) = dashboard_of({"accounts": [account]}, today=TODAY).cards
    assert [h.amount for h in card.history] == [Decimal(m) for m in range(5, 11)]


def test_it_handles_two_hundred_accounts():
    payload = {"accounts": [biller(i, amount=1, due="2026-11-30") for i in range(200)]}
    dashboard = dashboard_of(payload, today=TODAY)
    assert dashboard.summary.connected == 200
    assert dashboard.summary.due_soon_total == Decimal(200)
    assert len({c.dom_id for c in dashboard.cards}) == 200


def test_it_gives_unsafe_account_ids_a_safe_dom_id():
    account = biller(1, amount=1, due=None)
    account["_id"] = '"><script>'
    (card,) = dashboard_of({"accounts": [account]}, today=TODAY).cards
    assert card.dom_id.startswith("account-h") and card.dom_id.replace("-", "").isalnum()


def varied_payload() -> dict:
    """Accounts of every shape the fixtures hold, with dates, amounts and savings that tie."""
    accounts = [
        biller(i, amount=i % 4 or None, due=f"2026-11-{10 + i % 9:02d}", savings=[i % 3, 2])
        for i in range(23)
    ]
    accounts += [biller(99, amount=5, due=None, cycle="weekly")]
    accounts += atomic_json("accounts/messy")["accounts"] + atomic_json("accounts/hulu")["accounts"]
    accounts.insert(5, "not an account")
    return {"accounts": accounts}


def test_its_pages_put_together_are_the_whole_dashboard():
    from tests.paylink.read_model import stored

    snapshot = stored(varied_payload())
    whole = dashboard_of(snapshot, today=TODAY)
    assert len(whole.cards) == whole.summary.connected > 3 * CARDS_PER_PAGE

    def pages_of(name: str, size: int) -> list:
        count = -(-getattr(whole, name).paginator.count // size)
        return [
            (type(row).__name__, getattr(row, "dom_id", None), str(row)[:0])
            for number in range(1, count + 1)
            for row in getattr(
                dashboard_of(snapshot, today=TODAY, pages=Pages(**{name: number})), name
            )
        ]

    def rows(name: str) -> list:
        return [
            (type(row).__name__, getattr(row, "dom_id", None), "") for row in getattr(whole, name)
        ]

    assert pages_of("bills", BILLS_PER_PAGE) == rows("bills")
    assert pages_of("suggestions", SUGGESTIONS_PER_PAGE) == rows("suggestions")
    assert pages_of("cards", CARDS_PER_PAGE) == rows("cards")
    assert dashboard_of(snapshot, today=TODAY, pages=Pages()).summary == whole.summary


def test_the_rows_agree_with_the_full_parse():
    payload = varied_payload()
    accounts = accounts_parse(payload)
    whole = dashboard_of(payload, today=TODAY)
    # A card reads its account from its row, without what other rows hold (suggestions, the
    # payment method) and with the latest six payments (these accounts have fewer).
    assert [c.account for c in whole.cards] == [
        replace(
            a,
            suggestions=(),
            billing=a.billing and replace(a.billing, payment_methods=()),
        )
        for a in accounts
    ]
    billed = [
        a
        for a in accounts
        if a.billing and (a.billing.amount is not None or a.billing.due_date is not None)
    ]
    assert sorted(b.bill.account.atomic_id for b in whole.bills) == sorted(a.id for a in billed)
    savings = [s.monthly_savings or 0 for a in accounts for s in a.suggestions]
    assert [r.suggestion.monthly_savings or 0 for r in whole.suggestions] == sorted(
        savings, reverse=True
    )


def test_a_page_knows_what_comes_after_it():
    payload = {"accounts": [biller(i, amount=1, due="2026-11-30", savings=[1]) for i in range(8)]}
    from tests.paylink.read_model import stored

    snapshot = stored(payload)
    first = dashboard_of(snapshot, today=TODAY, pages=Pages())
    assert len(first.cards) == CARDS_PER_PAGE and first.cards.paginator.count == 8
    assert first.cards.has_next() and not first.cards.has_previous()
    assert len(first.bills) == BILLS_PER_PAGE and len(first.suggestions) == SUGGESTIONS_PER_PAGE
    last = dashboard_of(snapshot, today=TODAY, pages=Pages(cards=99))
    assert last.cards.number == 2 and not last.cards.has_next() and last.cards.has_previous()
    assert len(last.cards) == 8 - CARDS_PER_PAGE


def test_an_empty_payload_has_empty_pages():
    dashboard = dashboard_of({}, today=TODAY, pages=Pages(3, 3, 3))
    assert not dashboard.bills and not dashboard.cards and not dashboard.suggestions
    assert dashboard.cards.number == 1 and not dashboard.cards.has_next()
