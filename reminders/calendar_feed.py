"""A person's due dates as an iCalendar file (RFC 5545) that calendar apps can subscribe to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from paylink.bill_rules import days_in_month
from paylink.formatting import money, time_zone_for
from paylink.models import AccountSnapshot, Profile
from paylink.selectors.due_dates import DueBill, bill_uid, due_dates_for_snapshot
from reminders.models import ReminderPreferences
from reminders.page_cache import FEED_SECONDS, feed_key
from reminders.services.delivery import language_for_profile

# How many months ahead a paused monthly bill's skipped dates are listed (EXDATE).
_EXDATE_MONTHS = 24

# How often subscribed calendars are asked to look again (apps may poll less often); the
# X-PUBLISHED-TTL below says the same to Outlook.
REFRESH_INTERVAL = timedelta(hours=6)


@dataclass(frozen=True)
class _Words:
    """The feed's sentences, looked up once per feed in the person's language."""

    due: str
    due_amount: str
    ending: str
    autopay_on: str
    autopay_off: str

    @classmethod
    def now(cls) -> _Words:
        return cls(
            due=_("%(biller)s bill due"),
            due_amount=_("%(biller)s bill: %(amount)s"),
            ending=_("Account ending %(last_four)s."),
            autopay_on=_("Autopay is on."),
            autopay_off=_("Autopay is off."),
        )


def _summary(bill: DueBill, words: _Words) -> str:
    if bill.amount is None:
        return words.due % {"biller": bill.biller}
    return words.due_amount % {"biller": bill.biller, "amount": money(bill.amount)}


def _description(bill: DueBill, words: _Words) -> str:
    lines = []
    if bill.account_last_four:
        lines.append(words.ending % {"last_four": bill.account_last_four})
    if bill.autopay is True:
        lines.append(words.autopay_on)
    elif bill.autopay is False:
        lines.append(words.autopay_off)
    lines.append(settings.PAYLINK_SITE_URL + "/")
    return "\n".join(lines)


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def _first_on_or_after(bill: DueBill, today: date) -> date:
    """Where the bill's series starts: its due date, or for a monthly bill whose date has
    passed, its next date from today on (a past date is the dashboard's overdue bill)."""
    if not bill.recurs_monthly or bill.due_day >= today:
        return bill.due_day
    months = (today.year - bill.due_day.year) * 12 + today.month - bill.due_day.month
    day = _months_later(bill.due_day, months)
    return day if day >= today else _months_later(bill.due_day, months + 1)


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and line breaks escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _folded(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 sequence."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, 74  # later lines start with the folding space
    return "\r\n ".join(parts)


def _day(value: date) -> str:
    # strftime (or formatting each part) costs several times this, per day of thousands.
    return value.isoformat().replace("-", "")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _recurrence(bill: DueBill) -> list[str]:
    """A monthly bill recurs on its day each month; the months its plan is paused are left
    out, and a cancellation ends the series."""
    if not bill.recurs_monthly:
        return []
    rule = "FREQ=MONTHLY"
    skipped: list[str] = []
    zone = timezone.get_current_timezone()
    last = bill.inactive_end.astimezone(zone).date() if bill.inactive_end else None
    for months in range(1, _EXDATE_MONTHS + 1 if bill.inactive_kind else 1):
        day = _months_later(bill.due_day, months)
        if last is not None and day > last:
            break  # the pause is over: every later month bills
        if not bill.expected_on(day, zone=zone):
            if bill.inactive_kind == "cancelled":
                rule += f";UNTIL={_day(_months_later(bill.due_day, months - 1))}"
                break
            skipped.append(_day(day))
    lines = [f"RRULE:{rule}"]
    if skipped:
        lines.append(f"EXDATE;VALUE=DATE:{','.join(skipped)}")
    return lines


def _event(
    *,
    bill: DueBill,
    start: date,
    uid: str,
    stamped: str,
    alarm: str,
    words: _Words,
) -> str:
    """One VEVENT as folded text. `stamped` and `alarm` are the lines every event shares,
    written once per feed; only the lines that carry the bill's words can need folding."""
    summary = _text(_summary(bill, words))
    end = start + timedelta(days=1)
    recurrence = "".join(f"{_folded(line)}\r\n" for line in _recurrence(bill))
    return (
        f"BEGIN:VEVENT\r\n{_folded(f'UID:{uid}')}\r\n{stamped}"
        f"DTSTART;VALUE=DATE:{_day(start)}\r\nDTEND;VALUE=DATE:{_day(end)}\r\n"
        f"{_folded(f'SUMMARY:{summary}')}\r\n"
        f"{_folded(f'DESCRIPTION:{_text(_description(bill, words))}')}\r\n"
        # A due date is a note, not a meeting: it must not mark the day as busy.
        f"TRANSP:TRANSPARENT\r\n{recurrence}"
        # An alarm at the person's reminder lead time (on the day itself for 0).
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{_folded(f'DESCRIPTION:{summary}')}\r\n"
        f"{alarm}END:VALARM\r\nEND:VEVENT\r\n"
    )


@dataclass(frozen=True)
class Feed:
    body: bytes
    # Of the body: a calendar app that has it is answered 304.
    etag: str


def calendar_feed_kept(
    *,
    profile: Profile,
    snapshot: AccountSnapshot | None,
    preferences: ReminderPreferences | None = None,
) -> Feed:
    """`calendar_feed_for`, kept in the cache for as long as nothing it says can change (the
    version of the person's data, when it was fetched, the lead time, the language, the zone
    and their today: `page_cache.feed_key`). Calendar apps poll it: at 5,000 bills a body
    costs a fifth of a second to write, and is written once a day and sync at most."""
    zone = time_zone_for(profile.time_zone) or timezone.get_default_timezone()
    language = language_for_profile(profile=profile)
    key = (
        feed_key(
            snapshot=snapshot,
            days_before=preferences.days_before if preferences is not None else 3,
            language=language,
            zone=str(zone),
            today=timezone.localdate(timezone=zone),
        )
        if snapshot is not None
        else None
    )
    # Kept as plain values: no process unpickles a class that may have changed under it.
    kept = cache.get(key) if key else None
    if isinstance(kept, tuple):
        return Feed(etag=kept[0], body=kept[1])
    body = calendar_feed_for(profile=profile, snapshot=snapshot, preferences=preferences)
    feed = Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')
    if key:
        cache.set(key, (feed.etag, feed.body), FEED_SECONDS)
    return feed


def calendar_feed_for(
    *,
    profile: Profile,
    snapshot: AccountSnapshot | None,
    preferences: ReminderPreferences | None = None,
) -> bytes:
    """One all-day event per bill due today or later in the person's time zone, recurring
    monthly where the bill does, with an alarm at their reminder lead time.

    DTSTAMP and LAST-MODIFIED are when the snapshot was last fetched and SEQUENCE its version,
    so a calendar app sees an event change when, and only when, the accounts changed. Written
    as text, each event in one piece: a thousand events through an iCalendar object model cost
    most of a second.
    """
    stamp = _instant((snapshot.fetched_at if snapshot else None) or timezone.now())
    sequence = snapshot.version if snapshot else 0
    domain = urlsplit(settings.PAYLINK_SITE_URL).hostname or "localhost"
    days_before = preferences.days_before if preferences is not None else 3
    zone = time_zone_for(profile.time_zone) or timezone.get_default_timezone()
    with translation.override(language_for_profile(profile=profile)), timezone.override(zone):
        today = timezone.localdate()
        lines = [
            "BEGIN:VCALENDAR",
            "PRODID:-//Billfold//Bills due//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            f"X-WR-CALNAME:{_text(_('Bills due'))}",
            f"REFRESH-INTERVAL;VALUE=DURATION:{_duration(REFRESH_INTERVAL)}",
            # Outlook reads this one.
            "X-PUBLISHED-TTL:PT6H",
        ]
        words = _Words.now()
        bills = due_dates_for_snapshot(snapshot=snapshot, today=today).bills
        starts = sorted(
            ((_first_on_or_after(bill, today), bill) for bill in bills),
            key=lambda pair: (pair[0], pair[1].biller.lower(), pair[1].account_id),
        )
        stamped = f"DTSTAMP:{stamp}\r\nLAST-MODIFIED:{stamp}\r\nSEQUENCE:{sequence}\r\n"
        alarm = f"TRIGGER:-P{days_before}D\r\n" if days_before else "TRIGGER:PT0S\r\n"
        events = [
            _event(
                bill=bill,
                start=start,
                uid=f"{bill_uid(profile_identifier=profile.identifier, bill=bill)}@{domain}",
                stamped=stamped,
                alarm=alarm,
                words=words,
            )
            for start, bill in starts
            if start >= today
        ]
    head = "".join(f"{_folded(line)}\r\n" for line in lines)
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


def _duration(value: timedelta) -> str:
    hours, seconds = divmod(int(value.total_seconds()), 3600)
    return f"PT{hours}H" + (f"{seconds // 60}M" if seconds else "")
