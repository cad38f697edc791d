"""The private calendar feed of due dates, its revocable link, and the month view."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from icalendar import Calendar

from reminders.services.preferences import calendar_token_rotate
from tests.paylink.bills import FULL_NUMBER, bill_account, preferences_of, snapshot_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def _feed_url(user: User) -> str:
    """A new feed link of `user`'s: only its digest is kept, so a test makes the link it reads
    (the one before it stops working)."""
    return f"/calendar/{calendar_token_rotate(preferences=preferences_of(user))}.ics"


def _shown_path(response) -> str:
    """The feed link the settings page shows, as a path."""
    return urlsplit(response.context["feed_url"]).path


def _events(response) -> list:
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    return list(calendar.walk("VEVENT"))


def test_the_feed_is_an_icalendar_file_with_one_all_day_event_per_upcoming_bill(alice, today):
    fetched = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    snapshot_with(
        alice,
        bill_account(account_id="acct-hulu", biller="Hulu", due=today + timedelta(days=3)),
        bill_account(
            account_id="acct-comcast",
            biller="Comcast",
            due=today + timedelta(days=10),
            amount=76.99,
        ),
        bill_account(account_id="acct-old", biller="Paid Already", due=today - timedelta(days=2)),
        version=4,
        fetched_at=fetched,
    )
    response = Client().get(_feed_url(alice))  # no sign-in: calendar apps have none
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n" in response.content
    assert b"X-PUBLISHED-TTL:PT6H\r\n" in response.content
    events = _events(response)
    # A monthly bill whose date has passed recurs: its series starts at its next date.
    assert [str(e["SUMMARY"]) for e in events] == [
        "Hulu bill: $20.46",
        "Comcast bill: $76.99",
        "Paid Already bill: $20.46",
    ]
    assert events[2].decoded("DTSTART") > today
    hulu = events[0]
    assert hulu["RRULE"]["FREQ"] == ["MONTHLY"]
    assert hulu.decoded("DTSTART") == today + timedelta(days=3)
    assert not isinstance(hulu.decoded("DTSTART"), datetime)  # all-day
    assert hulu.decoded("DTEND") == today + timedelta(days=4)
    assert hulu.decoded("DTSTAMP") == fetched
    assert hulu.decoded("SEQUENCE") == 4
    assert "Account ending 1919." in str(hulu["DESCRIPTION"])
    assert FULL_NUMBER.encode() not in response.content


def test_uids_are_stable_per_bill_and_date_and_events_follow_the_snapshot(alice, today):
    due = today + timedelta(days=5)
    snapshot_with(alice, bill_account(account_id="acct-hulu", biller="Hulu", due=due), version=1)
    [before] = _events(Client().get(_feed_url(alice)))
    snapshot_with(
        alice,
        bill_account(account_id="acct-hulu", biller="Hulu", due=due, amount=25),
        version=2,
        fetched_at=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
    )
    [after] = _events(Client().get(_feed_url(alice)))
    assert str(after["UID"]) == str(before["UID"])
    assert str(after["SUMMARY"]) == "Hulu bill: $25.00"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert after.decoded("DTSTAMP") > before.decoded("DTSTAMP")

    snapshot_with(
        alice,
        bill_account(account_id="acct-hulu", biller="Hulu", due=due + timedelta(days=30)),
        version=3,
    )
    [next_month] = _events(Client().get(_feed_url(alice)))
    assert str(next_month["UID"]) != str(before["UID"])


def test_bobs_bills_never_appear_in_alices_feed(alice, bob, today):
    snapshot_with(alice, bill_account(account_id="acct-a", biller="Hulu", due=today))
    snapshot_with(bob, bill_account(account_id="acct-b", biller="Spotify", due=today))
    alices = [str(e["SUMMARY"]) for e in _events(Client().get(_feed_url(alice)))]
    bobs = [str(e["SUMMARY"]) for e in _events(Client().get(_feed_url(bob)))]
    assert alices == ["Hulu bill: $20.46"]
    assert bobs == ["Spotify bill: $20.46"]


def test_the_same_account_id_for_two_people_gives_different_uids(alice, bob, today):
    snapshot_with(alice, bill_account(account_id="same", biller="Hulu", due=today))
    snapshot_with(bob, bill_account(account_id="same", biller="Hulu", due=today))
    [a] = _events(Client().get(_feed_url(alice)))
    [b] = _events(Client().get(_feed_url(bob)))
    assert str(a["UID"]) != str(b["UID"])


def test_a_feed_before_the_first_sync_is_empty_but_valid(alice):
    assert _events(Client().get(_feed_url(alice))) == []


def test_a_bill_without_an_amount_still_shows_its_due_date(alice, today):
    snapshot_with(alice, bill_account(account_id="acct-a", biller="Hulu", due=today, amount=None))
    [event] = _events(Client().get(_feed_url(alice)))
    assert str(event["SUMMARY"]) == "Hulu bill due"


def test_a_deactivated_persons_feed_is_a_404(alice):
    url = _feed_url(alice)
    alice.is_active = False
    alice.save()
    assert Client().get(url).status_code == 404


def test_an_unknown_token_is_a_404(alice):
    preferences_of(alice)
    assert Client().get("/calendar/not-a-real-token.ics").status_code == 404


def test_making_a_new_link_revokes_the_old_one(alice, alice_client, today):
    snapshot_with(alice, bill_account(account_id="acct-a", biller="Hulu", due=today))
    old = _feed_url(alice)
    assert Client().get(old).status_code == 200

    response = alice_client.post("/settings/reminders/calendar-link/", follow=True)
    assert response.redirect_chain == [("/settings/reminders/#calendar", 302)]
    new = _shown_path(response)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert new.encode() in response.content
    assert old.encode() not in response.content


def test_a_new_link_needs_a_post_with_the_csrf_token(alice):
    old = _feed_url(alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/settings/reminders/calendar-link/").status_code == 405
    assert client.post("/settings/reminders/calendar-link/").status_code == 403
    assert Client().get(old).status_code == 200


def test_bobs_new_link_leaves_alices_working(alice, bob):
    alices = _feed_url(alice)
    client = Client()
    client.force_login(bob)
    client.post("/settings/reminders/calendar-link/")
    assert Client().get(alices).status_code == 200


def test_a_new_link_is_shown_with_a_copy_hint_once_and_never_again(alice, alice_client, settings):
    settings.PAYLINK_SITE_URL = "https://hub.example.com"
    response = alice_client.post("/settings/reminders/calendar-link/", follow=True)
    path = _shown_path(response)
    assert f'value="https://hub.example.com{path}"'.encode() in response.content
    assert f'href="webcal://hub.example.com{path}"'.encode() in response.content
    assert b"copy it into your calendar app" in response.content
    assert b"shown only this once" in response.content

    again = alice_client.get("/settings/reminders/")
    assert path.encode() not in again.content
    assert b"shown only once, when it is made" in again.content
    assert b"Make a new link" in again.content
    assert Client().get(path).status_code == 200


def test_only_the_digest_of_the_link_is_kept(alice, alice_client):
    response = alice_client.post("/settings/reminders/calendar-link/", follow=True)
    token = _shown_path(response).removeprefix("/calendar/").removesuffix(".ics")
    preferences = preferences_of(alice)
    assert preferences.calendar_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in vars(preferences).values())


def test_a_person_without_a_link_is_offered_one_and_shown_no_address(alice, alice_client):
    response = alice_client.get("/settings/reminders/")
    assert b"Make my calendar link" in response.content
    assert b".ics" not in response.content
    assert "feed_url" not in response.context
    made = alice_client.post("/settings/reminders/calendar-link/", follow=True)
    assert b"Here is your calendar link." in made.content


def test_the_month_view_puts_alices_bills_on_their_days_and_never_bobs(alice, bob, today):
    snapshot_with(alice, bill_account(account_id="acct-a", biller="Hulu", due=today))
    snapshot_with(bob, bill_account(account_id="acct-b", biller="Spotify", due=today))
    client = Client()
    client.force_login(alice)
    response = client.get("/calendar/")
    assert response.status_code == 200
    month = response.context["month"]
    [cell] = [c for week in month.weeks for c in week if c.is_today]
    assert [b.biller for b in cell.shown] == ["Hulu"]
    assert b"Hulu: $20.46" in response.content
    assert b"Spotify" not in response.content
    assert b'aria-current="date"' in response.content
    assert [b.biller for b in month.page] == ["Hulu"]
    assert f'<time datetime="{today:%Y-%m-%d}">'.encode() in response.content


def test_the_month_lists_only_the_bills_of_that_month(alice, alice_client):
    snapshot_with(
        alice,
        bill_account(account_id="a", biller="Hulu", due=date(2027, 3, 1)),
        bill_account(account_id="b", biller="Comcast", due=date(2027, 4, 1)),
    )
    response = alice_client.get("/calendar/", {"month": "2027-03"})
    assert [b.biller for b in response.context["month"].page] == ["Hulu"]
    # April 1st still shows in March's last row of the grid, greyed as another month's day.
    cells = [c for week in response.context["month"].weeks for c in week if c.count]
    assert [(c.day, c.in_month) for c in cells] == [
        (date(2027, 3, 1), True),
        (date(2027, 4, 1), False),
    ]


@pytest.mark.parametrize("value", ["2027-02", "1999-13", "nonsense", "99999-01", ""])
def test_the_month_view_reads_the_month_from_the_query_or_shows_this_one(
    alice_client, today, value
):
    response = alice_client.get("/calendar/", {"month": value})
    assert response.status_code == 200
    first = response.context["month"].first
    assert first == (date(2027, 2, 1) if value == "2027-02" else today.replace(day=1))


def test_a_monthly_bill_recurs_skips_its_paused_months_and_alarms_at_the_lead_time(alice, today):
    account = bill_account(account_id="acct-gym", biller="Gym", due=today + timedelta(days=2))
    start = today + timedelta(days=20)
    account["account"]["data"] = {
        "plans": [
            {
                "status": "active",
                "pendingChange": {
                    "changes": {"status": "paused"},
                    "startDate": f"{start.isoformat()}T00:00:00Z",
                    "endDate": f"{(start + timedelta(days=40)).isoformat()}T00:00:00Z",
                },
            }
        ]
    }
    snapshot_with(alice, account)
    preferences_of(alice, days_before=5)
    (event,) = _events(Client().get(_feed_url(alice)))
    assert event["RRULE"]["FREQ"] == ["MONTHLY"]
    skipped = [d.dt for d in event["EXDATE"].dts] if "EXDATE" in event else []
    assert skipped and all(start <= d <= start + timedelta(days=40) for d in skipped)
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(days=5)


def test_a_paused_bill_is_in_neither_the_feed_nor_the_month(alice, alice_client, today):
    account = bill_account(account_id="acct-p", biller="Streamly", due=today + timedelta(days=2))
    account["account"]["data"] = {"plans": [{"status": "paused"}]}
    snapshot_with(alice, account)
    assert _events(Client().get(_feed_url(alice))) == []
    month = alice_client.get("/calendar/").context["month"]
    assert (month.count, list(month.page)) == (0, [])


def test_the_feed_is_kept_until_the_data_changes_and_a_calendar_app_with_it_gets_a_304(
    alice, today
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    due = today + timedelta(days=5)
    snapshot_with(alice, bill_account(account_id="acct-hulu", biller="Hulu", due=due))
    url = _feed_url(alice)
    first = Client().get(url)
    etag = first["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(url)
    # Kept: no bill is read again, and the file is the same.
    assert not [q for q in queries.captured_queries if "paylink_bill" in q["sql"]]
    assert again.content == first.content and again["ETag"] == etag
    unchanged = Client().get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag and unchanged["Cache-Control"] == "private"

    # A sync that stores new data moves the version: the feed is written again.
    snapshot_with(
        alice, bill_account(account_id="acct-hulu", biller="Hulu", due=due, amount=31), version=2
    )
    changed = Client().get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    [event] = _events(changed)
    assert str(event["SUMMARY"]) == "Hulu bill: $31.00"


def test_a_new_lead_time_is_in_the_kept_feeds_alarms_at_once(alice, today):
    snapshot_with(alice, bill_account(account_id="a", biller="Hulu", due=today + timedelta(days=9)))
    url = _feed_url(alice)
    [before] = _events(Client().get(url))
    assert before.walk("VALARM")[0].decoded("TRIGGER") == -timedelta(days=3)
    preferences_of(alice, days_before=7)
    [after] = _events(Client().get(url))
    assert after.walk("VALARM")[0].decoded("TRIGGER") == -timedelta(days=7)


def test_the_kept_feed_follows_the_persons_language(alice, today):
    from paylink.services.profiles import profile_language_set

    snapshot_with(alice, bill_account(account_id="a", biller="Hulu", due=today + timedelta(days=2)))
    url = _feed_url(alice)
    assert b"Hulu bill: $20.46" in Client().get(url).content
    profile_language_set(user=alice, language="es")
    assert b"Factura de Hulu" in Client().get(url).content
