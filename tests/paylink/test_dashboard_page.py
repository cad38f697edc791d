"""The dashboard's whole page kept in the cache (paylink/views/dashboard_page.py): served warm
with no query and no template, and never to anyone, in any language, time zone or state of the
data, it was not drawn for; each answer has its own CSRF token and CSP nonce."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.utils import timezone
from django.utils.timesince import timesince

from paylink.lib.auth_backend import user_cache_key
from paylink.models import AccountSnapshot, Profile
from paylink.services.accounts import accounts_store
from paylink.time_zone import time_zone_set
from tests.atomic_json import atomic_json

pytestmark = pytest.mark.django_db


def with_accounts(user: User, fixture: str = "accounts/hulu") -> AccountSnapshot:
    profile, _ = Profile.objects.get_or_create(user=user)
    return accounts_store(profile=profile, payload=atomic_json(fixture))


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    # Signing in marks the cached row as changed for a few seconds; as if they had passed.
    cache.delete(user_cache_key(user.pk))
    return browser


def drawn_then_warm(browser: Client):
    """The page drawn and kept, then served again: the second answer."""
    first = browser.get("/")
    assert first.status_code == 200 and first.templates
    return browser.get("/")


def is_warm(response) -> bool:
    return response.status_code == 200 and not response.templates


@pytest.fixture
def alices_page(alice):
    with_accounts(alice)
    return signed_in(alice)


def test_a_kept_page_is_served_without_a_query_or_a_template(
    alices_page, django_assert_num_queries
):
    drawn = alices_page.get("/")

    with django_assert_num_queries(0):
        warm = alices_page.get("/")

    assert is_warm(warm)
    assert "Hulu" in warm.content.decode()
    strip = re.compile(r'(nonce="|value="|data-csrf="|"X-CSRFToken": "|after=)[^"&]+')
    assert strip.sub("", warm.content.decode()) == strip.sub("", drawn.content.decode())


def test_each_answer_has_its_own_nonce_and_csrf_token(alices_page):
    answers = [drawn_then_warm(alices_page), alices_page.get("/")]
    nonces, tokens = set(), set()
    for answer in answers:
        html = answer.content.decode()
        page_nonces = set(re.findall(r'nonce="([^"]+)"', html))
        assert len(page_nonces) == 1
        assert f"'nonce-{next(iter(page_nonces))}'" in answer["Content-Security-Policy"]
        page_tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
        assert len(page_tokens) == 1
        secret = answer.wsgi_request.META["CSRF_COOKIE"]
        assert _unmask_cipher_token(next(iter(page_tokens))) == secret
        nonces |= page_nonces
        tokens |= page_tokens

    assert all(is_warm(answer) for answer in answers)
    assert len(nonces) == len(tokens) == 2


def test_a_kept_page_still_posts_past_csrf(alices_page, atomic):
    browser = alices_page
    browser.handler.enforce_csrf_checks = True
    html = drawn_then_warm(browser).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]

    response = browser.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token})

    assert response.status_code == 302


def test_one_persons_page_is_never_served_to_another(alice, bob, alices_page):
    with_accounts(bob, "accounts/messy")
    bobs = signed_in(bob)

    alices = drawn_then_warm(alices_page).content.decode()
    bobs_first, bobs_warm = bobs.get("/"), bobs.get("/")

    assert "Hulu" in alices and "Insurer" not in alices
    for answer in (bobs_first, bobs_warm):
        html = answer.content.decode()
        assert "Insurer" in html and "Hulu" not in html
        assert "bob" in html and "alice" not in html
    assert bobs_first.templates and is_warm(bobs_warm)


def test_a_page_kept_in_one_language_is_not_served_in_another(alice, alices_page):
    assert "Your bills and accounts" in drawn_then_warm(alices_page).content.decode()

    alices_page.post("/i18n/setlang/", {"language": "es", "next": "/"})
    html = alices_page.get("/").content.decode()

    assert "Sus facturas y cuentas" in html
    assert "Your bills and accounts" not in html


def test_a_page_kept_in_one_time_zone_is_not_served_in_another(alice, alices_page):
    drawn_then_warm(alices_page)

    assert alices_page.post("/time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == 204
    answer = alices_page.get("/")

    assert answer.templates  # drawn again
    assert answer.wsgi_request.session["paylink_time_zone"] == "Asia/Tokyo"


def test_a_zone_chosen_elsewhere_reaches_the_page_at_the_next_sign_in(alice, alices_page):
    drawn_then_warm(alices_page)
    time_zone_set(user=alice, name="America/Lima")

    again = signed_in(alice)

    assert again.get("/").templates


@pytest.mark.parametrize(
    "write",
    [
        lambda snapshot: AccountSnapshot.objects.filter(pk=snapshot.pk).update(
            last_error="Atomic is unreachable", last_error_at=timezone.now()
        ),
        lambda snapshot: accounts_store(
            profile=snapshot.profile, payload=atomic_json("accounts/messy")
        ),
        lambda snapshot: snapshot.delete(),
    ],
    ids=["an update", "a sync storing new data", "a deletion"],
)
def test_any_write_to_the_snapshot_retires_the_kept_page(alice, write):
    snapshot = with_accounts(alice)
    browser = signed_in(alice)
    assert is_warm(drawn_then_warm(browser))

    write(snapshot)
    answer = browser.get("/")

    assert answer.templates
    assert not is_warm(answer)


def test_asking_for_a_sync_alone_keeps_the_page(alice):
    snapshot = with_accounts(alice)
    browser = signed_in(alice)
    drawn_then_warm(browser)

    AccountSnapshot.objects.filter(pk=snapshot.pk).update(sync_requested_at=timezone.now())

    assert is_warm(browser.get("/"))


def test_a_message_waiting_is_shown_not_a_kept_page(alices_page):
    drawn_then_warm(alices_page)
    storage = CookieStorage(alices_page.get("/").wsgi_request)
    storage.add(constants.SUCCESS, "Your settings were saved.")
    response = alices_page.get("/")
    storage.update(response)
    alices_page.cookies["messages"] = response.cookies["messages"].value

    answer = alices_page.get("/")

    assert "Your settings were saved." in answer.content.decode()
    assert answer.templates


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/?sort=amount", {}), ("/", {"HX-Request": "true", "HX-Target": "dashboard-body"})],
)
def test_a_filtered_page_or_htmx_is_drawn_as_before(alices_page, path, headers):
    drawn_then_warm(alices_page)

    answer = alices_page.get(path, headers=headers)

    assert answer.status_code == 200 and answer.templates


def test_how_long_ago_the_data_came_is_told_at_each_answer(alice, monkeypatch):
    snapshot = with_accounts(alice)
    AccountSnapshot.objects.filter(pk=snapshot.pk).update(
        fetched_at=timezone.now() - timedelta(minutes=5)
    )
    browser = signed_in(alice)
    assert "5\xa0minutes ago" in drawn_then_warm(browser).content.decode()

    later = timezone.now() + timedelta(minutes=10)
    # The clock, as the page's wording reads it, ten minutes on.
    monkeypatch.setattr("paylink.formatting.timezone", SimpleNamespace(now=lambda: later))
    monkeypatch.setattr("paylink.formatting.timesince", lambda value: timesince(value, later))
    answer = browser.get("/")

    assert is_warm(answer)
    assert "15\xa0minutes ago" in answer.content.decode()
