"""Headers that bound what a page may load and what may keep it."""

from __future__ import annotations

import pytest

from tests.fresh_process import settings_value

pytestmark = pytest.mark.django_db

PUBLISHED_SDK = "https://unpkg.com/@atomicfi/transact-javascript@3.2.0/index.js"


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_the_scripts_allowed_are_ours_and_the_one_sdk_file(alice_client, settings):
    csp = _directives(alice_client.get("/hub/")["Content-Security-Policy"])
    sources = [source for source in csp["script-src"] if not source.startswith("'nonce-")]
    assert sources == ["'self'", "http://127.0.0.1:8001/sdk/transact.js"]
    assert csp["frame-src"] == [settings.ATOMIC_TRANSACT_ORIGIN]


def test_outside_the_simulator_the_policy_names_the_published_file_not_its_host():
    sources = settings_value(
        "' '.join(s.SECURE_CSP['script-src'][2:])", DJANGO_DEBUG="true", ATOMIC_ENV="sandbox"
    )
    assert sources.split() == [PUBLISHED_SDK]


def test_signed_in_pages_are_never_stored(alice_client):
    for path in ["/", "/hub/"]:
        cache_control = alice_client.get(path)["Cache-Control"]
        assert "no-store" in cache_control
        assert "private" in cache_control


def test_signed_in_partials_and_json_are_never_stored(alice_client, atomic):
    atomic.access_token_create.return_value = "test-public-token"
    assert "no-store" in alice_client.post("/hub/token/")["Cache-Control"]
    poll = alice_client.get("/dashboard/poll/?since=0&after=0", headers={"HX-Request": "true"})
    assert "no-store" in poll["Cache-Control"]


def test_anonymous_public_pages_are_left_to_their_own_caching(client):
    response = client.get("/accounts/password_reset/done/")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_every_answer_refuses_powerful_browser_features(client, alice_client):
    for response in (client.get("/accounts/login/"), alice_client.get("/")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


def test_the_language_cookie_is_secure_where_the_session_cookie_is_and_same_site_lax(
    client, settings
):
    settings.LANGUAGE_COOKIE_SECURE = True
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_outside_debug_the_language_cookie_follows_the_session_cookie():
    expression = "s.LANGUAGE_COOKIE_SECURE, s.SESSION_COOKIE_SECURE, s.LANGUAGE_COOKIE_SAMESITE"
    production = settings_value(
        expression,
        DJANGO_SECRET_KEY="k" * 50,
        ATOMIC_ENV="sandbox",
        ATOMIC_API_KEY="k",
        ATOMIC_API_SECRET="s",
    )
    assert production == "True True Lax"
