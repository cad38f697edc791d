"""Deleting a person's account and everything the host holds about them."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from paylink import client
from paylink.models import Profile, WebhookEvent
from paylink.services.accounts import monitoring_end

logger = logging.getLogger(__name__)


def account_delete(*, user: AbstractBaseUser) -> None:
    """End monitoring at Atomic, then delete the user and all the host holds about them.

    Atomic first: if it cannot be told (AtomicError, raised), nothing is deleted, so the person
    can try again and the host never forgets someone Atomic still monitors. An identifier Atomic
    never heard of (404) has nothing to end. The user's profile, tasks, accounts snapshot and
    SDK events go with the user (cascade); the webhook events that name their identifier are
    deleted by that identifier.
    """
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.monitoring_ended_at is None:
        try:
            monitoring_end(profile=profile)
        except client.AtomicError as exc:
            if exc.status != 404:
                raise
    with transaction.atomic():
        if profile is not None:
            WebhookEvent.objects.filter(identifier=profile.identifier).delete()
        user_id = user.pk
        user.delete()
    logger.info("account of user %s deleted at their request", user_id)
