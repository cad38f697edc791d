"""A person's due dates as an iCalendar file (RFC 5545) that calendar apps can subscribe to."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from paylink.models import AccountSnapshot, Profile
from paylink.selectors.due_dates import DueBill, bill_uid, due_dates_for_payload
from paylink.services.reminders import language_for_profile
from paylink.templatetags.paylink_dashboard import money

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


def calendar_feed_for(*, profile: Profile, snapshot: AccountSnapshot | None, today: date) -> bytes:
    """One all-day event per bill due today or later.

    DTSTAMP and LAST-MODIFIED are when the snapshot was last fetched and SEQUENCE its version,
    so a calendar app sees an event change when, and only when, the accounts changed.
    """
    stamp: datetime = (snapshot.fetched_at if snapshot else None) or timezone.now()
    sequence = snapshot.version if snapshot else 0
    domain = urlsplit(settings.PAYLINK_SITE_URL).hostname or "localhost"
    with translation.override(language_for_profile(profile=profile)):
        calendar = Calendar()
        calendar.add("prodid", "-//Billfold//Bills due//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", _("Bills due"))
        calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
        # Outlook reads this one; it is an extension property, so icalendar takes it as text.
        calendar.add("x-published-ttl", "PT6H")
        bills = due_dates_for_payload(payload=snapshot.payload if snapshot else {}).bills
        for bill in bills:
            if bill.due_day < today:
                continue
            event = Event()
            event.add(
                "uid", f"{bill_uid(profile_identifier=profile.identifier, bill=bill)}@{domain}"
            )
            event.add("dtstamp", stamp)
            event.add("last-modified", stamp)
            event.add("sequence", sequence)
            event.add("dtstart", bill.due_day)
            event.add("dtend", bill.due_day + timedelta(days=1))
            event.add("summary", _summary(bill))
            event.add("description", _description(bill))
            # A due date is a note, not a meeting: it must not mark the day as busy.
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()
