"""The sign-in throttle: per (username, address) pair and per address, never per username alone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from unittest import mock

import pytest
from django.core.cache import cache, caches
from django.db import connections
from django.test import Client

from paylink.lib.login_throttle import login_attempt_begin

pytestmark = pytest.mark.django_db

BLOCKED = b"Too many failed sign-in attempts. Try again in"
PROXY = "10.0.0.254"


def _login(client: Client, username: str, password: str, *, address: str = "10.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def _via_proxy(client: Client, username: str, password: str, *, forwarded: str):
    return _login(client, username, password, address=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_five_failures_block_that_username_from_that_address_with_429_and_retry_after(
    client, alice
):
    for _ in range(5):
        response = _login(client, "alice", "wrong")
        assert response.status_code == 200
        assert BLOCKED not in response.content
    response = _login(client, "alice", "alice-pass-1234")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts. Try again in 15 minutes." in response.content
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session


def test_failures_from_many_addresses_never_block_the_right_password_from_another(client, alice):
    for attempt in range(40):
        _login(client, "alice", "wrong", address=f"10.0.{attempt // 5}.{attempt % 5 + 1}")
    assert _login(client, "alice", "alice-pass-1234", address="10.9.9.9").status_code == 302


def test_an_attacker_behind_the_proxy_cycling_usernames_cannot_lock_out_alice(
    client, alice, settings
):
    settings.PAYLINK_TRUSTED_PROXIES = ["10.0.0.0/16"]
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 1
    tried: Counter[str] = Counter()
    for attempt in range(60):
        # The attacker also forges entries on the left; the proxy appends its true address.
        username = ["alice", f"guess{attempt}"][attempt % 2]
        response = _via_proxy(
            client, username, "wrong", forwarded=f"198.51.100.{attempt}, 203.0.113.66"
        )
        if response.status_code != 429:
            tried["alice" if username == "alice" else "others"] += 1
    # Five guesses at alice (the pair's limit), and 19 more usernames until the address has
    # seen 20 fail; then every new username's try is refused.
    assert tried == {"alice": 5, "others": 19}
    response = _via_proxy(client, "alice", "alice-pass-1234", forwarded="192.0.2.10")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_without_a_trusted_proxy_forwarded_headers_do_not_spread_the_count(client, alice):
    for attempt in range(25):
        _login(client, f"guess{attempt}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")
    response = _login(client, "alice", "alice-pass-1234", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


def test_twenty_failures_block_the_address_for_every_username(client, alice):
    for attempt in range(20):
        assert _login(client, f"guess{attempt}", "wrong", address="10.6.6.6").status_code == 200
    response = _login(client, "alice", "alice-pass-1234", address="10.6.6.6")
    assert response.status_code == 429
    assert BLOCKED in response.content
    assert _login(client, "alice", "alice-pass-1234", address="10.1.1.1").status_code == 302


def test_a_success_does_not_reset_the_address_counter(client, alice):
    for attempt in range(19):
        _login(client, f"guess{attempt}", "wrong", address="10.6.6.6")
    assert _login(client, "alice", "alice-pass-1234", address="10.6.6.6").status_code == 302
    client.post("/accounts/logout/")
    _login(client, "guess99", "wrong", address="10.6.6.6")
    assert _login(client, "alice", "alice-pass-1234", address="10.6.6.6").status_code == 429


def test_a_success_gives_the_pair_a_fresh_start(client, alice):
    for _ in range(4):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", "alice-pass-1234").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "alice-pass-1234").status_code == 302


def test_the_block_lifts_after_the_window(client, alice):
    start = time.time()
    with mock.patch("time.time", return_value=start):
        for _ in range(5):
            _login(client, "alice", "wrong")
        assert _login(client, "alice", "alice-pass-1234").status_code == 429
    with mock.patch("time.time", return_value=start + 900 - 90):
        response = _login(client, "alice", "alice-pass-1234")
        assert b"Try again in 2 minutes." in response.content
        assert response["Retry-After"] == "90"
    with mock.patch("time.time", return_value=start + 900 + 1):
        assert _login(client, "alice", "alice-pass-1234").status_code == 302


def test_concurrent_guesses_cannot_take_more_than_the_limit():
    barrier = threading.Barrier(16)
    outcomes: list[bool] = []

    def guess() -> None:
        barrier.wait()
        outcomes.append(login_attempt_begin(username="alice", address="10.3.3.3") is None)

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 5
    assert outcomes.count(False) == 11


def test_routine_writes_to_the_default_cache_do_not_evict_the_counters(client, alice):
    for _ in range(5):
        _login(client, "alice", "wrong")
    for number in range(400):
        cache.set(f"routine:{number}", "x" * 100)
    assert _login(client, "alice", "alice-pass-1234").status_code == 429


def test_throttle_keys_never_hold_the_username_or_address(client):
    _login(client, "carol-secret-name", "wrong", address="10.4.4.4")
    keys = list(caches["throttle"]._cache.keys())
    assert keys
    assert not any("carol" in key or "10.4.4.4" in key for key in keys)


def test_the_admin_login_shares_the_sign_in_throttle(client, settings, django_user_model):
    settings.PAYLINK_ADMIN_REQUIRE_OTP = False
    django_user_model.objects.create_superuser("sam", password="sam-pass-1234")
    for _ in range(5):
        response = client.post(
            "/admin/login/", {"username": "sam", "password": "wrong"}, REMOTE_ADDR="10.7.7.7"
        )
        assert response.status_code == 200
    # Blocked on the site's sign-in page, and the admin's right password is refused as well.
    assert _login(client, "sam", "sam-pass-1234", address="10.7.7.7").status_code == 429
    response = client.post(
        "/admin/login/", {"username": "sam", "password": "sam-pass-1234"}, REMOTE_ADDR="10.7.7.7"
    )
    assert response.status_code == 429
    assert BLOCKED in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_wrong_passwords_get_five_password_checks(alice):
    from django.contrib.auth import forms as auth_forms

    checked: list[str] = []
    real_authenticate = auth_forms.authenticate

    def counting_authenticate(*args, **kwargs):
        checked.append(kwargs.get("username", ""))
        return real_authenticate(*args, **kwargs)

    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def guess() -> None:
        barrier.wait()
        try:
            statuses.append(_login(Client(), "alice", "wrong", address="10.3.3.3").status_code)
        finally:
            # Each thread opened its own connection; left open, it outlives the test database.
            connections.close_all()

    with mock.patch.object(auth_forms, "authenticate", counting_authenticate):
        threads = [threading.Thread(target=guess) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(checked) == 5
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_ten_reset_requests_for_one_email_send_three_mails(client, alice):
    from django.core import mail

    for attempt in range(10):
        client.post(
            "/accounts/password_reset/",
            {"email": "alice@example.com"},
            REMOTE_ADDR=f"10.9.0.{attempt}",
        )
    assert len(mail.outbox) == 3


def test_an_attacker_hopping_through_one_ipv6_64_is_one_address(client, alice):
    for attempt in range(20):
        _login(client, f"guess{attempt}", "wrong", address=f"2001:db8:1:2::{attempt + 1:x}")
    assert _login(client, "alice", "alice-pass-1234", address="2001:db8:1:2::ff").status_code == 429
    assert _login(client, "alice", "alice-pass-1234", address="2001:db8:1:3::1").status_code == 302


def test_an_office_behind_one_address_mistyping_its_own_passwords_is_not_locked_out(client, alice):
    # Ten people behind one NAT each mistype three times: 30 failures, past the address's 20.
    for person in range(10):
        for _ in range(3):
            assert _login(client, f"colleague{person}", "wrong").status_code == 200
    # Each drew on the address once (their first failure), the rest on their own pair, so the
    # office has used 10 of its 20 usernames: alice signs in, and a colleague may try again.
    assert _login(client, "alice", "alice-pass-1234").status_code == 302
    client.logout()
    assert _login(client, "colleague3", "wrong").status_code == 200


def test_a_successful_sign_in_gives_back_the_addresss_request_budget(client, alice, settings):
    settings.PAYLINK_RATE_LIMITS = {**settings.PAYLINK_RATE_LIMITS, "sign_in": "3/900"}
    for _ in range(5):
        response = _login(client, "alice", "alice-pass-1234")
        assert response.status_code == 302
        client.logout()
    # Failures still count: three, then the budget is spent.
    for _ in range(3):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "alice-pass-1234").status_code == 429


def test_the_right_password_gives_back_the_addresss_try_only_when_it_took_one(client, alice):
    # Two failures, then success: the address was charged once (the first failure) and keeps
    # that; the successful try took nothing from it.
    for username in ("bob", "alice", "alice"):
        _login(client, username, "wrong")
    assert _login(client, "alice", "alice-pass-1234").status_code == 302
    client.logout()
    from paylink.lib.rate_limits import counter_peek

    seen = counter_peek(scope="login-addr", value="10.0.0.1", window=900)
    assert seen.count == 2
