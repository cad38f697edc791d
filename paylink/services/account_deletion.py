"""Deleting a person's account and everything the host holds about them."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from paylink import client
from paylink.models import Profile, WebhookEvent
from paylink.services.accounts import monitoring_end

logger = logging.getLogger(__name__)


# Atomic refusing end-monitoring for these reasons is about our credentials or its load, not
# about this person: deleting anyway could leave someone monitored that the host forgot.
_END_MONITORING_MUST_SUCCEED = frozenset({401, 403, 429})


def account_delete(*, user: AbstractBaseUser) -> None:
    """End monitoring at Atomic, then delete the user and all the host holds about them.

    Atomic first. If it cannot be told (a 5xx, a timeout, no answer, or a refusal of our
    credentials or for load: AtomicError, raised), nothing is deleted, so the person can try
    again. Any other 4xx (a PayLink-only user Atomic never monitored may get a 400 or 422, and
    an identifier it never heard of a 404) cannot change by asking again: it is recorded in the
    log and the deletion goes on, so Atomic cannot hold it hostage. The user's profile, tasks,
    accounts snapshot and SDK events go with the user (cascade); the webhook events that name
    their identifier are deleted by that identifier.
    """
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.monitoring_ended_at is None:
        try:
            monitoring_end(profile=profile)
        except client.AtomicError as exc:
            refused = exc.status is not None and 400 <= exc.status < 500
            if not refused or exc.retryable or exc.status in _END_MONITORING_MUST_SUCCEED:
                raise
            logger.warning(
                "end-monitoring for profile %s refused with %s (code %s); deleting anyway: %s",
                profile.pk,
                exc.status,
                exc.code,
                exc,
            )
    with transaction.atomic():
        if profile is not None:
            WebhookEvent.objects.filter(identifier=profile.identifier).delete()
        user_id = user.pk
        user.delete()
    logger.info("account of user %s deleted at their request", user_id)
