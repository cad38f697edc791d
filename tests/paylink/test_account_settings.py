"""A person's own account: name, language, time zone, email (confirmed by a link), password."""

from __future__ import annotations

import re
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from paylink.models import Profile
from paylink.services.email_change import email_change_token_make
from tests.people import password_of

pytestmark = pytest.mark.django_db


def _link_in(message: mail.EmailMessage) -> str:
    (url,) = re.findall(r"https?://\S+/settings/account/email/\S+/", message.body)
    return urlsplit(url).path


def test_the_header_links_to_the_account_page(alice_client):
    html = alice_client.get("/settings/account/").content.decode()
    assert 'href="/settings/account/" aria-current="page"' in html
    assert 'href="/accounts/password_change/"' in html


def test_name_language_and_time_zone_are_saved(alice_client, alice):
    response = alice_client.post(
        "/settings/account/",
        {
            "profile-first_name": "Alicia",
            "profile-last_name": "L.",
            "profile-language": "es",
            "profile-time_zone": "America/Mexico_City",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    profile = Profile.objects.get(user=alice)
    assert (alice.first_name, alice.last_name) == ("Alicia", "L.")
    assert (profile.language, profile.time_zone) == ("es", "America/Mexico_City")
    # The very next page is in the new language.
    page = alice_client.get("/settings/account/")
    assert page["Content-Language"] == "es"


def test_following_the_browser_again_forgets_the_chosen_language(alice_client, alice_profile):
    alice_profile.language = "es"
    alice_profile.save(update_fields=["language"])
    alice_client.cookies["django_language"] = "es"
    response = alice_client.post(
        "/settings/account/", {"profile-language": "", "profile-time_zone": ""}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == ""  # deleted
    alice_profile.refresh_from_db()
    assert alice_profile.language == ""
    page = alice_client.get("/settings/account/", HTTP_ACCEPT_LANGUAGE="es")
    assert page["Content-Language"] == "es"
    page = alice_client.get("/settings/account/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "en"


def test_a_time_zone_zoneinfo_does_not_know_is_refused_with_a_summary(alice_client, alice):
    response = alice_client.post(
        "/settings/account/",
        {"profile-language": "", "profile-time_zone": "Mars/Olympus_Mons"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_profile-time_zone"' in html
    assert Profile.objects.filter(user=alice, time_zone="Mars/Olympus_Mons").count() == 0


def test_a_new_email_is_used_only_once_its_link_is_confirmed(alice_client, alice):
    response = alice_client.post(
        "/settings/account/email/",
        {"email-email": "alice@new.example", "email-password": password_of("alice")},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # not yet
    (message,) = mail.outbox
    assert message.to == ["alice@new.example"]
    link = _link_in(message)

    # Opening the link (as a mail scanner would) changes nothing.
    page = alice_client.get(link)
    assert page.status_code == 200
    assert "alice@new.example" in page.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"

    assert alice_client.post(link).status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    # The old address is told, in case the change was not its owner's.
    notice = mail.outbox[-1]
    assert notice.to == ["alice@example.com"]
    assert "alice@new.example" in notice.body
    assert "/accounts/password_reset/" in notice.body
    # Used once: the same link now says it no longer works.
    assert alice_client.post(link).status_code == 400


def test_email_changes_are_rate_limited_per_person(alice_client, settings):
    settings.PAYLINK_RATE_LIMITS = {**settings.PAYLINK_RATE_LIMITS, "email_change": "2/3600"}
    for number in range(2):
        response = alice_client.post(
            "/settings/account/email/",
            {"email-email": f"alice{number}@new.example", "email-password": password_of("alice")},
        )
        assert response.status_code == 302
    response = alice_client.post(
        "/settings/account/email/",
        {"email-email": "alice9@new.example", "email-password": password_of("alice")},
    )
    assert response.status_code == 429
    assert "Too many email address changes" in response.content.decode()
    assert len(mail.outbox) == 2


def test_the_email_change_asks_for_the_right_password(alice_client, alice):
    response = alice_client.post(
        "/settings/account/email/",
        {"email-email": "alice@new.example", "email-password": "not-it"},
    )
    assert response.status_code == 400
    assert "That is not your current password." in response.content.decode()
    assert mail.outbox == []


def test_another_persons_link_does_not_change_anyones_email(client, alice, bob):
    token = email_change_token_make(user=alice, new_email="mallory@example.com")
    client.force_login(bob)
    assert client.post(f"/settings/account/email/{token}/").status_code == 400
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.email, bob.email) == ("alice@example.com", "bob@example.com")


def test_a_forged_or_expired_link_is_refused(alice_client, alice):
    token = email_change_token_make(user=alice, new_email="alice@new.example")
    assert alice_client.post(f"/settings/account/email/{token[:-2]}xx/").status_code == 400
    with mock.patch("paylink.services.email_change.EMAIL_CHANGE_MAX_AGE_SECONDS", -1):
        assert alice_client.post(f"/settings/account/email/{token}/").status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_mail_that_cannot_be_sent_changes_nothing_and_says_so(alice_client, alice):
    with mock.patch(
        "paylink.services.email_change.EmailMultiAlternatives.send",
        side_effect=ConnectionRefusedError,
    ):
        response = alice_client.post(
            "/settings/account/email/",
            {"email-email": "alice@new.example", "email-password": password_of("alice")},
        )
    assert response.status_code == 503
    assert "nothing changed" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def _change_password(client: Client, old: str, new: str = "a-new-Passphrase-7", **extra):
    return client.post(
        "/accounts/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
        **extra,
    )


def test_changing_the_password_rotates_the_session_and_signs_out_other_sessions(client, alice):
    other_device = Client()
    other_device.force_login(alice)
    client.force_login(alice)
    key_before = client.cookies["sessionid"].value
    response = _change_password(client, password_of("alice"))
    assert response.status_code == 302
    assert response["Location"] == "/settings/account/"
    assert client.cookies["sessionid"].value != key_before
    assert client.get("/settings/account/").status_code == 200
    assert other_device.get("/settings/account/").status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-new-Passphrase-7")


def test_password_checks_on_the_change_page_are_behind_the_sign_in_throttle(
    client, alice, settings
):
    client.force_login(alice)
    for _ in range(settings.PAYLINK_SIGNIN_PAIR_FAILURES):
        assert _change_password(client, "wrong-guess").status_code == 400
    # The right password is not even checked now: the guesser learns nothing.
    response = _change_password(client, password_of("alice"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(password_of("alice"))


def test_sign_up_saves_the_language_of_the_page_and_the_chosen_time_zone(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = True
    page = client.get("/accounts/signup/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<option value="es" selected>' in page
    # Plain help, no developer text.
    assert "150 characters or fewer" not in page
    assert "150 caracteres" not in page
    assert "on your behalf" not in page
    response = client.post(
        "/accounts/signup/",
        {
            "username": "dana",
            "password1": "a-long-Passphrase-9",
            "password2": "a-long-Passphrase-9",
            "language": "es",
            "time_zone": "America/Bogota",
        },
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user__username="dana")
    assert (profile.language, profile.time_zone) == ("es", "America/Bogota")


def test_an_invalid_sign_up_shows_a_summary_that_takes_focus(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = True
    html = client.post(
        "/accounts/signup/", {"username": "", "password1": "x", "password2": "y"}
    ).content.decode()
    summary = html[html.index('class="error-summary"') - 5 :]
    assert summary.split(">", 1)[0].count("autofocus") == 1
    assert 'href="#id_username"' in summary
    assert not User.objects.exists()


def test_a_language_picked_before_signing_in_is_kept_on_the_profile(client, alice_profile):
    client.cookies["django_language"] = "es"
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": password_of("alice")}
    )
    assert response.status_code == 302
    alice_profile.refresh_from_db()
    assert alice_profile.language == "es"


def test_signing_in_never_overwrites_a_language_the_profile_has(client, alice_profile):
    alice_profile.language = "en"
    alice_profile.save(update_fields=["language"])
    client.cookies["django_language"] = "es"
    client.post("/accounts/login/", {"username": "alice", "password": password_of("alice")})
    alice_profile.refresh_from_db()
    assert alice_profile.language == "en"
