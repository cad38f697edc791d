"""The reminder models moved from `paylink` to `reminders` without moving a row: a database
migrated on the old layout keeps every preference and delivery, under the same tables, and the
permissions granted on them."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from reminders.models import ReminderDelivery, ReminderPreferences

# The last migration before the move, with the reminders app not yet applied.
MAIN = ("paylink", "0081_profile_reconcile_open_statistics")
BEFORE = [MAIN, ("reminders", None)]
SENT = datetime(2026, 12, 1, 9, tzinfo=UTC)
DIGEST = hashlib.sha256(b"t").hexdigest()  # the token's own: only it is kept


def test_the_models_keep_their_tables():
    assert ReminderPreferences._meta.db_table == "paylink_reminderpreferences"
    assert ReminderDelivery._meta.db_table == "paylink_reminderdelivery"


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_with_reminders_keeps_every_row_and_permission(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state([MAIN]).apps
    user = old.get_model("auth", "User").objects.create(username="alice")
    profile = old.get_model("paylink", "Profile").objects.create(user=user, identifier="hub_a")
    old.get_model("paylink", "ReminderPreferences").objects.create(
        profile=profile,
        days_before=5,
        email_reminders=True,
        calendar_token="t",
        calendar_token_sha256=DIGEST,
    )
    old.get_model("paylink", "ReminderDelivery").objects.create(
        profile=profile, kind="due", account_id="acc", due_date=date(2026, 12, 3), sent_at=SENT
    )
    granted = Permission.objects.get(
        content_type__app_label="paylink", codename="view_reminderdelivery"
    )
    user.user_permissions.add(granted.pk)

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    preferences = ReminderPreferences.objects.get()
    assert (preferences.profile.identifier, preferences.days_before) == ("hub_a", 5)
    assert (preferences.email_reminders, preferences.calendar_token_sha256) == (True, DIGEST)
    delivery = ReminderDelivery.objects.get()
    assert (delivery.kind, delivery.account_id, delivery.sent_at) == ("due", "acc", SENT)
    assert ContentType.objects.get_for_model(ReminderDelivery).pk == granted.content_type_id
    assert not ContentType.objects.filter(app_label="paylink", model__startswith="reminder")
    assert preferences.profile.user.has_perm("reminders.view_reminderdelivery")
