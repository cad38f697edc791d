"""A person's time zone: kept on the profile, taken from the browser on a first visit, kept in
the session, and what "today" and every date on their pages are in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from paylink.formatting import time_zone_valid, time_zones
from paylink.models import Profile
from paylink.services.profiles import profile_for_user
from paylink.time_zone import SESSION_KEY, UNKNOWN
from tests.paylink.bills import bill_account, snapshot_with


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        (" America/Mexico_City ", "America/Mexico_City"),
        ("UTC", "UTC"),
        ("Mars/Olympus_Mons", None),
        ("../../etc/passwd", None),
        ("", None),
        ("Europe/Madrid" * 10, None),
    ],
)
def test_a_time_zone_is_valid_only_when_zoneinfo_knows_it(name, valid):
    assert time_zone_valid(name) == valid


def test_the_choices_are_every_zone_sorted():
    zones = time_zones()
    assert "Europe/Madrid" in zones and list(zones) == sorted(zones)


def test_a_first_visit_asks_the_browser_and_keeps_its_answer(alice, alice_client):
    html = alice_client.get("/").content.decode()
    assert 'src="/static/paylink/js/time_zone.js' in html or "time_zone.js" in html
    assert alice_client.session[SESSION_KEY] == UNKNOWN
    response = alice_client.post("/time-zone/", {"time_zone": "Europe/Madrid"})
    assert response.status_code == 204
    assert Profile.objects.get(user=alice).time_zone == "Europe/Madrid"
    assert alice_client.session[SESSION_KEY] == "Europe/Madrid"
    # Known now: the page no longer asks.
    assert "time_zone.js" not in alice_client.get("/").content.decode()


def test_a_zone_the_browser_makes_up_is_refused_and_nothing_kept(alice, alice_client):
    alice_client.get("/")
    response = alice_client.post("/time-zone/", {"time_zone": "Nowhere/Atlantis"})
    assert response.status_code == 400
    assert not Profile.objects.filter(user=alice).exclude(time_zone="").exists()


def test_the_browser_cannot_overwrite_a_zone_the_person_has(alice, alice_client):
    profile = profile_for_user(user=alice)
    profile.time_zone = "Asia/Tokyo"
    profile.save()
    alice_client.post("/time-zone/", {"time_zone": "Europe/Madrid"})
    assert Profile.objects.get(user=alice).time_zone == "Asia/Tokyo"


def test_the_report_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/time-zone/", {"time_zone": "Europe/Madrid"}).status_code == 403
    assert not Profile.objects.filter(user=alice).exclude(time_zone="").exists()


def test_the_zone_is_kept_in_the_session_at_sign_in_and_read_from_it(alice, client):
    profile = profile_for_user(user=alice)
    profile.time_zone = "Asia/Tokyo"
    profile.save()
    client.force_login(alice)  # signing in copies the zone into the session
    assert client.session[SESSION_KEY] == "Asia/Tokyo"
    seen = []

    def render(*args, **kwargs):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse("")

    with (
        mock.patch("reminders.views.calendar.render", side_effect=render),
        mock.patch.object(Profile.objects, "filter", side_effect=AssertionError("a query")),
    ):
        client.get("/calendar/")
    assert seen == ["Asia/Tokyo"]
    # Outside the request, the site's zone again.
    assert timezone.get_current_timezone_name() == "UTC"


def test_today_on_the_dashboard_is_the_persons(alice, alice_client):
    # 23:30 UTC on Nov 30 is Dec 1 in Madrid: due today there, overdue in UTC.
    account = bill_account(account_id="acct-x", biller="Hulu", due=date(2026, 11, 30))
    account["account"]["billing"]["dueDate"] = "2026-11-30T23:30:00.000Z"
    snapshot_with(alice, account)
    just_after_midnight = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=just_after_midnight):
        utc_page = alice_client.get("/").content.decode()
        profile = profile_for_user(user=alice)
        profile.time_zone = "Europe/Madrid"
        profile.save()
        session = alice_client.session
        session[SESSION_KEY] = "Europe/Madrid"
        session.save()
        madrid_page = alice_client.get("/").content.decode()
    assert 'class="bill bill--overdue"' in utc_page
    assert 'class="bill bill--soon"' in madrid_page
    assert "Dec 1, 2026" in madrid_page and "Nov 30, 2026" in utc_page


def test_a_new_zone_moves_each_payment_into_its_month_there(alice, alice_client):
    account = bill_account(account_id="acct-gym", biller="Gym", due=date(2026, 12, 20))
    # 03:00 UTC on Nov 1 is still Oct 31 in Mexico City.
    account["account"]["billing"]["history"] = [{"date": "2026-11-01T03:00:00Z", "amount": 10}]
    snapshot_with(alice, account)
    alice_client.get("/")
    assert [m.month for m in _spending(alice)] == [date(2026, 11, 1)]
    alice_client.post("/time-zone/", {"time_zone": "America/Mexico_City"})
    assert [m.month for m in _spending(alice)] == [date(2026, 10, 1)]


def _spending(user):
    from paylink.selectors.dashboard import DashboardReader, Filters, snapshot_for_user

    snapshot = snapshot_for_user(user=user)
    return (
        DashboardReader(snapshot=snapshot, filters=Filters(), today=date(2026, 12, 1))
        .spending()
        .months
    )


@pytest.mark.parametrize("value", ["Europe/Madrid", "", "Not/AZone"])
def test_the_zone_select_writes_what_djangos_select_would(value):
    """The select is written in Python for speed; it must stay Django's markup, attributes,
    escaping and the chosen option included."""
    import re

    from django import forms

    from paylink.account_forms import ZoneSelect, time_zone_field

    field = time_zone_field()
    assert isinstance(field.widget, ZoneSelect)
    attrs = {"id": "id_time_zone", "aria-describedby": "help", "required": True, "disabled": False}
    ours = field.widget.render("time_zone", value, attrs=attrs)
    djangos = forms.Select(choices=field.choices).render("time_zone", value, attrs=attrs)

    def spaced(html: str) -> str:
        return re.sub(r">\s+<", "><", html.strip())

    assert spaced(ours) == spaced(djangos)
    assert ours.count("<option") == len(list(field.choices))
    assert ('<option value="Europe/Madrid" selected>' in ours) == (value == "Europe/Madrid")
    assert "&#x27;" in ours  # the first choice's apostrophe, escaped
