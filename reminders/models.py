"""What a person asked to be told about their bills, and which reminder emails went out.

The tables keep the names they had in the `paylink` app (`paylink_reminderpreferences`,
`paylink_reminderdelivery`): the models moved here without moving a row.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

REMINDER_DAYS_MAX = 30


def calendar_token_new() -> str:
    """A calendar feed's secret: 256 random bits, safe in a URL path."""
    return secrets.token_urlsafe(32)


def calendar_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ReminderPreferences(models.Model):
    """What a person wants to be told about their bills, and the secret of their calendar feed.

    Reminders are opt-in: nobody gets mail they did not ask for. Only the SHA-256 of the feed's
    token is kept: the person is shown the token once, when it is made, and the feed is found
    by its digest, so neither the table nor the lookup reveals anything usable about it.
    """

    profile = models.OneToOneField(
        "paylink.Profile", on_delete=models.CASCADE, related_name="reminder_preferences"
    )
    days_before = models.PositiveSmallIntegerField(
        _("days before the due date"),
        default=3,
        validators=[MaxValueValidator(REMINDER_DAYS_MAX)],
        help_text=_("From 0 (on the day) to 30."),
    )
    email_reminders = models.BooleanField(_("email me before each due date"), default=False)
    weekly_summary = models.BooleanField(_("email me a weekly summary"), default=False)
    # NULL until the person first makes a feed link (unique, so "" cannot stand for none).
    calendar_token_sha256 = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "paylink_reminderpreferences"
        verbose_name_plural = "reminder preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(days_before__lte=REMINDER_DAYS_MAX),
                name="reminderpreferences_days_before_at_most_30",
            )
        ]

    def __str__(self) -> str:
        return f"Reminders of {self.profile.user}"


class ReminderKind(models.TextChoices):
    DUE = "due", _("Due-date reminder")
    WEEKLY = "weekly", _("Weekly summary")


class ReminderDelivery(models.Model):
    """One email claimed for one bill and due date (or one week): the guard against repeats.

    The row is created in the same transaction that sends the mail; a second run (a retry, or
    another worker at the same moment) hits the unique constraint and sends nothing.
    """

    profile = models.ForeignKey(
        "paylink.Profile", on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # Empty for a weekly summary, which is about all of a person's accounts.
    account_id = models.CharField("PayLink account id", max_length=64, blank=True)
    # The bill's due date, or the Monday of the summary's week.
    due_date = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        db_table = "paylink_reminderdelivery"
        verbose_name_plural = "reminder deliveries"
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "kind", "account_id", "due_date"],
                name="reminderdelivery_once_per_bill_and_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id} {self.due_date}"
