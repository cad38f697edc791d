"""Failed sign-ins, counted per (username, address) pair first, then per address.

Nothing is counted per username alone: that counter is what let anyone lock anyone out. A
guesser is slowed by the pair limit on each username it tries and stopped by the address limit
across usernames; the right password from any other address is never refused.

Only failures count, and per pair first: the address is charged once for each username that
fails from it (a pair's first failure in the window), not for each failure. People behind one
office NAT who mistype their own passwords spend their own pair's allowance, not the office's;
what the address limit stops is a guesser spraying many usernames, which is what it is for.
(The per-address request budget, PAYLINK_RATE_LIMITS["sign_in"], also counts failures only: a
successful sign-in gives its request back.)

Each attempt takes its slot with an atomic increment before the password is checked, and gives
it back on success, so concurrent guesses cannot get past the limit (a check, then a record
after the password check, lets every request in flight through). Both the sign-in page and the
admin's sign-in (paylink/forms.py) come through here. Addresses come from
paylink/lib/client_address.py; counters live in the `throttle` cache (paylink/lib/rate_limits.py).

Why not django-axes: it checks for a lockout before authenticating and records the failure
afterwards, in a `user_login_failed` handler (its cache handler with get-then-set), so every
guess in flight passes the check: the race this module exists to close. It would also add a
backend, a middleware and their settings for the two counters kept here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from paylink.lib.client_address import address_bucket
from paylink.lib.rate_limits import (
    counter_clear,
    counter_hit,
    counter_peek,
    counter_undo,
    wait_phrase,
)
from paylink.observability import metrics


@dataclass(frozen=True)
class LoginBlock:
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        return gettext("Too many failed sign-in attempts. Try again in %(wait)s.") % {
            "wait": wait_phrase(self.retry_after)
        }


def _scopes(*, username: str, address: str) -> list[tuple[str, str, int]]:
    """(scope, value, allowed failures) of each counter an attempt draws on."""
    name = username.strip().casefold()
    address = address_bucket(address)
    return [
        ("login-pair", f"{name}\0{address}", settings.PAYLINK_SIGNIN_PAIR_FAILURES),
        ("login-addr", address, settings.PAYLINK_SIGNIN_ADDRESS_FAILURES),
    ]


def login_attempt_begin(*, username: str, address: str) -> LoginBlock | None:
    """Takes one try from the pair's and the address's allowance, or says why there is none.

    A refused attempt takes nothing, so hammering a block does not lengthen it.
    """
    window = settings.PAYLINK_SIGNIN_WINDOW_SECONDS
    (pair, pair_value, pair_allowed), (addr, addr_value, addr_allowed) = _scopes(
        username=username, address=address
    )
    seen_pair = counter_peek(scope=pair, value=pair_value, window=window)
    if seen_pair.count >= pair_allowed:
        metrics.refusal(kind="sign_in_throttle", scope="sign_in")
        return LoginBlock(retry_after=seen_pair.retry_after)
    if seen_pair.count == 0:
        # A username new to this address: the address's allowance decides.
        seen_addr = counter_peek(scope=addr, value=addr_value, window=window)
        if seen_addr.count >= addr_allowed:
            metrics.refusal(kind="sign_in_throttle", scope="sign_in")
            return LoginBlock(retry_after=seen_addr.retry_after)
    taken = [(counter_hit(scope=pair, value=pair_value, window=window), pair, pair_value)]
    over = [taken[0][0]] if taken[0][0].count > pair_allowed else []
    if taken[0][0].count == 1:
        # This pair's first try in the window: it draws on the address too.
        addr_hit = counter_hit(scope=addr, value=addr_value, window=window)
        taken.append((addr_hit, addr, addr_value))
        if addr_hit.count > addr_allowed:
            over.append(addr_hit)
    if over:
        # Others in flight took the last tries; give ours back and refuse.
        for _hit, scope, value in taken:
            counter_undo(scope=scope, value=value)
        metrics.refusal(kind="sign_in_throttle", scope="sign_in")
        return LoginBlock(retry_after=max(hit.retry_after for hit in over))
    return None


def login_attempt_succeeded(*, username: str, address: str) -> None:
    """The right password: the pair starts afresh, and the address gets back the try this
    attempt took from it (only a pair's first try takes one).

    The address keeps its other failures: one account's success must not wipe the count of
    guesses made at other usernames from the same place.
    """
    window = settings.PAYLINK_SIGNIN_WINDOW_SECONDS
    pair, addr = _scopes(username=username, address=address)
    charged_address = counter_peek(scope=pair[0], value=pair[1], window=window).count == 1
    counter_clear(scope=pair[0], value=pair[1])
    if charged_address:
        counter_undo(scope=addr[0], value=addr[1])
