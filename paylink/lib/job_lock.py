"""One run of a periodic job at a time, across every worker on every machine.

A lock in the shared cache (Redis, or the database cache table): `cache.add` stores the key
only when it is absent, atomically on both. The lock expires on its own, so a worker killed
mid-job holds it at most `expires` seconds; the holder's token guards the release, so a run
that overran its lock never frees the one a newer run took. (A per-process cache would make
the lock per-process; the deployment checks refuse one outside debug.)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


def _key(name: str) -> str:
    return f"paylink:job-lock:{name}"


@contextmanager
def job_lock(*, name: str, expires: int) -> Iterator[bool]:
    """Hold the lock named `name` for the block; yields False when another run holds it."""
    token = secrets.token_hex(16)
    acquired = cache.add(_key(name), token, timeout=expires)
    try:
        yield acquired
    finally:
        # Not atomic (no compare-and-delete in Django's cache API), but the window is one
        # round trip, against a lock that only expires after `expires` seconds.
        if acquired and cache.get(_key(name)) == token:
            cache.delete(_key(name))
