"""Changing a person's email: the new address is used only once a signed link sent to it is
confirmed, so nobody can point an account's password resets and reminders at an address they
do not read (or at someone else's)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

_SALT = "paylink.email-change"
# Long enough to find the mail the next day; short enough that an old link is worthless.
EMAIL_CHANGE_MAX_AGE_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class EmailChange:
    user_id: int
    old_email: str
    new_email: str


class EmailChangeInvalid(Exception):
    """The link is forged, expired, already used, or for another account."""


def email_change_token_make(*, user: User, new_email: str) -> str:
    # The current address is signed too: once the change is made (or another one), the link no
    # longer matches and cannot be used again.
    return signing.dumps(
        {"u": user.pk, "from": user.email, "to": new_email}, salt=_SALT, compress=True
    )


def email_change_read(*, token: str, user: User) -> EmailChange:
    """The change a link asks for, if it is still valid for this signed-in person."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=EMAIL_CHANGE_MAX_AGE_SECONDS)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise EmailChangeInvalid from error
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("from") != user.email:
        raise EmailChangeInvalid
    return EmailChange(user_id=user.pk, old_email=data["from"], new_email=str(data["to"]))


def email_change_request(*, user: User, new_email: str) -> None:
    """Mails a confirmation link to the new address (in the language now active).

    Raises what the mail backend raises (OSError, smtplib errors): nothing is changed then.
    """
    link = settings.PAYLINK_SITE_URL + reverse(
        "paylink:email-confirm", args=[email_change_token_make(user=user, new_email=new_email)]
    )
    context = {
        "name": user.first_name or user.get_username(),
        "link": link,
        "days": EMAIL_CHANGE_MAX_AGE_SECONDS // 86400,
    }
    message = EmailMultiAlternatives(
        subject=_("Confirm your new email address"),
        body=render_to_string("paylink/email/email_change.txt", context),
        to=[new_email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.send()


def email_change_confirm(*, change: EmailChange) -> User:
    """Makes the confirmed address the account's, unless it changed since the link was sent,
    and tells the old address, so a change its owner did not make does not go unnoticed."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=change.user_id)
        if user.email != change.old_email:
            raise EmailChangeInvalid
        user.email = change.new_email
        user.save(update_fields=["email"])
    if change.old_email:
        _old_address_tell(user=user, old_email=change.old_email)
    return user


def _old_address_tell(*, user: User, old_email: str) -> None:
    context = {
        "name": user.first_name or user.get_username(),
        "new_email": user.email,
        "reset_url": settings.PAYLINK_SITE_URL + reverse("password_reset"),
    }
    message = EmailMultiAlternatives(
        subject=_("Your email address was changed"),
        body=render_to_string("paylink/email/email_changed.txt", context),
        to=[old_email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        message.send()
    except (OSError, smtplib.SMTPException):
        # The change is made and confirmed by the new address; a notice that cannot go out
        # now must not undo it or fail the page.
        logger.exception("The notice of an email change could not be sent to the old address")
