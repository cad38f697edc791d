"""The tables are searched by index, as each query's plan shows: a person's webhook and SDK
events (data download, account deletion) and reconcile's selection of the people still open.

On PostgreSQL (CI's second run) the plan must name the index built for the search; tables
this small would be read whole, so sequential scans are priced out for the plan. On SQLite the
same assertions hold where SQLite picks the same index, and reconcile's selection must at least
be a search by an index rather than a scan of every profile.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import accounts_payload
from paylink.models import Profile, SdkEvent, WebhookEvent, WebhookState
from paylink.selectors.dashboard import DashboardReader, Filters
from paylink.services.reconcile import reconcile_open_profiles, reconcile_open_profiles_query
from tests.paylink.read_model import stored

pytestmark = pytest.mark.django_db


def plan(queryset: QuerySet[Any]) -> str:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
                cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def plan_of_sql(sql: str) -> str:
    """The plan of a query as it was sent (captured), as `plan` makes it."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())


def test_a_persons_webhook_events_are_found_by_their_identifier_index(alice_profile):
    for identifier in (alice_profile.identifier, "hub_someone_else"):
        WebhookEvent.objects.create(
            identifier=identifier, state=WebhookState.PROCESSED, body_sha256=identifier
        )
    download = (
        WebhookEvent.objects.filter(identifier=alice_profile.identifier)
        .exclude(state=WebhookState.REJECTED_SIGNATURE)
        .order_by("received_at")
    )
    deletion = WebhookEvent.objects.filter(identifier=alice_profile.identifier)

    assert "webhookevent_identifier" in plan(download)
    assert "webhookevent_identifier" in plan(deletion)


def test_a_persons_sdk_events_are_found_in_order_by_their_index(alice_profile, bob_profile):
    SdkEvent.objects.create(profile=alice_profile, kind="interaction", name="Viewed Login Page")
    SdkEvent.objects.create(profile=bob_profile, kind="close")

    assert "sdkevent_profile_created" in plan(alice_profile.sdk_events.order_by("created_at"))


def test_reconciles_selection_is_a_search_of_its_partial_index():
    now = timezone.now()
    for n in range(30):
        user = User.objects.create_user(f"settled{n}")
        Profile.objects.create(
            user=user,
            transact_opened_at=now - timedelta(days=2),
            tasks_listed_at=now - timedelta(days=1),
        )
    opened = Profile.objects.create(
        user=User.objects.create_user("opened"), transact_opened_at=now - timedelta(minutes=1)
    )
    Profile.objects.create(user=User.objects.create_user("never"))

    found = plan(reconcile_open_profiles_query())

    assert [p.pk for p in reconcile_open_profiles()] == [opened.pk]
    if connection.vendor == "postgresql":
        assert "profile_reconcile_open" in found
        # What lets the planner see how few are open (a partial index's own statistics are
        # not used for estimates): without it, a million people are read whole.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_statistic_ext WHERE stxname = 'profile_reconcile_open_stats'"
            )
            assert cursor.fetchone() is not None
    else:
        assert "SEARCH paylink_profile USING INDEX" in found
        assert "SCAN paylink_profile" not in found


def test_the_bills_lists_first_page_is_read_from_its_index_in_order():
    # Many bills share a due date: without the company and the id in the index, every one of
    # the person's bills is sorted for the first six.
    stored(accounts_payload(3), username="bob")
    snapshot = stored(accounts_payload(40), username="alice")
    reader = DashboardReader(snapshot=snapshot, filters=Filters(), today=date(2026, 11, 21))
    with CaptureQueriesContext(connection) as queries:
        page = reader.bills_page(1, count=40)
    ranked = next(q["sql"] for q in queries.captured_queries if "LIMIT 6" in q["sql"])

    found = plan_of_sql(ranked)

    assert [view.bill.company_name for view in page] == [
        f"Biller {n}" for n in (0, 1, 10, 11, 12, 13)
    ]
    assert "bill_list_order" in found
    if connection.vendor == "postgresql":
        assert 'Sort Key: "U0"' not in found
    else:
        assert "COVERING INDEX bill_list_order" in found


def test_the_ways_to_saves_first_page_is_read_from_their_index_in_order():
    # Every suggestion of the bench's saves the same: without the account's position stored
    # on each (and in the index), every one is joined to its account and sorted for three.
    stored(accounts_payload(3), username="bob")
    snapshot = stored(accounts_payload(40), username="alice")
    reader = DashboardReader(snapshot=snapshot, filters=Filters(), today=date(2026, 11, 21))
    with CaptureQueriesContext(connection) as queries:
        page = reader.suggestions_page(1)
    ranked = next(q["sql"] for q in queries.captured_queries if "LIMIT 3" in q["sql"])

    found = plan_of_sql(ranked)

    assert [(view.company_name, view.suggestion.position) for view in page] == [
        ("Biller 0", 0),
        ("Biller 1", 0),
        ("Biller 2", 0),
    ]
    # The ranking (the subquery) reads the suggestions alone, no account joined.
    assert "paylink_linkedaccount" not in ranked[ranked.index("IN (SELECT") : ranked.index("LIMIT")]
    assert "suggestion_rank" in found
    if connection.vendor == "postgresql":
        assert 'Sort Key: "U0"' not in found
    else:
        # Only the outer query sorts, the page's three rows.
        lines = [line.split(maxsplit=3) for line in found.splitlines()]
        subquery = next(line[0] for line in lines if line[3] == "LIST SUBQUERY 1")
        inner = [line[3] for line in lines if line[1] == subquery]
        assert inner == ["SEARCH U0 USING COVERING INDEX suggestion_rank (snapshot_id=?)"]
