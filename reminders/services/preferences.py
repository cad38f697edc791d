"""A person's reminder choices and their calendar feed's secret."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from paylink.models import Profile
from reminders.models import (
    ReminderKind,
    ReminderPreferences,
    calendar_token_digest,
    calendar_token_new,
)


def reminder_preferences_for_profile(*, profile: Profile) -> ReminderPreferences:
    """The profile's preferences, created with the defaults (and no feed link) on first need."""
    existing = ReminderPreferences.objects.filter(profile=profile).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ReminderPreferences.objects.create(profile=profile)
    except IntegrityError:
        # Another request created them between the read and the write.
        return ReminderPreferences.objects.get(profile=profile)


def reminder_preferences_update(
    *,
    preferences: ReminderPreferences,
    days_before: int,
    email_reminders: bool,
    weekly_summary: bool,
) -> ReminderPreferences:
    preferences.days_before = days_before
    preferences.email_reminders = email_reminders
    preferences.weekly_summary = weekly_summary
    preferences.full_clean(exclude=["profile"])
    preferences.save(
        update_fields=["days_before", "email_reminders", "weekly_summary", "updated_at"]
    )
    return preferences


def calendar_token_rotate(*, preferences: ReminderPreferences) -> str:
    """A new feed secret, handed back to be shown to its person once: only its digest is kept,
    so it cannot be read back later. The old URL, if any, stops working at once."""
    token = calendar_token_new()
    preferences.calendar_token_sha256 = calendar_token_digest(token)
    preferences.save(update_fields=["calendar_token_sha256", "updated_at"])
    return token


def reminders_unsubscribe(*, preferences: ReminderPreferences, kind: ReminderKind) -> bool:
    """Turns one kind of email off; True when it was on."""
    field = "email_reminders" if kind is ReminderKind.DUE else "weekly_summary"
    was_on = getattr(preferences, field)
    if was_on:
        setattr(preferences, field, False)
        preferences.save(update_fields=[field, "updated_at"])
    return was_on
