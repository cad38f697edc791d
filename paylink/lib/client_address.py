"""The client's address, read through the proxies the deployment says it trusts, and no others.

`X-Forwarded-For` is written by whoever sent the request: a client can put anything at its
start. Only the entries appended by our own proxies (at its end) are facts, so the address is
counted from the right, and only when the request came from one of them: the proxies are named
by their addresses (PAYLINK_TRUSTED_PROXIES, CIDR ranges), never only counted. A count alone
(PAYLINK_TRUSTED_PROXY_COUNT) would believe the header from anyone who reaches the host
directly, so it is honoured only from a peer inside the named ranges, and the system check
refuses it without them outside debug. With no ranges, the socket's peer is the client and no
header is read at all.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from ipware import get_client_ip

UNKNOWN = "unknown"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_networks(ranges: tuple[str, ...]) -> tuple[_Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in ranges)
    except ValueError as error:
        raise ImproperlyConfigured(f"PAYLINK_TRUSTED_PROXIES: {error}") from error


def _within(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _through_trusted_ranges(peer: str, forwarded: str, networks: tuple[_Network, ...]) -> str:
    # Walk back from the peer while each hop is one of our proxies; the first hop that is not
    # ours is the client. A client's own entries further left are never reached.
    current = peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    while _within(current, networks) and hops:
        current = hops.pop()
    return current


def client_address(request: HttpRequest) -> str:
    """The address throttles and rate limits count against; never a value a client chose."""
    peer = request.META.get("REMOTE_ADDR", "") or UNKNOWN
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not settings.PAYLINK_TRUSTED_PROXIES or not forwarded:
        return peer
    networks = _trusted_networks(tuple(settings.PAYLINK_TRUSTED_PROXIES))
    if not _within(peer, networks):
        # Not one of our proxies: its header is its own say-so, whatever the count.
        return peer
    proxies = settings.PAYLINK_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        address = _through_trusted_ranges(peer, forwarded, networks)
        # Garbage where an address should be means the header cannot be used: count the peer.
        return address if _is_address(address) else peer
    # ipware counts the proxies listed in the header; the nearest one is the peer, not listed.
    listed, _routable = get_client_ip(
        request,
        proxy_count=proxies - 1,
        request_header_order=["HTTP_X_FORWARDED_FOR"],
        strict=False,
    )
    # A header with fewer hops than configured proxies was not written by them: use the peer.
    return listed or peer


def address_bucket(address: str) -> str:
    """What limits count against: the address, or for IPv6 its /64.

    One IPv6 subscriber is usually handed a whole /64, so counting single addresses there
    would give a guesser billions of fresh counters.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
