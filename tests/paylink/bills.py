"""Accounts payloads with bills on chosen days, and snapshots holding them, for reminder tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.contrib.auth.models import User

from paylink.models import AccountSnapshot
from paylink.services.profiles import profile_for_user
from reminders.models import ReminderPreferences
from reminders.services.preferences import reminder_preferences_for_profile

FULL_NUMBER = "8498390016491919"


def bill_account(
    *,
    account_id: str,
    biller: str,
    due: date,
    amount: float | None = 20.46,
    number: str = FULL_NUMBER,
    autopay: str = "enabled",
    savings: tuple[float, ...] = (),
) -> dict[str, Any]:
    billing: dict[str, Any] = {
        "accountNumber": number,
        "dueDate": f"{due.isoformat()}T23:59:59.000Z",
        "autopay": {"status": autopay, "cycle": "monthly"},
    }
    if amount is not None:
        billing["amount"] = amount
    return {
        "_id": account_id,
        "company": {"_id": f"company-{account_id}", "name": biller},
        "type": "paylink",
        "account": {
            "type": "subscription",
            "billing": billing,
            "suggestions": [
                {"monthlySavings": s, "category": "cancel-plan", "shortDescription": "Save"}
                for s in savings
            ],
        },
    }


def snapshot_with(
    user: User, *accounts: dict[str, Any], version: int = 1, fetched_at: datetime | None = None
) -> AccountSnapshot:
    snapshot, _ = AccountSnapshot.objects.update_or_create(
        profile=profile_for_user(user=user),
        defaults={
            "payload": {"accounts": list(accounts)},
            # Written by hand: the rows are built from it on the next read.
            "payload_sha256": "",
            "version": version,
            "fetched_at": fetched_at or datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        },
    )
    return snapshot


def preferences_of(user: User, **fields: Any) -> ReminderPreferences:
    preferences = reminder_preferences_for_profile(profile=profile_for_user(user=user))
    if fields:
        for name, value in fields.items():
            setattr(preferences, name, value)
        preferences.save()
    return preferences
