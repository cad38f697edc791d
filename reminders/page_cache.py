"""What the month view and the calendar feed keep in the shared cache, and under which keys.

A person's bills change only with their snapshot: each key names its version (a sync that
stores new data moves it, so nothing kept for an older one is read again; it expires on its
own) and everything else the text depends on: the month and page, the language, the time
zone and the person's today (overdue, paused and the feed's first dates follow it), and for
the feed when the snapshot was fetched (its DTSTAMP) and the reminder lead time (its alarms).

Keys sit under the person's prefix that account deletion clears (`paylink.services.
account_deletion`), so a deleted person's bills leave the cache with them.
"""

from __future__ import annotations

from datetime import date

from paylink.models import AccountSnapshot

# The drawn month; a sync moves the version sooner.
MONTH_SECONDS = 600
# The feed: calendar apps come back every few hours (REFRESH-INTERVAL), and the day is in
# the key anyway.
FEED_SECONDS = 6 * 3600
# Pages past this are drawn each time: what the address bar asks for is not all kept.
MAX_CACHED_PAGE = 200


def _person(profile_id: int) -> str:
    return f"paylink:dashboard:{profile_id}:"


def month_key(
    *,
    snapshot: AccountSnapshot,
    month: date,
    page: int,
    part: str,
    language: str,
    zone: str,
    today: date,
) -> str | None:
    """The key of one drawn `part` of a month's page, or None where it is not kept."""
    if page > MAX_CACHED_PAGE:
        return None
    return (
        f"{_person(snapshot.profile_id)}calendar:{snapshot.version}:{month:%Y-%m}:{page}:"
        f"{part}:{language}:{zone}:{today.isoformat()}"
    )


def feed_key(
    *,
    snapshot: AccountSnapshot,
    days_before: int,
    language: str,
    zone: str,
    today: date,
) -> str:
    fetched = snapshot.fetched_at.timestamp() if snapshot.fetched_at else 0
    return (
        f"{_person(snapshot.profile_id)}feed:{snapshot.version}:{fetched}:{days_before}:"
        f"{language}:{zone}:{today.isoformat()}"
    )
