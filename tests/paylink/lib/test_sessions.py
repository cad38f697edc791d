"""A signed-in request reads its session and its user's row in one cache round trip, through the
owner's tag in the session key (paylink/lib/sessions.py), and what comes with a session serves
only the person the session names."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cached_db import SessionStore as DjangoStore
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from paylink.lib.auth_backend import user_cache_key
from paylink.lib.row_cache import row_dump
from paylink.lib.sessions import SessionStore, owner_tag
from tests.cache_calls import cache_calls_counted

pytestmark = pytest.mark.django_db

BACKEND = "paylink.lib.auth_backend.CachedUserBackend"


def who(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username())


urlpatterns = [path("who/", who), path("", include("hubsite.urls"))]


@pytest.fixture(autouse=True)
def these_urls(settings):
    settings.ROOT_URLCONF = __name__


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user, backend=BACKEND)
    # Signing in marks the cached row as changed for a few seconds; as if they had passed.
    cache.delete(user_cache_key(user.pk))
    assert browser.get("/who/").content == user.username.encode()  # caches the row
    return browser


def session_key_of(browser: Client) -> str:
    return browser.cookies["sessionid"].value


def a_session_of(user: User, *, store: type = SessionStore, key: str | None = None) -> str:
    """A session signed in as `user`, under `key` if given, as Django's login would write it."""
    session = store(key)
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if key:
        session._session_key = key
        session.save(must_create=True)
    else:
        session.create()
        session.save()
    return session.session_key


def test_a_signed_in_session_key_ends_with_its_owners_tag_not_their_id(alice):
    key = session_key_of(signed_in(alice))

    assert len(key) == 40
    assert key.endswith(f"-{owner_tag(alice.pk)}")
    assert owner_tag(alice.pk) != owner_tag(alice.pk + 1)


def test_a_signed_in_request_asks_the_cache_once(alice, monkeypatch):
    browser = signed_in(alice)
    calls = cache_calls_counted(monkeypatch)

    assert browser.get("/who/").content == b"alice"
    assert calls == ["get_many"]


def test_a_row_read_with_a_session_serves_only_the_owner_the_session_names(alice, bob):
    # A session of alice's whose key carries bob's tag (as one made under another secret key
    # would): bob's row, read with it, must not sign alice's browser in as bob.
    signed_in(bob)
    key = f"{'x' * 23}-{owner_tag(bob.pk)}"
    a_session_of(alice, key=key)
    browser = Client()
    browser.cookies["sessionid"] = key

    assert browser.get("/who/").content == b"alice"


def test_a_row_under_someone_elses_id_is_not_taken_for_theirs(alice, bob):
    browser = signed_in(alice)
    # Whatever put it there, a row whose id is not alice's is not alice.
    cache.set(user_cache_key(alice.pk), row_dump(bob))

    assert browser.get("/who/").content == b"alice"


def test_a_session_made_before_tags_still_signs_in(alice):
    browser = Client()
    browser.cookies["sessionid"] = a_session_of(alice, store=DjangoStore)

    assert browser.get("/who/").content == b"alice"


def test_signing_out_ends_the_session_the_tag_read_with(alice):
    browser = signed_in(alice)
    key = session_key_of(browser)

    browser.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = key

    assert replay.get("/who/").status_code == 302


def test_a_password_change_elsewhere_signs_the_tagged_session_out(alice):
    browser = signed_in(alice)

    alice.set_password("a-new-pass-5678")
    alice.save()

    assert browser.get("/who/").status_code == 302
