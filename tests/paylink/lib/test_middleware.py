"""The request-wide middleware made cheaper (paylink/lib/middleware.py) still answers exactly as
Django's and django_otp's would: a nonce per answer in the policy and the page alike, signed-in
answers never stored, messages kept until shown, the admin's code asked for on the admin."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.contrib.messages.storage import default_storage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP, build_policy
from django.views.decorators.csp import csp_override

from paylink.lib.auth_backend import user_cache_key
from paylink.lib.middleware import NEVER_CACHE, csp_policy
from tests.paylink.conftest import staff_login_with_code

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, "https://cdn.example/sdk.js"],
    "img-src": {CSP.SELF, "data:"},
    "upgrade-insecure-requests": True,
    "object-src": [CSP.NONE],
}


@login_not_required
def page_with_nonce(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f'<script nonce="{request._csp_nonce}"></script>')  # type: ignore[attr-defined]


@login_not_required
def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@login_not_required
def with_its_own_caching(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok")
    response["Cache-Control"] = "max-age=60"
    return response


@login_not_required
def adds_a_message(request: HttpRequest) -> HttpResponse:
    messages.success(request, "Saved.")
    return HttpResponse("ok")


@login_not_required
def shows_messages(request: HttpRequest) -> HttpResponse:
    return HttpResponse(" | ".join(str(m) for m in messages.get_messages(request)))


@login_not_required
@csp_override({"default-src": [CSP.NONE]})
def own_policy(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("nonce/", page_with_nonce),
    path("plain/", plain),
    path("cached/", with_its_own_caching),
    path("add/", adds_a_message),
    path("show/", shows_messages),
    path("own-policy/", own_policy),
    path("", include("hubsite.urls")),
]


@pytest.fixture(autouse=True)
def these_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("nonce", ["abc123", None])
def test_a_policy_built_ahead_is_the_one_django_builds(nonce):
    assert csp_policy(POLICY, nonce) == build_policy(POLICY, nonce)


def test_each_answer_gets_its_own_nonce_in_the_policy_and_the_page(client):
    nonces = []
    for _ in range(2):
        response = client.get("/nonce/")
        in_page = re.search(r'nonce="([^"]+)"', response.content.decode())[1]
        assert f"'nonce-{in_page}'" in response["Content-Security-Policy"]
        nonces.append(in_page)

    assert nonces[0] != nonces[1]


def test_an_answer_that_used_no_nonce_names_none(client, settings):
    policy = client.get("/plain/")["Content-Security-Policy"]

    assert "nonce-" not in policy
    assert policy == build_policy(settings.SECURE_CSP)


def test_a_changed_setting_changes_the_policy(client, settings):
    settings.SECURE_CSP = {"default-src": [CSP.SELF], "script-src": [CSP.SELF, CSP.NONCE]}

    policy = client.get("/plain/")["Content-Security-Policy"]

    assert policy == "default-src 'self'; script-src 'self'"


def test_a_views_own_policy_wins(client):
    assert client.get("/own-policy/")["Content-Security-Policy"] == "default-src 'none'"


def test_a_signed_in_answer_carries_what_django_would_write(alice_client):
    response = alice_client.get("/plain/")
    expected = HttpResponse()
    add_never_cache_headers(expected)

    assert response["Cache-Control"] == expected["Cache-Control"] == NEVER_CACHE
    assert "Expires" in response


def test_a_views_own_caching_is_overruled_for_a_signed_in_person(alice_client):
    cache_control = alice_client.get("/cached/")["Cache-Control"]

    assert "no-store" in cache_control
    assert "max-age=0" in cache_control


def test_a_message_is_kept_until_it_is_shown(alice_client):
    alice_client.get("/add/")
    alice_client.get("/plain/")  # reads no message: keeps them

    assert alice_client.get("/show/").content == b"Saved."
    assert alice_client.get("/show/").content == b""


def test_the_message_storage_is_made_only_for_a_request_that_uses_it(alice_client, monkeypatch):
    from paylink.lib import middleware

    made = []
    monkeypatch.setattr(
        middleware, "default_storage", lambda request: made.append(request.path) or storage(request)
    )
    storage = default_storage

    response = alice_client.get("/plain/")
    alice_client.get("/add/")

    assert made == ["/add/"]
    assert "messages" not in response.cookies


def test_outside_the_admin_a_staff_session_looks_up_no_code_device(db, django_assert_num_queries):
    sam = User.objects.create_superuser("sam", password="sam-pass-1234")
    browser = staff_login_with_code(Client(), sam)
    # Signing in marked the cached row as changed; as if the marker had lapsed.
    cache.delete(user_cache_key(sam.pk))
    browser.get("/plain/")  # the row is cached

    with django_assert_num_queries(0):
        assert browser.get("/plain/").status_code == 200


def test_on_the_admin_the_code_device_is_still_asked_for(db):
    sam = User.objects.create_superuser("sam", password="sam-pass-1234")
    browser = staff_login_with_code(Client(), sam)

    assert browser.get("/admin/").status_code == 200
    assert Client(enforce_csrf_checks=False).get("/admin/").status_code == 302
    sam_without_code = Client()
    sam_without_code.force_login(sam)
    assert sam_without_code.get("/admin/").status_code == 302
