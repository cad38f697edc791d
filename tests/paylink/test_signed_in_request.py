"""A signed-in request reads no row to know who it is (its session and its user come from the
shared cache), and is as safe as before: a password change, a deactivation or a deleted
account still signs the person out at their next request."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from paylink.lib.auth_backend import user_cache_key
from paylink.services.account_deletion import sessions_delete_for_user
from tests.fresh_process import settings_value

pytestmark = pytest.mark.django_db

TRIVIAL = "/bench/trivial/"


@pytest.fixture(autouse=True)
def bench_urls(settings):
    # The bench's trivial login-required view: the cost of being signed in and nothing else.
    settings.ROOT_URLCONF = "bench.urls"


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    # Signing in saves the user (last_login), which marks its cached row as changed for a few
    # seconds; the marker is cleared here as if they had passed.
    cache.delete(user_cache_key(user.pk))
    assert browser.get(TRIVIAL).status_code == 200
    return browser


def test_a_signed_in_request_reads_no_row(alice, django_assert_num_queries):
    browser = signed_in(alice)

    with django_assert_num_queries(0):
        assert browser.get(TRIVIAL).status_code == 200


def test_the_user_is_kept_as_its_columns_not_a_pickled_user(alice):
    signed_in(alice)
    kept = cache.get(user_cache_key(alice.pk))
    assert isinstance(kept, dict)
    assert kept["username"] == alice.username


def test_sessions_are_read_from_the_cache_in_front_of_the_database():
    from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

    from paylink.lib.sessions import SessionStore

    assert settings.SESSION_ENGINE == "paylink.lib.sessions"
    assert issubclass(SessionStore, CachedDBStore)


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        ("redis://127.0.0.1:6379/4", "paylink.lib.sessions True"),
        ("dbcache://paylink_cache", "django.contrib.sessions.backends.db False"),
        ("locmemcache://", "django.contrib.sessions.backends.db False"),
    ],
)
def test_the_session_cache_is_used_only_where_every_process_shares_it(cache_url, engine):
    shown = settings_value(
        "s.SESSION_ENGINE, s.PAYLINK_SHARED_CACHE",
        DJANGO_DEBUG="true",
        CACHE_URL=cache_url,
    )
    assert shown == engine


def test_a_password_change_signs_other_sessions_out(alice):
    other_device = signed_in(alice)

    alice.set_password("a-new-pass-5678")
    alice.save()

    assert other_device.get(TRIVIAL).status_code == 302


def test_a_deactivated_person_is_signed_out(alice):
    browser = signed_in(alice)

    alice.is_active = False
    alice.save()

    assert browser.get(TRIVIAL).status_code == 302


def test_a_read_begun_before_a_change_does_not_cache_the_old_row(alice):
    browser = signed_in(alice)
    cache.delete(user_cache_key(alice.pk))
    alice.is_active = False
    alice.save()

    # The change left its marker: the row is read afresh, and the old one is not put back.
    assert browser.get(TRIVIAL).status_code == 302
    assert cache.get(user_cache_key(alice.pk)) == "changed"


def test_deleted_sessions_leave_the_cache_too(alice):
    browser = signed_in(alice)

    assert sessions_delete_for_user(user_id=alice.pk) == 1

    assert browser.get(TRIVIAL).status_code == 302


def test_a_wrong_password_is_checked_once(alice, monkeypatch):
    checks = []
    original = MD5PasswordHasher.verify
    monkeypatch.setattr(
        MD5PasswordHasher,
        "verify",
        lambda self, password, encoded: (
            checks.append(password) or original(self, password, encoded)
        ),
    )

    assert authenticate(username="alice", password="wrong") is None
    assert len(checks) == 1


def test_the_shared_cache_keeps_one_redis_client_per_pool():
    from paylink.lib.cache_backends import TolerantRedisCache

    cache = TolerantRedisCache("redis://127.0.0.1:1/0", {})

    # Made, not connected: redis-py connects at the first command.
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)


def test_a_cached_staff_row_still_needs_the_admins_code(db):
    sam = User.objects.create_superuser("sam", password="sam-pass-1234")
    browser = signed_in(sam)
    assert browser.get(TRIVIAL).status_code == 200  # served from the cached row

    response = browser.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_session_cookie_stays_http_only(alice, client):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-1234"})

    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    # The session itself is kept server-side, in the database behind the cache.
    assert Session.objects.filter(session_key=cookie.value).exists()
