"""Sessions from the shared cache, read in the same round trip as what the request needs next.

Django's cached_db store (the cache in front of the session table), with one change: the key of
a session that belongs to someone ends with a tag of its owner (`<random>-<tag>`, the tag a
keyed digest of the user id, never the id), so the rows a signed-in request reads right after
its session (the user's cached row, and on some pages more: `prefetch_register`) are asked for
in the same `get_many` as the session itself. A signed-in request then costs one cache round
trip to know who it is, not two.

The tag is only a hint of what to fetch. What was fetched with a session is used only once the
session, as read, names an owner whose tag is that one; a key without a tag (a session from
before, or nobody's) is read as Django reads it, and every row keeps its own checks (the user's
password hash against the session's, a page's full key against the request).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, user_logged_in
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.middleware import SessionMiddleware
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import get_random_string

# The session table's key column holds 40 characters: a random part, a dash, the tag.
_TAG_CHARS = 16
_RANDOM_CHARS = 40 - 1 - _TAG_CHARS
# Not cached: the one value that fetched nothing is told apart from one that was not asked.
NOT_ASKED: Any = object()

# Each gives the cache keys a request wants read with its session, from the owner's tag.
Prefetch = Callable[[HttpRequest, str], list[str]]
_PREFETCHES: list[Prefetch] = []


def owner_tag(user_id: object) -> str:
    """The tag of a user in their session keys and the cache keys read with them."""
    return _tag(settings.SECRET_KEY, str(user_id))


@functools.lru_cache(maxsize=4096)
def _tag(secret: str, user_id: str) -> str:
    # Kept: a signed-in request asks for its owner's tag several times.
    digest = hmac.new(secret.encode(), f"session-owner:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_TAG_CHARS]


def prefetch_register(prefetch: Prefetch) -> None:
    """Ask for more keys with the sessions of the requests `prefetch` picks (it returns none
    for the others); what it asks for is read back with `prefetched`."""
    if prefetch not in _PREFETCHES:
        _PREFETCHES.append(prefetch)


def prefetched(request: HttpRequest, key: str) -> Any:
    """What the cache held under `key` when the session was read (None: nothing), or NOT_ASKED
    when it was not read with the session (then the caller reads it itself)."""
    session = getattr(request, "session", None)
    if not isinstance(session, SessionStore):
        return NOT_ASKED
    return session.prefetched(key)


def _tag_of(session_key: str | None) -> str | None:
    if session_key and len(session_key) == 40 and session_key[_RANDOM_CHARS] == "-":
        return session_key[_RANDOM_CHARS + 1 :]
    return None


class SessionStore(CachedDBStore):
    """cached_db's store, whose owned sessions' keys carry their owner's tag."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        # Set by the middleware: the request whose session this is, for the prefetches.
        self.request: HttpRequest | None = None
        self._fetched: dict[str, Any] = {}

    def _get_new_session_key(self) -> str:
        owner = getattr(self, "_session_cache", {}).get(SESSION_KEY)
        if owner is None:
            return super()._get_new_session_key()  # type: ignore[misc]  # Django's, not in the stubs
        tag = owner_tag(owner)
        while True:
            key = f"{get_random_string(_RANDOM_CHARS, VALID_KEY_CHARS)}-{tag}"
            if not self.exists(key):
                return key

    def _wanted(self, tag: str) -> list[str]:
        from paylink.lib.auth_backend import user_cache_key_for_tag

        keys = [user_cache_key_for_tag(tag)]
        if self.request is not None:
            for prefetch in _PREFETCHES:
                keys += prefetch(self.request, tag)
        return keys

    def load(self) -> dict[str, Any]:
        tag = _tag_of(self.session_key)
        if tag is None:
            return super().load()
        wanted = self._wanted(tag)
        try:
            found = self._cache.get_many([self.cache_key, *wanted])  # type: ignore[attr-defined]  # cached_db's, not in the stubs
        except Exception:
            # As cached_db's load: a key the backend refuses resets the session.
            found = {}
        data = found.get(self.cache_key)
        if data is None:
            # The table behind, as cached_db reads it on a miss.
            row = self._get_session_from_db()  # type: ignore[attr-defined]  # the db store's, not in the stubs
            if row is None:
                return {}
            data = self.decode(row.session_data)
            expiry = self.get_expiry_age(expiry=row.expire_date)
            self._cache.set(self.cache_key, data, expiry)  # type: ignore[attr-defined]  # as above
        owner = data.get(SESSION_KEY)
        if owner is not None and hmac.compare_digest(owner_tag(owner), tag):
            self._fetched = {key: found.get(key) for key in wanted}
        return data

    def prefetched(self, key: str) -> Any:
        # Read (with what comes with it) if it was not yet.
        self._get_session()  # type: ignore[attr-defined]  # Django's, not in the stubs
        return self._fetched.get(key, NOT_ASKED)

    def flush(self) -> None:
        self._fetched = {}
        super().flush()


class PrefetchingSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, telling the session which request it serves (the
    prefetches choose their keys by it)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        if isinstance(request.session, SessionStore):
            request.session.request = request


@receiver(user_logged_in, dispatch_uid="paylink-session-key-names-its-owner")
def _owned_key_at_sign_in(
    sender: object, request: HttpRequest | None, user: Any, **kwargs: object
) -> None:
    # Django made a new key before the session had an owner; one that carries the owner's tag
    # is made now, so the person's next requests read their session and row together.
    session = getattr(request, "session", None)
    if isinstance(session, SessionStore) and _tag_of(session.session_key) is None:
        session.cycle_key()
