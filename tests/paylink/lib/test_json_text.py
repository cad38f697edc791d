"""The payload and the cards as JSON text: PostgreSQL's `json`, read back as the same values."""

from __future__ import annotations

import pytest
from django.db import connection

from paylink.lib.json_text import JsonTextField
from paylink.models import AccountSnapshot, LinkedAccount
from paylink.services.account_rows import payload_encode
from paylink.services.accounts import accounts_store
from tests.atomic_json import atomic_json


def test_a_value_the_driver_read_already_is_the_value():
    field = JsonTextField()
    value = {"accounts": [{"_id": "a", "amount": 1.5}]}
    assert field.from_db_value(value, None, connection) is value
    assert field.from_db_value('{"a": [1]}', None, connection) == {"a": [1]}
    assert field.from_db_value(None, None, connection) is None


@pytest.mark.django_db
def test_a_stored_payload_and_its_cards_read_back_as_stored(alice_profile):
    payload = atomic_json("accounts/apple_bills")
    accounts_store(profile=alice_profile, payload=payload)
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    assert snapshot.payload == payload
    assert AccountSnapshot.objects.values_list("payload", flat=True).get() == payload
    card = LinkedAccount.objects.order_by("position").values_list("card", flat=True).first()
    assert card["_id"] == payload["accounts"][0]["_id"]
    # Written by the ORM too (a dict, not the sync's text), and read back the same.
    AccountSnapshot.objects.filter(pk=snapshot.pk).update(payload={"accounts": [], "n": 1})
    snapshot.refresh_from_db()
    assert snapshot.payload == {"accounts": [], "n": 1}


@pytest.mark.django_db
def test_the_payload_and_the_cards_are_kept_as_json_text():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # `json`, the text as it came, not `jsonb`, a tree parsed from it.
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE (attrelid = 'paylink_accountsnapshot'::regclass AND attname = 'payload')"
                " OR (attrelid = 'paylink_linkedaccount'::regclass AND attname = 'card')"
            )
            assert dict(cursor.fetchall()) == {"payload": "json", "card": "json"}
        else:
            # What Django's JSONField makes on SQLite: text already.
            types = {}
            for table, column in (
                ("paylink_accountsnapshot", "payload"),
                ("paylink_linkedaccount", "card"),
            ):
                cursor.execute(
                    f"SELECT type FROM pragma_table_info('{table}') WHERE name = %s", [column]
                )
                (kind,) = cursor.fetchone()
                types[column] = kind.lower()
            assert types == {"payload": "text", "card": "text"}


@pytest.mark.django_db
def test_a_synced_payload_is_stored_as_the_canonical_text_its_digest_was_taken_of(
    alice_profile,
):
    payload = atomic_json("accounts/apple_bills")
    accounts_store(profile=alice_profile, payload=payload)
    encoded = payload_encode(payload)
    with connection.cursor() as cursor:
        cast = "::text" if connection.vendor == "postgresql" else ""
        cursor.execute(f"SELECT payload{cast}, payload_sha256 FROM paylink_accountsnapshot")
        assert cursor.fetchone() == (encoded.text, encoded.sha256)
