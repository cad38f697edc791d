from __future__ import annotations

from django.contrib.auth.models import User

from paylink.models import Profile
from paylink.services.account_rows import rows_rezone


def profile_for_user(*, user: User) -> Profile:
    """The user's Profile, created with a fresh opaque identifier on first need."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def profile_language_set(*, user: User, language: str) -> Profile:
    """Remember the language the person chose; blank goes back to following their browser."""
    profile = profile_for_user(user=user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile


def profile_settings_update(
    *, user: User, first_name: str, last_name: str, language: str, time_zone: str
) -> Profile:
    """Saves what a person set on their account page or at sign-up: name, language, time zone.

    The language is validated by the form against LANGUAGES and the zone against zoneinfo's.
    """
    user_fields = {"first_name": first_name, "last_name": last_name}
    changed = [name for name, value in user_fields.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, user_fields[name])
    if changed:
        user.save(update_fields=changed)
    profile = profile_for_user(user=user)
    profile_fields = {"language": language, "time_zone": time_zone}
    changed = [name for name, value in profile_fields.items() if getattr(profile, name) != value]
    for name in changed:
        setattr(profile, name, profile_fields[name])
    if changed:
        profile.save(update_fields=changed)
    if "time_zone" in changed:
        # The rows' days (spending by month, the month view) are in the person's zone.
        rows_rezone(profile=profile)
    return profile
