from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from paylink.models import Profile


def profile_for_user(*, user: AbstractBaseUser) -> Profile:
    """The user's Profile, created with a fresh opaque identifier on first need."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def profile_language_set(*, user: AbstractBaseUser, language: str) -> Profile:
    """Remember the language the person chose; blank goes back to following their browser."""
    profile = profile_for_user(user=user)
    if profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    return profile
