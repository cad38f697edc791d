"""The host in English and Spanish: the language served, the switcher, and complete catalogues."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from paylink.services.profiles import profile_for_user

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _html_lang(response) -> str:
    match = re.search(rb'<html lang="([^"]*)"', response.content)
    assert match, "the page has no <html lang>"
    return match.group(1).decode()


def _sign_in(client: Client, username: str, password: str, **headers: str):
    return client.post("/accounts/login/", {"username": username, "password": password}, **headers)


def _transact_language(response) -> str:
    match = re.search(
        rb'<script id="paylink-transact-config" type="application/json">(.*?)</script>',
        response.content,
        re.S,
    )
    assert match, "the page does not launch Transact"
    return json.loads(match.group(1))["config"]["language"]


# --- The language served ------------------------------------------------------------------


def test_an_english_browser_gets_english_and_says_so(client):
    response = client.get("/accounts/login/", **ENGLISH)
    assert _html_lang(response) == "en"
    assert response["Content-Language"] == "en"


def test_a_spanish_browser_gets_html_lang_es_matching_content_language(client):
    response = client.get("/accounts/login/", **SPANISH)
    assert _html_lang(response) == "es"
    assert response["Content-Language"] == "es"


def test_the_switcher_is_a_form_naming_each_language_in_itself(client):
    response = client.get("/accounts/login/", **SPANISH)
    body = response.content.decode()
    assert 'action="/i18n/setlang/"' in body
    assert '<button type="submit" name="language" value="en" lang="en"' in body
    assert ">English</button>" in body
    assert 'value="es" lang="es"' in body and ">Español</button>" in body


def test_the_switcher_works_for_someone_not_signed_in(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.cookies["django_language"].value == "es"
    assert _html_lang(client.get("/accounts/login/", **ENGLISH)) == "es"


def test_the_switcher_refuses_a_get(client):
    assert client.get("/i18n/setlang/?language=es").status_code == 405


def test_the_switcher_ignores_a_language_the_host_does_not_speak(client, alice):
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert profile_for_user(user=alice).language == ""
    assert "django_language" not in client.cookies


def test_the_switcher_keeps_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 403


def test_the_switcher_does_not_redirect_off_site(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_choice_is_kept_on_the_profile_and_wins_over_the_browser_at_the_next_sign_in(alice):
    first = Client()
    assert _sign_in(first, "alice", "alice-pass-1234", **ENGLISH).status_code == 302
    first.post("/i18n/setlang/", {"language": "es", "next": "/hub/"}, **ENGLISH)
    assert profile_for_user(user=alice).language == "es"

    # Another browser, English, no cookie: signing in brings the saved choice back.
    second = Client()
    _sign_in(second, "alice", "alice-pass-1234", **ENGLISH)
    response = second.get("/hub/", **ENGLISH)
    assert _html_lang(response) == "es"
    assert response["Content-Language"] == "es"
    assert _transact_language(response) == "es"
    # The cookie follows, so the page after signing out stays in Spanish.
    assert second.cookies["django_language"].value == "es"


def test_the_saved_choice_wins_over_a_stale_cookie(alice):
    client = Client()
    client.cookies["django_language"] = "en"
    profile = profile_for_user(user=alice)
    profile.language = "es"
    profile.save()
    _sign_in(client, "alice", "alice-pass-1234", **ENGLISH)
    assert _html_lang(client.get("/hub/", **ENGLISH)) == "es"


def test_without_a_saved_choice_the_browser_decides(alice):
    client = Client()
    _sign_in(client, "alice", "alice-pass-1234", **SPANISH)
    response = client.get("/hub/", **SPANISH)
    assert _html_lang(response) == "es"
    assert _transact_language(response) == "es"
    response = client.get("/hub/", **ENGLISH)
    assert _html_lang(response) == "en"
    assert _transact_language(response) == "en"


def test_bob_switching_language_leaves_alice_alone(alice, client):
    bob = User.objects.create_user("bob", "bob@example.com", "bob-pass-1234")
    client.force_login(bob)
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert profile_for_user(user=bob).language == "es"
    assert profile_for_user(user=alice).language == ""
