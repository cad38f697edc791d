"""Outages of what the host stands on (the database, Redis), told apart from bugs.

A request that meets one answers 503 with a sentence in the person's language and a
Retry-After, never Django's bare "Server Error (500)": paylink/views/errors.py for any request,
the rate limits for what must fail closed (sign-in), and the shared cache's own backend for
what only needs the cache (paylink/lib/cache_backends.py: a miss, not an error).
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Seconds a client is told to wait before trying again.
RETRY_AFTER = 30

DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)
OUTAGE_ERRORS = DATABASE_ERRORS + CACHE_ERRORS

UNAVAILABLE = _(
    "Billfold is briefly unavailable: part of the service cannot be reached. Nothing "
    "you saved was lost. Please try again in a minute."
)
SIGN_IN_UNAVAILABLE = _(
    "Signing in is paused for a moment: the service that protects accounts from password "
    "guessing cannot be reached. Please try again in a minute."
)


def is_outage(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is the database or Redis being unreachable."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OUTAGE_ERRORS):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
