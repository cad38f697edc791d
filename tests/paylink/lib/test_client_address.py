"""The client's address: forwarded headers count only through the proxies configured."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from paylink.lib.client_address import address_bucket, client_address


def _address(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_with_no_proxy_configured_the_peer_is_the_client_whatever_the_header_says(settings):
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 0
    settings.PAYLINK_TRUSTED_PROXIES = []
    assert _address("198.51.100.7", "203.0.113.1") == "198.51.100.7"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("203.0.113.66", "203.0.113.66"),
        # Entries a client forged sit to the left of the one our proxy appended.
        ("1.2.3.4, 203.0.113.66", "203.0.113.66"),
        ("not-an-address, 203.0.113.66", "203.0.113.66"),
        # Our proxy always writes an entry; with none, the request did not come through it.
        ("", "10.0.0.254"),
    ],
)
def test_one_trusted_proxy_means_the_last_forwarded_entry(settings, forwarded, expected):
    settings.PAYLINK_TRUSTED_PROXIES = ["10.0.0.0/16"]
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 1
    assert _address("10.0.0.254", forwarded) == expected


def test_two_trusted_proxies_skip_the_first_proxys_own_entry(settings):
    settings.PAYLINK_TRUSTED_PROXIES = ["10.0.0.0/16"]
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 2
    assert _address("10.0.0.254", "1.2.3.4, 203.0.113.66, 192.0.2.50") == "203.0.113.66"


@pytest.mark.parametrize("forwarded", ["203.0.113.66", "1.2.3.4, 203.0.113.66"])
def test_a_count_is_not_honoured_from_a_peer_outside_the_named_proxies(settings, forwarded):
    # Someone who reaches gunicorn directly names any address they like: it is not believed.
    settings.PAYLINK_TRUSTED_PROXIES = ["10.0.0.0/16"]
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 1
    assert _address("198.51.100.7", forwarded) == "198.51.100.7"


def test_a_count_without_named_proxies_reads_no_header(settings):
    settings.PAYLINK_TRUSTED_PROXIES = []
    settings.PAYLINK_TRUSTED_PROXY_COUNT = 1
    assert _address("10.0.0.254", "203.0.113.66") == "10.0.0.254"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.0.0.254", "1.2.3.4, 203.0.113.66", "203.0.113.66"),
        ("10.0.0.254", "1.2.3.4, 203.0.113.66, 10.0.1.9", "203.0.113.66"),
        # A peer outside the trusted ranges is the client; its header is its own words.
        ("198.51.100.7", "203.0.113.66", "198.51.100.7"),
        ("10.0.0.254", "1.2.3.4, junk", "10.0.0.254"),
    ],
)
def test_trusted_ranges_walk_back_through_our_proxies_only(settings, remote, forwarded, expected):
    settings.PAYLINK_TRUSTED_PROXIES = ["10.0.0.0/16"]
    assert _address(remote, forwarded) == expected


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.66", "203.0.113.66"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.66", "203.0.113.66"),
        ("unknown", "unknown"),
    ],
)
def test_ipv6_addresses_are_counted_by_their_64(address, bucket):
    assert address_bucket(address) == bucket
