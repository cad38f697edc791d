"""The snapshot's payload is its table's last column (migration 0008), and moving it there keeps
every stored payload.

On SQLite a column stored after the payload costs a walk over the payload's overflow pages
on every read, and a warm dashboard reads those small columns on every hit.
"""

from __future__ import annotations

import pytest
from django.db import connection

from paylink.models import AccountSnapshot, Profile
from tests.people import person_create

BEFORE = [("paylink", "0007_task_awaiting_confirmation")]
AFTER = [("paylink", "0008_accountsnapshot_payload_last")]
HULU = {"accounts": [{"_id": "hulu", "company": {"name": "Hulu"}}]}


def snapshot_columns() -> list[str]:
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(
            cursor, AccountSnapshot._meta.db_table
        )
    return [column.name for column in table]


@pytest.mark.django_db
def test_the_payload_is_the_snapshot_tables_last_column():
    # A column added later lands after the payload: move the payload back to the end in the
    # same migration, as 0008 and 0101 do on SQLite.
    columns = snapshot_columns()
    if connection.vendor == "sqlite":
        assert columns[-1] == "payload"
    else:
        # PostgreSQL keeps a large payload out of line: the totals (0101) were added after it
        # without rewriting every payload; every column before them is as 0008 left it.
        assert columns[columns.index("payload") :] == ["payload", "totals"]


@pytest.mark.django_db(transaction=True)
def test_moving_the_payload_keeps_each_snapshots_payload_and_fields(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="alice")
    profile = old.get_model("paylink", "Profile").objects.create(user=user, identifier="hub_a")
    old.get_model("paylink", "AccountSnapshot").objects.create(
        profile=profile, payload=HULU, payload_sha256="a" * 64, version=7, last_error="timeout"
    )

    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps
    snapshot = new.get_model("paylink", "AccountSnapshot").objects.get()
    assert (snapshot.payload, snapshot.payload_sha256, snapshot.version, snapshot.last_error) == (
        HULU,
        "a" * 64,
        7,
        "timeout",
    )
    assert snapshot_columns()[-1] == "payload"


@pytest.mark.django_db(transaction=True)
def test_moving_it_back_keeps_the_payload_too(executor):
    profile = Profile.objects.create(user=person_create("alice"))
    AccountSnapshot.objects.create(profile=profile, payload=HULU)

    executor.migrate(BEFORE)

    old = executor.loader.project_state(BEFORE).apps
    assert old.get_model("paylink", "AccountSnapshot").objects.get().payload == HULU
