"""Public tokens for Transact, issued by Atomic for the user's opaque identifier."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from paylink import client
from paylink.models import Profile
from paylink.services.profiles import profile_for_user


def access_token_issue(*, user: User) -> str:
    """A fresh publicToken for `user`, valid for PAYLINK_TOKEN_LIFETIME seconds.

    Only the opaque identifier leaves the host: never the username or email.
    Raises `client.AtomicError` when Atomic refuses or cannot be reached.
    """
    profile = profile_for_user(user=user)
    token = client.atomic_client().access_token_create(
        identifier=profile.identifier, token_lifetime=settings.PAYLINK_TOKEN_LIFETIME
    )
    # From now until the token lapses, tasks may start that only Atomic knows of.
    Profile.objects.filter(pk=profile.pk).update(transact_opened_at=timezone.now())
    return token
