"""Reminder emails before due dates and the weekly summary, from the stored snapshots.

Nothing here calls Atomic. Each email is claimed by a `ReminderDelivery` row created in the
same transaction that sends it: a retry, a second run or a concurrent worker meets the unique
constraint and sends nothing, and a send that fails rolls the claim back so the next run tries
again. The transaction is held only for one email at a time.
"""

from __future__ import annotations

import email.policy
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from paylink import formatting
from paylink.formatting import money, time_zone_for
from paylink.models import Profile
from paylink.observability import metrics
from paylink.selectors.due_dates import (
    DueBill,
    DueDates,
    due_dates_for_snapshot,
    monthly_savings_for,
)
from reminders.models import ReminderDelivery, ReminderKind, ReminderPreferences
from reminders.unsubscribe_tokens import unsubscribe_token_make

logger = logging.getLogger(__name__)

WEEK_DAYS = 7


@dataclass
class ReminderRun:
    """What one run did: emails sent, already sent before (skipped), and failed (retried later)."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


class _SendFailed(Exception):
    pass


def language_for_profile(*, profile: Profile) -> str:
    """The person's language: their saved choice where the profile has one, else the site's."""
    return profile.language or settings.LANGUAGE_CODE


def _absolute(path: str) -> str:
    return settings.PAYLINK_SITE_URL + path


def _one_line(value: str) -> str:
    # A biller's name comes from Atomic; a line break in a subject would be refused by Django.
    return " ".join(value.split())


def _preferences_to_mail(**flag: bool) -> Any:
    return (
        ReminderPreferences.objects.filter(
            **flag, profile__user__is_active=True, profile__snapshot__isnull=False
        )
        .exclude(profile__user__email="")
        .select_related("profile__user", "profile__snapshot")
        # The payload is the record; reminders read the rows.
        .defer("profile__snapshot__payload")
        .order_by("pk")
    )


class _OneClickMessage(EmailMultiAlternatives):
    """A message whose List-Unsubscribe header is never MIME-encoded: RFC 8058 mail clients
    read it as a plain <URL>, and a signed URL is one word longer than the 78 characters after
    which the SMTP policy would encode it (RFC 5322 allows lines up to 998). The header is
    stored raw, and the policy told not to refold raw headers; every other header and the body
    are encoded as before."""

    def message(self, *, policy: email.policy.Policy | None = email.policy.default) -> Any:
        # Only an EmailPolicy knows `refold_source`; Django's default is one.
        chosen = policy if isinstance(policy, email.policy.EmailPolicy) else email.policy.default
        message = super().message(policy=chosen.clone(refold_source="none"))
        value = message["List-Unsubscribe"]
        if value is not None:
            del message["List-Unsubscribe"]
            message.set_raw("List-Unsubscribe", str(value))
        return message


def _message(
    *,
    preferences: ReminderPreferences,
    kind: ReminderKind,
    subject: str,
    template: str,
    context: dict[str, Any],
) -> EmailMultiAlternatives:
    """Plain text and HTML from one context, with RFC 8058 one-click unsubscribe headers."""
    user = preferences.profile.user
    unsubscribe_url = _absolute(
        reverse(
            "reminders:unsubscribe",
            args=[unsubscribe_token_make(preferences=preferences, kind=kind)],
        )
    )
    context = {
        **context,
        "name": user.first_name or user.get_username(),
        "dashboard_url": _absolute(reverse("paylink:dashboard")),
        "settings_url": _absolute(reverse("reminders:reminder-settings")),
        "unsubscribe_url": unsubscribe_url,
    }
    message = _OneClickMessage(
        subject=_one_line(subject),
        body=render_to_string(f"{template}.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _send_once(
    *,
    profile: Profile,
    kind: ReminderKind,
    account_id: str,
    due_date: date,
    now: datetime,
    message: EmailMultiAlternatives,
    run: ReminderRun,
) -> None:
    try:
        with transaction.atomic():
            ReminderDelivery.objects.create(
                profile=profile, kind=kind, account_id=account_id, due_date=due_date, sent_at=now
            )
            try:
                message.send()
            except OSError as exc:  # smtplib's errors are OSErrors too
                raise _SendFailed(str(exc)) from exc
    except IntegrityError:
        # Another run claimed this email first (and sent it, or is sending it now).
        run.skipped += 1
    except _SendFailed as exc:
        # The claim was rolled back with the transaction: the next run tries again.
        run.failed += 1
        metrics.reminder_email(kind=kind, outcome="failed")
        run.failures.append(f"profile {profile.pk} {kind} {due_date}: {exc}")
        logger.warning("reminder to profile %s not sent, will retry: %s", profile.pk, exc)
    else:
        run.sent += 1
        metrics.reminder_email(kind=kind, outcome="sent")


def _already_sent(*, profile: Profile, kind: ReminderKind, account_id: str, due: date) -> bool:
    # A cheap read that spares building the email; the unique constraint is the real guard.
    return ReminderDelivery.objects.filter(
        profile=profile, kind=kind, account_id=account_id, due_date=due
    ).exists()


def _due_subject(bill: DueBill) -> str:
    # Written as the dashboard and the feed write it: one format per language.
    day = formatting.day(bill.due_day)
    if bill.amount is None:
        return _("Reminder: your %(biller)s bill is due on %(date)s") % {
            "biller": bill.biller,
            "date": day,
        }
    return _("Reminder: your %(biller)s bill of %(amount)s is due on %(date)s") % {
        "biller": bill.biller,
        "amount": money(bill.amount),
        "date": day,
    }


def _zone_of(profile: Profile) -> Any:
    return time_zone_for(profile.time_zone) or timezone.get_default_timezone()


def reminders_send(*, now: datetime) -> ReminderRun:
    """One email per bill due within each person's chosen number of days, once per due date.

    "Today" is the person's, in their time zone; a paused or cancelled plan is not reminded.
    """
    run = ReminderRun()
    for preferences in _preferences_to_mail(email_reminders=True).iterator(chunk_size=200):
        profile = preferences.profile
        with timezone.override(_zone_of(profile)):
            _reminders_for(profile=profile, preferences=preferences, now=now, run=run)
    return run


def _reminders_for(
    *, profile: Profile, preferences: ReminderPreferences, now: datetime, run: ReminderRun
) -> None:
    today = timezone.localtime(now).date()
    last_day = today + timedelta(days=preferences.days_before)
    for bill in due_dates_for_snapshot(snapshot=profile.snapshot, today=today).bills:
        # Not a bill that falls while its plan is paused or cancelled.
        if not today <= bill.due_day <= last_day or not bill.expected_on(bill.due_day):
            continue
        if _already_sent(
            profile=profile, kind=ReminderKind.DUE, account_id=bill.account_id, due=bill.due_day
        ):
            run.skipped += 1
            continue
        with translation.override(language_for_profile(profile=profile)):
            message = _message(
                preferences=preferences,
                kind=ReminderKind.DUE,
                subject=_due_subject(bill),
                template="reminders/email/due_reminder",
                context={"bill": bill, "days_left": (bill.due_day - today).days},
            )
        _send_once(
            profile=profile,
            kind=ReminderKind.DUE,
            account_id=bill.account_id,
            due_date=bill.due_day,
            now=now,
            message=message,
            run=run,
        )


@dataclass(frozen=True)
class WeekSummary:
    due_this_week: tuple[DueBill, ...]
    overdue: tuple[DueBill, ...]
    monthly_savings: Any

    @property
    def is_empty(self) -> bool:
        return not (self.due_this_week or self.overdue or self.monthly_savings > 0)


def week_summary_for(*, due_dates: DueDates, today: date, monthly_savings: Any) -> WeekSummary:
    return WeekSummary(
        due_this_week=tuple(
            b for b in due_dates.bills if today <= b.due_day < today + timedelta(days=WEEK_DAYS)
        ),
        overdue=tuple(b for b in due_dates.bills if b.due_day < today),
        monthly_savings=monthly_savings,
    )


def weekly_summary_send(*, now: datetime) -> ReminderRun:
    """One summary per person per week (Monday to Sunday): due in the next seven days, overdue,
    and the monthly savings the suggestions found. Nobody is mailed about nothing."""
    run = ReminderRun()
    for preferences in _preferences_to_mail(weekly_summary=True).iterator(chunk_size=200):
        profile = preferences.profile
        with timezone.override(_zone_of(profile)):
            _summary_for(profile=profile, preferences=preferences, now=now, run=run)
    return run


def _summary_for(
    *, profile: Profile, preferences: ReminderPreferences, now: datetime, run: ReminderRun
) -> None:
    today = timezone.localtime(now).date()
    week_start = today - timedelta(days=today.weekday())
    if _already_sent(profile=profile, kind=ReminderKind.WEEKLY, account_id="", due=week_start):
        run.skipped += 1
        return
    summary = week_summary_for(
        due_dates=due_dates_for_snapshot(snapshot=profile.snapshot, today=today),
        today=today,
        monthly_savings=monthly_savings_for(snapshot=profile.snapshot),
    )
    if summary.is_empty:
        return
    with translation.override(language_for_profile(profile=profile)):
        message = _message(
            preferences=preferences,
            kind=ReminderKind.WEEKLY,
            subject=_("Your bills this week"),
            template="reminders/email/weekly_summary",
            context={"summary": summary, "today": today},
        )
    _send_once(
        profile=profile,
        kind=ReminderKind.WEEKLY,
        account_id="",
        due_date=week_start,
        now=now,
        message=message,
        run=run,
    )
