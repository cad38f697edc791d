"""Signed one-click unsubscribe tokens: which person, which kind of email. No expiry, so a link in
an old email still works; the signature (SECRET_KEY, with its own salt) is what makes it theirs."""

from __future__ import annotations

from django.core import signing

from reminders.models import ReminderKind, ReminderPreferences

_SALT = "paylink.reminders.unsubscribe"


def unsubscribe_token_make(*, preferences: ReminderPreferences, kind: ReminderKind) -> str:
    return signing.dumps({"p": preferences.profile_id, "k": kind.value}, salt=_SALT)


def unsubscribe_token_read(*, token: str) -> tuple[ReminderPreferences, ReminderKind] | None:
    """The preferences and kind a token names; None for a bad signature or a gone person."""
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in ReminderKind.values:
        return None
    profile_id = data.get("p")
    if not isinstance(profile_id, int):
        return None
    preferences = ReminderPreferences.objects.filter(profile_id=profile_id).first()
    if preferences is None:
        return None
    return preferences, ReminderKind(data["k"])
