"""A page's CSRF token, masked afresh for each answer as Django's `get_token` does, faster.

Django draws the mask one character at a time from the system's random source (32 calls) and
looks each character up in its alphabet: a twentieth of a millisecond, on every page with a
form. Here the mask comes from one read of the same source (bytes past the largest multiple of
the alphabet's size are dropped, so each character is equally likely) and the lookups from a
table. The token is Django's own format, a mask and the secret shifted by it, so the CSRF
middleware checks it as any other; without a secret yet, Django's `get_token` makes one.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token

_SIZE = len(CSRF_ALLOWED_CHARS)
_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# The largest multiple of the alphabet's size a byte can hold: bytes below it map evenly.
_EVEN = 256 - 256 % _SIZE


def _mask() -> list[int]:
    found: list[int] = []
    while len(found) < CSRF_SECRET_LENGTH:
        found += [byte % _SIZE for byte in secrets.token_bytes(48) if byte < _EVEN]
    return found[:CSRF_SECRET_LENGTH]


def csrf_token(request: HttpRequest) -> str:
    """What `django.middleware.csrf.get_token` returns: the secret masked anew, the cookie
    marked to be sent again (its expiry renewed)."""
    secret = request.META.get("CSRF_COOKIE")
    if (
        not isinstance(secret, str)
        or len(secret) != CSRF_SECRET_LENGTH
        or not all(char in _INDEX for char in secret)
    ):
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _mask()
    chars = CSRF_ALLOWED_CHARS
    cipher = "".join(chars[(_INDEX[s] + m) % _SIZE] for s, m in zip(secret, mask, strict=True))
    return "".join(chars[m] for m in mask) + cipher
