"""Every rate limit answers 429 with a sentence and Retry-After once its count is used up."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _still_clock():
    # Retry-After counts from the window's first hit: on a busy machine a second may pass
    # between the hits, so the clock the counters read stands still here.
    with mock.patch("paylink.lib.rate_limits.time") as clock:
        clock.time.return_value = 1_800_000_000.0
        yield


@pytest.fixture
def limits(settings):
    """Small budgets: two requests per minute for every limit, unless a test says otherwise."""
    settings.PAYLINK_RATE_LIMITS = dict.fromkeys(settings.PAYLINK_RATE_LIMITS, "2/60")
    return settings.PAYLINK_RATE_LIMITS


def _assert_429(response, sentence: str) -> None:
    assert response.status_code == 429
    assert sentence in response.content.decode()
    assert response["Retry-After"] == "60"


def test_sign_in_posts_are_limited_per_address_counting_failures_only(client, alice, limits):
    # Successful sign-ins give their request back: an office behind one address keeps signing in.
    for _ in range(4):
        response = client.post(
            "/accounts/login/",
            {"username": "alice", "password": "alice-pass-1234"},
            REMOTE_ADDR="10.2.2.2",
        )
        assert response.status_code == 302
        client.post("/accounts/logout/")
    for username in ("mallory", "trent"):
        client.post(
            "/accounts/login/", {"username": username, "password": "x"}, REMOTE_ADDR="10.2.2.2"
        )
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-pass-1234"},
        REMOTE_ADDR="10.2.2.2",
    )
    _assert_429(response, "Too many sign-in attempts. Try again in 1 minute.")
    assert "_auth_user_id" not in client.session
    # Showing the page is not an attempt, and another address has its own count.
    assert client.get("/accounts/login/", REMOTE_ADDR="10.2.2.2").status_code == 200
    other = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-pass-1234"},
        REMOTE_ADDR="10.2.2.3",
    )
    assert other.status_code == 302


def test_sign_ups_are_limited_per_address(client, settings, limits):
    settings.PAYLINK_SIGNUP_ENABLED = True
    for number in range(3):
        response = Client().post(
            "/accounts/signup/",
            {
                "username": f"new{number}",
                "password1": "a-long-Passphrase-9",
                "password2": "a-long-Passphrase-9",
            },
            REMOTE_ADDR="10.5.5.5",
        )
    _assert_429(response, "Too many sign-ups from your network. Try again in 1 minute.")
    assert not User.objects.filter(username="new2").exists()


def test_password_reset_mail_is_limited_per_email(client, alice, limits):
    limits["password_reset"] = "100/60"
    for attempt in range(3):
        response = client.post(
            "/accounts/password_reset/",
            {"email": "Alice@example.com"},
            REMOTE_ADDR=f"10.8.0.{attempt}",
        )
    _assert_429(
        response, "Too many password reset requests for that address. Try again in 1 minute."
    )
    assert len(mail.outbox) == 2
    # Another email from the same place is still served.
    assert client.post("/accounts/password_reset/", {"email": "bob@example.com"}).status_code == 302


def test_password_reset_requests_are_limited_per_address(client, alice, limits):
    limits["password_reset_email"] = "100/60"
    for number in range(3):
        response = client.post(
            "/accounts/password_reset/", {"email": f"x{number}@example.com"}, REMOTE_ADDR="10.8.1.1"
        )
    _assert_429(response, "Too many password reset requests. Try again in 1 minute.")


def test_hub_tokens_are_limited_per_user_with_a_json_sentence(alice_client, atomic, limits):
    atomic.access_token_create.return_value = "test-public-token"
    for _ in range(2):
        assert alice_client.post("/hub/token/").status_code == 200
    response = alice_client.post("/hub/token/")
    _assert_429(response, "Too many attempts to open the Payments Hub. Try again in 1 minute.")
    assert response.json()["error"].startswith("Too many attempts")
    assert atomic.access_token_create.call_count == 2


def test_hub_events_are_limited_per_user(alice_client, bob, limits):
    for _ in range(2):
        alice_client.post("/hub/events/", data="{}", content_type="application/json")
    response = alice_client.post("/hub/events/", data="{}", content_type="application/json")
    _assert_429(response, "Too many updates from the Payments Hub. Try again in 1 minute.")
    # Bob has his own count.
    bob_client = Client()
    bob_client.force_login(bob)
    answer = bob_client.post("/hub/events/", data="{}", content_type="application/json")
    assert answer.status_code == 400


def test_dashboard_refreshes_answer_htmx_with_a_fragment_to_swap(alice_client, limits):
    with mock.patch("paylink.services.accounts.accounts_sync_request") as sync:
        for _ in range(2):
            alice_client.post("/refresh/", headers={"HX-Request": "true"})
        response = alice_client.post("/refresh/", headers={"HX-Request": "true"})
    _assert_429(response, "Too many refreshes. Try again in 1 minute.")
    html = response.content.decode()
    assert html.strip().startswith('<p class="alert alert--warning" role="alert">')
    assert "<html" not in html
    assert sync.call_count == 2


def test_dashboard_refreshes_without_htmx_get_a_whole_page(alice_client, limits):
    with mock.patch("paylink.services.accounts.accounts_sync_request"):
        for _ in range(2):
            alice_client.post("/refresh/")
        response = alice_client.post("/refresh/")
    _assert_429(response, "Too many refreshes. Try again in 1 minute.")
    assert "<html" in response.content.decode()


def test_htmx_is_configured_to_show_a_429s_sentence(alice_client):
    html = alice_client.get("/").content.decode()
    assert '{"code": "429", "swap": true, "error": false}' in html


def test_a_malformed_limit_names_the_setting(alice_client, settings):
    settings.PAYLINK_RATE_LIMITS = {**settings.PAYLINK_RATE_LIMITS, "dashboard_refresh": "lots"}
    with pytest.raises(ImproperlyConfigured, match="dashboard_refresh"):
        alice_client.post("/refresh/")
