"""What the dashboard asks PostgreSQL for, where it asks differently than SQLite."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from bench.run import accounts_payload
from paylink.selectors.dashboard import DashboardReader, Filters
from tests.paylink.read_model import stored

pytestmark = pytest.mark.django_db


def test_the_ways_to_save_are_read_by_their_own_snapshot_on_postgresql() -> None:
    # Told only the accounts' snapshot, PostgreSQL reads every person's suggestions to join
    # them to alice's accounts; with their own snapshot, only hers from its index.
    stored(accounts_payload(2), username="bob")
    snapshot = stored(accounts_payload(3), username="alice")
    reader = DashboardReader(snapshot=snapshot, filters=Filters(), today=date(2026, 11, 21))
    with (
        mock.patch.object(connections["default"], "vendor", "postgresql"),
        CaptureQueriesContext(connection) as queries,
    ):
        page = reader.suggestions_page(1)
    assert {row.company_name for row in page} <= {"Biller 0", "Biller 1", "Biller 2"}
    ranked = next(q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"])
    assert f'"U0"."snapshot_id" = {snapshot.pk}' in ranked
