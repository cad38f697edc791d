"""The dashboard's SQL cost does not grow with the number of accounts."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.run import user_with_accounts
from tests.paylink.read_model import cold_page


def dashboard_queries(username: str, count: int) -> tuple[int, str]:
    # The same users `make bench` measures, so the bound and the benchmark speak of one thing.
    user, _ = user_with_accounts(username, count)
    return cold_page(user)


def payload_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"payload"' in q["sql"]]


@pytest.mark.django_db
def test_fifty_accounts_cost_the_same_queries_as_one():
    one, html_one = dashboard_queries("alice", 1)
    fifty, html_fifty = dashboard_queries("bob", 50)
    assert html_one.count('class="card account-card"') == 1
    assert html_fifty.count('class="card account-card"') == 6
    assert one == fifty
    # Sign-in (2), the snapshot (1), then the tiles, each list and the spending from the rows.
    assert fifty <= 16


@pytest.mark.django_db
def test_a_warm_dashboard_stays_within_three_queries_and_never_reads_the_payload(
    django_assert_max_num_queries,
):
    user, _ = user_with_accounts("alice", 50)
    client = Client()
    client.force_login(user)
    client.get("/")
    with django_assert_max_num_queries(3) as queries:
        assert client.get("/").status_code == 200
    assert payload_reads(queries) == []


@pytest.mark.django_db
def test_a_cold_dashboard_draws_its_cards_from_the_rows_and_never_reads_the_payload():
    user, _ = user_with_accounts("alice", 50)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="card account-card"') == 6
    # What only the payload held before: the plan, the billing items, the masked holder.
    assert "Family Hulu Account" in html
    assert "Gibabit internet" in html
    assert "t•••" in html
    assert payload_reads(queries) == []


@pytest.mark.django_db
def test_a_waiting_dashboard_poll_never_reads_the_payload():
    user, _ = user_with_accounts("alice", 50)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/dashboard/poll/?since=1&after=99999999999999", headers={"HX-Request": "true"}
        )
    assert 'id="dashboard-poll"' in response.content.decode()
    assert payload_reads(queries) == []


def account_reads_of(client: Client, url: str) -> int:
    """How many queries read the accounts' rows: a page drawn reads them, a cached one not."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    return len([q for q in queries.captured_queries if "paylink_linkedaccount" in q["sql"]])


@pytest.mark.django_db
def test_a_next_page_is_cached_once_drawn_but_not_a_page_past_any_list():
    user, _ = user_with_accounts("alice", 50)
    client = Client()
    client.force_login(user)
    assert account_reads_of(client, "/dashboard/accounts/?cards=2") > 0
    assert account_reads_of(client, "/dashboard/accounts/?cards=2") == 0
    # Page numbers come from the address bar: one past any list is drawn, never stored.
    assert account_reads_of(client, "/dashboard/accounts/?cards=201") > 0
    assert account_reads_of(client, "/dashboard/accounts/?cards=201") > 0


@pytest.mark.django_db
def test_an_unknown_filter_value_is_ignored_before_anything_is_drawn_or_cached():
    user, _ = user_with_accounts("alice", 5)
    client = Client()
    client.force_login(user)
    client.get("/")
    written = []
    real_set = cache.set
    with mock.patch(
        "django.core.cache.cache.set",
        side_effect=lambda key, *a, **k: written.append(key) or real_set(key, *a, **k),
    ):
        for query in (
            "type=made-up",
            "status=whatever",
            "sort=random",
            "type=%3Cb%3E&cards=%C2%B2",
        ):
            assert client.get(f"/?{query}").status_code == 200
    # Every one of them is the page without filters, already drawn and cached: nothing new.
    assert written == []
