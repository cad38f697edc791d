"""Bills a person can sort through: filters by type and status, bills by date or amount, and
what was paid each month per account type."""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from paylink.models import AccountSnapshot
from paylink.selectors.dashboard import BillSort, Filters, Pages, filters_from_query, page_number
from paylink.services.profiles import profile_for_user
from tests.atomic_json import atomic_json
from tests.paylink.read_model import dashboard_of

TODAY = date(2026, 11, 21)
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
pytestmark = pytest.mark.django_db


def account(
    name: str,
    *,
    type: str,
    amount: object,
    due: date | None,
    history: tuple[tuple[str, float], ...] = (),
    savings: tuple[int, ...] = (),
) -> dict:
    raw = copy.deepcopy(atomic_json("accounts/hulu")["accounts"][0])
    raw["_id"] = f"acct-{name.lower()}"
    raw["company"]["name"] = name
    raw["account"]["type"] = type
    billing = raw["account"]["billing"]
    billing["amount"] = amount
    billing["dueDate"] = f"{due.isoformat()}T12:00:00.000Z" if due else None
    billing["history"] = [{"date": when, "amount": paid} for when, paid in history]
    raw["account"]["suggestions"] = [
        {"monthlySavings": s, "category": "cancel-plan", "shortDescription": f"Drop {name} {s}"}
        for s in savings
    ]
    return raw


def household(today: date) -> dict:
    """Four accounts of three types: one overdue, one due in three days, two later."""
    return {
        "accounts": [
            account(
                "Netflix",
                type="subscription",
                amount=15.49,
                due=today + timedelta(days=20),
                history=(("2026-09-03T10:00:00Z", 15.49), ("2026-10-03T10:00:00Z", 15.49)),
                savings=(5,),
            ),
            account(
                "Verizon",
                type="telecom",
                amount=1200,
                due=today - timedelta(days=2),
                history=(("2026-09-10T10:00:00Z", 80), ("2026-10-10T10:00:00Z", 95.5)),
                savings=(12,),
            ),
            account(
                "Hulu",
                type="subscription",
                amount=20.46,
                due=today + timedelta(days=3),
                history=(("2026-07-20T10:00:00Z", 20.46), ("2026-10-20T10:00:00Z", 20.46)),
            ),
            account("Geico", type="policy", amount=None, due=None),
        ]
    }


def names(rows) -> list[str]:
    """The company of each bill, card or way to save, in order."""
    found = []
    for row in rows:
        if hasattr(row, "bill"):
            found.append(row.bill.company_name)
        elif hasattr(row, "row"):
            found.append(row.row.company_name)
        else:
            found.append(row.company_name)
    return found


def dashboard_for_payload(*, payload, today, pages=None, filters=None):
    return dashboard_of(payload, today=today, pages=pages, filters=filters)


def spending_of(payload: dict):
    return dashboard_of(payload, today=TODAY).spending


# --- The selector ---------------------------------------------------------------------------


def test_a_type_filter_keeps_that_type_in_every_list_tile_and_the_spending():
    dashboard = dashboard_for_payload(
        payload=household(TODAY), today=TODAY, filters=Filters(type="subscription")
    )
    assert names(dashboard.bills) == ["Hulu", "Netflix"]
    assert names(dashboard.cards) == ["Netflix", "Hulu"]
    assert names(dashboard.suggestions) == ["Netflix"]
    summary = dashboard.summary
    assert (summary.connected, summary.accounts_total, summary.filtered) == (2, 4, True)
    # Verizon's $1,200 overdue and its $12 saving are not subscriptions.
    assert summary.overdue_count == 0
    assert summary.due_soon_total == Decimal("35.95")
    assert summary.monthly_spend == Decimal("35.95")
    assert summary.monthly_savings == Decimal(5)
    assert dashboard.spending.types == ("subscription",)
    assert dashboard.types == ("policy", "subscription", "telecom")


def test_a_status_filter_narrows_the_tiles_too():
    summary = dashboard_for_payload(
        payload=household(TODAY), today=TODAY, filters=Filters(status="overdue")
    ).summary
    assert (summary.connected, summary.overdue_total, summary.due_soon_total) == (
        1,
        Decimal(1200),
        0,
    )


def test_a_status_filter_keeps_the_accounts_whose_bill_is_in_that_state():
    def shown(status: str) -> list[str]:
        filters = Filters(status=status)
        return names(
            dashboard_for_payload(payload=household(TODAY), today=TODAY, filters=filters).cards
        )

    assert shown("overdue") == ["Verizon"]
    assert shown("soon") == ["Hulu"]
    assert shown("later") == ["Netflix"]
    assert shown("unknown") == ["Geico"]


def test_type_and_status_together_must_both_match():
    filters = Filters(type="subscription", status="overdue")
    dashboard = dashboard_for_payload(payload=household(TODAY), today=TODAY, filters=filters)
    assert not dashboard.cards and not dashboard.bills


