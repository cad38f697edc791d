"""Support sees which reminder emails went out, under Reminders in the admin, and may delete
one (so it is sent again) but never add or edit one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from reminders.models import ReminderDelivery, ReminderKind
from tests.paylink.conftest import staff_login_with_code


@pytest.fixture
def staff(db, client):
    admin = User.objects.create_superuser("sam", password="sam-pass-1234")
    return staff_login_with_code(client, admin)


@pytest.fixture
def delivery(alice_profile) -> ReminderDelivery:
    return ReminderDelivery.objects.create(
        profile=alice_profile,
        kind=ReminderKind.DUE,
        account_id="acc-hulu",
        due_date=date(2026, 12, 9),
        sent_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
    )


def test_the_deliveries_are_listed_under_reminders(staff, delivery):
    page = staff.get(reverse("admin:reminders_reminderdelivery_changelist"))
    assert page.status_code == 200
    assert "acc-hulu" in page.content.decode()
    assert reverse("admin:app_list", args=["reminders"]) == "/admin/reminders/"


def test_a_delivery_is_never_added_or_edited_by_hand(staff, delivery):
    assert staff.get(reverse("admin:reminders_reminderdelivery_add")).status_code == 403
    change = reverse("admin:reminders_reminderdelivery_change", args=[delivery.pk])
    staff.post(change, {"kind": "weekly", "account_id": "other"})
    delivery.refresh_from_db()
    assert (delivery.kind, delivery.account_id) == ("due", "acc-hulu")


def test_support_can_delete_a_delivery(staff, delivery):
    delete = reverse("admin:reminders_reminderdelivery_delete", args=[delivery.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 302
    assert not ReminderDelivery.objects.exists()
