"""A person's due dates as an iCalendar file (RFC 5545) that calendar apps can subscribe to."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from paylink.formatting import money, time_zone_for
from paylink.models import AccountSnapshot, Profile, ReminderPreferences
from paylink.selectors.due_dates import DueBill, bill_uid, due_dates_for_snapshot
from paylink.services.reminders import language_for_profile

# How many months ahead a paused monthly bill's skipped dates are listed (EXDATE).
_EXDATE_MONTHS = 24

# How often subscribed calendars are asked to look again (apps may poll less often); the
# X-PUBLISHED-TTL below says the same to Outlook.
REFRESH_INTERVAL = timedelta(hours=6)


def _summary(bill: DueBill) -> str:
    if bill.amount is None:
        return _("%(biller)s bill due") % {"biller": bill.biller}
    return _("%(biller)s bill: %(amount)s") % {"biller": bill.biller, "amount": money(bill.amount)}


def _description(bill: DueBill) -> str:
    lines = []
    if bill.account_last_four:
        lines.append(_("Account ending %(last_four)s.") % {"last_four": bill.account_last_four})
    if bill.autopay is True:
        lines.append(_("Autopay is on."))
    elif bill.autopay is False:
        lines.append(_("Autopay is off."))
    lines.append(settings.PAYLINK_SITE_URL + "/")
    return "\n".join(lines)


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _first_on_or_after(bill: DueBill, today: date) -> date:
    """Where the bill's series starts: its due date, or for a monthly bill whose date has
    passed, its next date from today on (a past date is the dashboard's overdue bill)."""
    day, months = bill.due_day, 0
    while bill.recurs_monthly and day < today and months <= _EXDATE_MONTHS:
        months += 1
        day = _months_later(bill.due_day, months)
    return day


def _recurrence(event: Event, bill: DueBill) -> None:
    """A monthly bill recurs on its day each month; the months its plan is paused are left
    out, and a cancellation ends the series."""
    if not bill.recurs_monthly:
        return
    rule: dict[str, object] = {"freq": "monthly"}
    skipped = []
    for months in range(1, _EXDATE_MONTHS + 1):
        day = _months_later(bill.due_day, months)
        if not bill.expected_on(day):
            if bill.inactive_kind == "cancelled":
                rule["until"] = _months_later(bill.due_day, months - 1)
                break
            skipped.append(day)
    event.add("rrule", rule)
    if skipped:
        event.add("exdate", skipped)


def _alarm(event: Event, bill: DueBill, days_before: int) -> None:
    """An alarm at the person's reminder lead time (on the day itself for 0)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _summary(bill))
    alarm.add("trigger", timedelta(days=-days_before) if days_before else timedelta(0))
    event.add_component(alarm)


def calendar_feed_for(
    *,
    profile: Profile,
    snapshot: AccountSnapshot | None,
    preferences: ReminderPreferences | None = None,
) -> bytes:
    """One all-day event per bill due today or later in the person's time zone, recurring
    monthly where the bill does, with an alarm at their reminder lead time.

    DTSTAMP and LAST-MODIFIED are when the snapshot was last fetched and SEQUENCE its version,
    so a calendar app sees an event change when, and only when, the accounts changed.
    """
    stamp: datetime = (snapshot.fetched_at if snapshot else None) or timezone.now()
    sequence = snapshot.version if snapshot else 0
    domain = urlsplit(settings.PAYLINK_SITE_URL).hostname or "localhost"
    days_before = preferences.days_before if preferences is not None else 3
    zone = time_zone_for(profile.time_zone) or timezone.get_default_timezone()
    with translation.override(language_for_profile(profile=profile)), timezone.override(zone):
        today = timezone.localdate()
        calendar_ = Calendar()
        calendar_.add("prodid", "-//Payments Hub//Bills due//EN")
        calendar_.add("version", "2.0")
        calendar_.add("calscale", "GREGORIAN")
        calendar_.add("x-wr-calname", _("Bills due"))
        calendar_.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        # Outlook reads this one; it is an extension property, so icalendar takes it as text.
        calendar_.add("x-published-ttl", "PT6H")
        bills = due_dates_for_snapshot(snapshot=snapshot, today=today).bills
        starts = sorted(
            ((_first_on_or_after(bill, today), bill) for bill in bills),
            key=lambda pair: (pair[0], pair[1].biller.lower(), pair[1].account_id),
        )
        for start, bill in starts:
            if start < today:
                continue
            event = Event()
            event.add(
                "uid", f"{bill_uid(profile_identifier=profile.identifier, bill=bill)}@{domain}"
            )
            event.add("dtstamp", stamp)
            event.add("last-modified", stamp)
            event.add("sequence", sequence)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(days=1))
            event.add("summary", _summary(bill))
            event.add("description", _description(bill))
            # A due date is a note, not a meeting: it must not mark the day as busy.
            event.add("transp", "TRANSPARENT")
            _recurrence(event, bill)
            _alarm(event, bill, days_before)
            calendar_.add_component(event)
    return calendar_.to_ical()