def test_bills_sort_by_amount_highest_first_with_no_amount_last():
    filters = Filters(sort=BillSort.AMOUNT)
    dashboard = dashboard_for_payload(payload=household(TODAY), today=TODAY, filters=filters)
    assert [row.bill.amount for row in dashboard.bills] == [
        Decimal("1200"),
        Decimal("20.46"),
        Decimal("15.49"),
    ]
    by_date = dashboard_for_payload(payload=household(TODAY), today=TODAY)
    assert names(by_date.bills) == ["Verizon", "Hulu", "Netflix"]


def test_filtered_pages_count_only_what_matches():
    payload = {
        "accounts": [
            account(f"Sub {n}", type="subscription", amount=n, due=TODAY) for n in range(1, 9)
        ]
        + [account(f"Loan {n}", type="loan", amount=n, due=TODAY) for n in range(1, 4)]
    }
    dashboard = dashboard_for_payload(
        payload=payload, today=TODAY, pages=Pages(cards=2), filters=Filters(type="subscription")
    )
    assert dashboard.cards.paginator.count == 8
    assert names(dashboard.cards) == ["Sub 7", "Sub 8"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "Subscription", "status": "soon", "sort": "amount"}, "subscription|soon|amount"),
        ({"type": "<script>", "status": "paid", "sort": "random"}, "||date"),
        ({"type": "x" * 40, "status": "", "sort": ""}, "||date"),
        # A well-formed type the person has no account of is not a choice either.
        ({"type": "loan", "status": "paused", "sort": ""}, "|paused|date"),
    ],
)
def test_the_address_bar_cannot_ask_for_anything_but_known_choices(query, expected):
    assert filters_from_query(**query, types=("subscription", "telecom")).key == expected


@pytest.mark.parametrize(
    ("value", "number"), [("3", 3), ("", 1), ("0", 1), ("²", 1), ("③", 1), ("٣", 1), ("9" * 40, 1)]
)
def test_page_numbers_are_ascii_digits_only(value, number):
    assert page_number(value) == number


def test_the_choices_carry_over_to_the_page_links():
    assert Filters().query == ""
    assert Filters(type="credit-card", sort=BillSort.AMOUNT).query == (
        "&type=credit-card&sort=amount"
    )


def test_spending_totals_each_type_per_month_with_empty_months_as_zero():
    spending = spending_of(household(TODAY))
    assert spending.types == ("subscription", "telecom")
    assert [m.month for m in spending.months] == [
        date(2026, 7, 1),
        date(2026, 8, 1),
        date(2026, 9, 1),
        date(2026, 10, 1),
    ]
    by_month = {m.month: (m.by_type, m.total) for m in spending.months}
    assert by_month[date(2026, 8, 1)] == ((0, 0), 0)
    assert by_month[date(2026, 10, 1)] == (
        (Decimal("35.95"), Decimal("95.5")),
        Decimal("131.45"),
    )
    assert spending.type_totals == (Decimal("71.90"), Decimal("175.5"))
    assert spending.total == Decimal("247.40")


def test_spending_keeps_the_last_twelve_months():
    history = tuple(
        (f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}-15T12:00:00Z", 10) for m in range(1, 25)
    )
    payload = {
        "accounts": [account("Gym", type="subscription", amount=10, due=None, history=history)]
    }
    spending = spending_of(payload)
    assert len(spending.months) == 12
    assert spending.months[0].month == date(2025, 1, 1)
    assert spending.months[-1].month == date(2025, 12, 1)


def test_spending_counts_a_payment_in_the_month_of_the_local_time_zone(settings):
    settings.TIME_ZONE = "America/Mexico_City"
    payload = {
        "accounts": [
            account(
                "Gym",
                type="subscription",
                amount=10,
                due=None,
                history=(("2026-11-01T03:00:00Z", 10),),
            )
        ]
    }
    with timezone.override("America/Mexico_City"):
        spending = spending_of(payload)
    assert [m.month for m in spending.months] == [date(2026, 10, 1)]


def test_no_history_means_no_spending():
    payload = {"accounts": [account("Gym", type="subscription", amount=10, due=None)]}
    assert spending_of(payload).months == ()


# --- The page -------------------------------------------------------------------------------


def snapshot_for(user: User, payload: dict) -> AccountSnapshot:
    return AccountSnapshot.objects.create(
        profile=profile_for_user(user=user), payload=payload, version=1, fetched_at=timezone.now()
    )


def bill_names(html: str) -> list[str]:
    return re.findall(r'<tr class="bill [^"]*">\s*<th scope="row"><a [^>]*>([^<]+)</a>', html)


@pytest.fixture
def alices_household(alice):
    return snapshot_for(alice, household(timezone.localdate()))


def test_the_filters_are_a_get_form_that_works_without_javascript(alice_client, alices_household):
    html = alice_client.get("/?type=subscription&sort=amount").content.decode()
    assert '<form method="get" action="/" class="dash-filters__form"' in html
    # htmx enhances the same form: the body is swapped and the address follows the choice.
    assert 'hx-get="/" hx-target="#dashboard-body" hx-swap="outerHTML" hx-push-url="true"' in html
    assert '<option value="subscription" selected>Subscription</option>' in html
    assert '<option value="amount" selected>' in html
    assert bill_names(html) == ["Hulu", "Netflix"]
    assert "Bills sorted by amount, highest first" in html
    assert "2 accounts match." in html
    assert html.count('class="card account-card"') == 2


