"""The reminder settings page: alice's own choices, saved by a plain form, checked and bounded."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from paylink.services.profiles import profile_for_user
from reminders.models import ReminderPreferences
from reminders.services.preferences import reminder_preferences_for_profile

pytestmark = pytest.mark.django_db

URL = "/settings/reminders/"


def _preferences(user: User) -> ReminderPreferences:
    return reminder_preferences_for_profile(profile=profile_for_user(user=user))


def test_the_page_shows_the_defaults_of_three_days_and_no_email_until_asked(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["days_before"].value() == 3
    assert form["email_reminders"].value() is False
    assert form["weekly_summary"].value() is False
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert f'action="{URL}"'.encode() in response.content
    assert b'<label for="id_email_reminders">Email me before each due date</label>' in (
        response.content
    )


def test_the_nav_links_to_the_reminder_settings(alice_client):
    response = alice_client.get("/hub/")
    assert f'href="{URL}"'.encode() in response.content


def test_posting_the_form_saves_alices_choices_and_says_so(alice, alice_client):
    response = alice_client.post(
        URL, {"days_before": "5", "email_reminders": "on", "weekly_summary": "on"}, follow=True
    )
    assert response.redirect_chain == [(URL, 302)]
    assert "Your reminder settings are saved." in [str(m) for m in response.context["messages"]]
    preferences = _preferences(alice)
    assert (preferences.days_before, preferences.email_reminders, preferences.weekly_summary) == (
        5,
        True,
        True,
    )


def test_an_unticked_box_turns_that_email_off(alice, alice_client):
    preferences = _preferences(alice)
    preferences.email_reminders = preferences.weekly_summary = True
    preferences.save()
    alice_client.post(URL, {"days_before": "3", "email_reminders": "on"})
    preferences.refresh_from_db()
    assert preferences.email_reminders is True
    assert preferences.weekly_summary is False


@pytest.mark.parametrize("days", ["-1", "31", "many", ""])
def test_days_outside_0_to_30_are_refused_and_nothing_changes(alice, alice_client, days):
    response = alice_client.post(URL, {"days_before": days, "email_reminders": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors["days_before"]
    preferences = _preferences(alice)
    assert (preferences.days_before, preferences.email_reminders) == (3, False)


@pytest.mark.parametrize("days", ["0", "30"])
def test_the_bounds_themselves_are_accepted(alice, alice_client, days):
    alice_client.post(URL, {"days_before": days})
    assert _preferences(alice).days_before == int(days)


def test_the_database_refuses_more_than_30_days_whatever_the_caller(alice):
    from django.db import IntegrityError, transaction

    preferences = _preferences(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderPreferences.objects.filter(pk=preferences.pk).update(days_before=31)


def test_alices_post_never_touches_bobs_preferences(alice, alice_client, bob):
    bobs = _preferences(bob)
    alice_client.post(URL, {"days_before": "9", "email_reminders": "on"})
    bobs.refresh_from_db()
    assert (bobs.days_before, bobs.email_reminders) == (3, False)
    assert _preferences(alice).days_before == 9


def test_the_form_refuses_a_post_without_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(URL, {"days_before": "5"}).status_code == 403
    assert _preferences(alice).days_before == 3


def test_the_page_warns_when_alice_has_no_email_address(alice, alice_client):
    alice.email = ""
    alice.save()
    response = alice_client.get(URL)
    assert b"no email address" in response.content


def test_the_feed_url_starts_with_the_site_url_whatever_the_host_header(
    alice, alice_client, settings
):
    settings.PAYLINK_SITE_URL = "https://hub.example.com"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    response = alice_client.post(
        "/settings/reminders/calendar-link/", HTTP_HOST="localhost:6666", follow=True
    )
    feed = response.context["feed_url"]
    assert feed.startswith("https://hub.example.com/calendar/")
    assert response.context["webcal_url"] == "webcal://" + feed.removeprefix("https://")
    assert b"6666" not in response.content
