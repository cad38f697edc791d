"""Failed sign-ins, counted per username and per client address in the shared cache.

Both counters live in the cache every host instance shares, so the limit holds across
processes and machines. Keys are hashed: usernames and addresses never appear in them.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class LoginBlock:
    minutes_left: int

    @property
    def message(self) -> str:
        unit = "minute" if self.minutes_left == 1 else "minutes"
        return f"Too many failed sign-in attempts. Try again in {self.minutes_left} {unit}."


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()
    return f"paylink:login-fail:{scope}:{digest}"


def _keys(*, username: str, address: str) -> list[str]:
    return [_key("user", username.strip().casefold()), _key("addr", address)]


def client_address(request: HttpRequest) -> str:
    """The peer address. Behind a proxy, configure it to set REMOTE_ADDR, never trust headers."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def login_block_check(*, username: str, address: str) -> LoginBlock | None:
    """A block when either the username or the address has used up its failures."""
    now = time.time()
    for key in _keys(username=username, address=address):
        state = cache.get(key)
        if state and state["count"] >= MAX_FAILURES:
            seconds_left = max(state["started"] + WINDOW_SECONDS - now, 0)
            if seconds_left > 0:
                return LoginBlock(minutes_left=max(1, math.ceil(seconds_left / 60)))
    return None


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed sign-in against the username and the address."""
    now = time.time()
    for key in _keys(username=username, address=address):
        # A fixed window starting at the first failure; the count rides in the same entry.
        # get-then-set can lose a count when two attempts race, letting one extra try
        # through; `incr` would not, but the database cache's `incr` resets the timeout.
        state = cache.get(key) or {"count": 0, "started": now}
        if state["started"] + WINDOW_SECONDS <= now:
            state = {"count": 0, "started": now}
        state["count"] += 1
        remaining = max(1, int(state["started"] + WINDOW_SECONDS - now))
        cache.set(key, state, timeout=remaining)


def login_success_record(*, username: str) -> None:
    """The right password clears that username's count, never the address's."""
    cache.delete(_key("user", username.strip().casefold()))