def test_htmx_gets_only_the_body_for_the_form_and_the_page_says_so_in_vary(
    alice_client, alices_household
):
    response = alice_client.get(
        "/?status=overdue", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-body"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in html
    assert bill_names(html) == ["Verizon"]
    assert "HX-Target" in response["Vary"]
    full = alice_client.get("/?status=overdue").content.decode()
    assert "<html" in full


def test_show_more_keeps_the_filters(alice, alice_client):
    payload = {
        "accounts": [
            account(f"Sub {n:02d}", type="subscription", amount=n, due=None) for n in range(1, 10)
        ]
        + [account("Loan", type="loan", amount=5, due=None)]
    }
    snapshot_for(alice, payload)
    html = alice_client.get("/?type=subscription").content.decode()
    assert 'href="/?cards=2&amp;type=subscription#accounts-title"' in html
    assert 'hx-get="/dashboard/accounts/?cards=2&amp;type=subscription"' in html
    more = alice_client.get(
        "/dashboard/accounts/?cards=2&type=subscription", headers={"HX-Request": "true"}
    ).content.decode()
    assert more.count('class="card account-card"') == 3
    assert "Loan" not in more


def test_a_filter_that_matches_nothing_says_so(alice_client, alices_household):
    html = alice_client.get("/?type=policy&status=overdue").content.decode()
    assert "No bill matches these filters." in html
    assert "No account matches these filters." in html
    assert 'href="/">Show everything</a>' in html


def test_a_filtered_page_is_not_served_from_the_unfiltered_cache(alice_client, alices_household):
    assert len(bill_names(alice_client.get("/").content.decode())) == 3
    assert bill_names(alice_client.get("/?type=telecom").content.decode()) == ["Verizon"]
    assert len(bill_names(alice_client.get("/").content.decode())) == 3


def test_unknown_choices_in_the_address_show_everything(alice_client, alices_household):
    response = alice_client.get("/?type=%3Cb%3E&status=paid&sort=random")
    assert response.status_code == 200
    assert len(bill_names(response.content.decode())) == 3


def test_bob_filtering_sees_only_his_own_accounts(alice, bob, alices_household):
    snapshot_for(bob, {"accounts": [account("Bobs Gym", type="subscription", amount=9, due=None)]})
    client = Client()
    client.force_login(bob)
    html = client.get("/?type=subscription").content.decode()
    assert "Bobs Gym" in html
    assert "Netflix" not in html and "Verizon" not in html
    assert "telecom" not in html  # alice's types are not offered either


def test_spending_by_month_is_a_table_with_a_described_chart(alice_client, alices_household):
    html = alice_client.get("/").content.decode()
    assert '<h2 id="spending-title">Spending by month</h2>' in html
    assert re.search(
        r'<svg class="spending-chart"[^>]*role="img"[^>]*aria-labelledby="spending-chart-t spending-chart-d"',
        html,
    )
    assert '<title id="spending-chart-t">Spending trend</title>' in html
    assert "the most in October 2026 ($131.45)" in html
    # Each cell names its column (data-label), for the rows stacked on phones.
    assert (
        '<th scope="row">October 2026</th><td class="num" data-label="Subscription">$35.95</td>'
        '<td class="num" data-label="Phone and internet">$95.50</td>'
        '<td class="num" data-label="Total">$131.45</td>' in html
    )
    assert '<th scope="col" class="num">Phone and internet</th>' in html
    # The filters narrow the spending as they narrow the lists, and the page says so.
    filtered = alice_client.get("/?type=telecom").content.decode()
    assert "$131.45" not in filtered
    assert (
        '<th scope="row">October 2026</th><td class="num" data-label="Phone and internet">$95.50</td>'
        in filtered
    )
    assert "cover only the accounts that match the filters" in filtered


def test_spending_by_month_in_spanish(alice_client, alices_household):
    html = alice_client.get("/", **SPANISH).content.decode()
    assert '<h2 id="spending-title">Gasto por mes</h2>' in html
    assert '<th scope="row">octubre de 2026</th>' in html
    assert '<td class="num" data-label="Suscripción">' in html
    assert "131,45\xa0US$" in html
    assert '<label for="filter-type">Tipo de cuenta</label>' in html
    assert ">Suscripción</option>" in html


def test_on_a_phone_each_bill_cell_is_labelled_with_its_column_in_the_persons_language(
    alice_client, alices_household
):
    """Under 600 px the table's head is hidden and each cell shows its data-label instead."""
    for headers, labels in (
        ({}, ("Amount", "Due", "Autopay", "Paid with")),
        (SPANISH, ("Monto", "Vence", "Pago automático", "Pagado con")),
    ):
        html = alice_client.get("/", **headers).content.decode()
        rows = re.findall(r'<tr class="bill bill--.*?</tr>', html, re.S)
        assert rows
        for row in rows:
            assert re.findall(r'<td[^>]* data-label="([^"]*)"', row) == list(labels)
