from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from paylink.models import Profile

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_the_login_page_is_public_and_has_a_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_alice_signs_in_and_lands_on_the_dashboard(client, alice):
    response = _login(client, "alice", "alice-pass-1234")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("enabled", [True, False])
def test_signup_follows_the_setting(client, settings, enabled):
    settings.PAYLINK_SIGNUP_ENABLED = enabled
    response = client.get("/accounts/signup/")
    assert response.status_code == (200 if enabled else 404)


def test_signup_creates_the_user_signs_them_in_and_gives_them_an_identifier(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = True
    response = client.post(
        "/accounts/signup/",
        {
            "username": "dana",
            "email": "dana@example.com",
            "password1": "a-long-Passphrase-9",
            "password2": "a-long-Passphrase-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    dana = User.objects.get(username="dana")
    assert client.session["_auth_user_id"] == str(dana.pk)
    assert Profile.objects.get(user=dana).identifier.startswith("hub_")


def test_signup_shows_errors_instead_of_failing(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = True
    response = client.post(
        "/accounts/signup/", {"username": "", "password1": "x", "password2": "y"}
    )
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not User.objects.exists()


def test_signup_is_refused_when_closed_even_by_post(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = False
    response = client.post(
        "/accounts/signup/",
        {"username": "eve", "password1": "a-long-Passphrase-9", "password2": "a-long-Passphrase-9"},
    )
    assert response.status_code == 404
    assert not User.objects.filter(username="eve").exists()


def test_password_reset_sends_a_link(client, alice):
    response = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert client.get(response["Location"]).status_code == 200


def test_the_reset_link_starts_with_the_site_url_whatever_the_host_header(client, alice, settings):
    settings.PAYLINK_SITE_URL = "https://hub.example.com"
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    client.post(
        "/accounts/password_reset/", {"email": "alice@example.com"}, HTTP_HOST="localhost:6666"
    )
    [message] = mail.outbox
    assert "https://hub.example.com/accounts/reset/" in message.body
    assert "6666" not in message.body and "localhost" not in message.body


def test_identifiers_are_opaque_and_stable(alice):
    from paylink.services.profiles import profile_for_user

    first = profile_for_user(user=alice)
    again = profile_for_user(user=alice)
    assert first.identifier == again.identifier
    assert "alice" not in first.identifier
