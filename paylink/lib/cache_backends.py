"""The shared cache as pages use it: Redis when it answers, a miss when it does not.

Everything the host keeps in the default cache can be rebuilt (rendered dashboard fragments,
cached task rows, the once-per-window claims on Atomic's status endpoint, job locks), so a
Redis that cannot be reached must cost a page its shortcut, not its answer: a read is a miss, a
write is skipped, and an `add` (a claim or a lock) is refused, so nothing that should happen
once happens twice. Counters are another matter: the sign-in throttle and rate limits live in
the `throttle` alias, a plain RedisCache, and fail closed (paylink/lib/rate_limits.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from paylink.lib.outage import CACHE_ERRORS

logger = logging.getLogger(__name__)

# At most one warning per this many seconds per process while Redis is away.
_WARN_EVERY = 10.0
_last_warning = 0.0


def _unreachable(operation: str, error: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY:
        _last_warning = now
        logger.warning("cache unreachable (%s served without it): %s", operation, error)


class _KeptClient(RedisCacheClient):
    """Django's client makes a new redis-py client for every cache call, and redis-py fills a
    table of some 170 reply handlers into each: a tenth of a millisecond a call, several calls a
    signed-in request. One is kept per connection pool instead; threads share it safely, as each
    command takes a connection of its own from the pool.

    Reads (`get`, `get_many`: every signed-in request's session read among them) go further:
    each thread sends them on a connection of its own, kept, without redis-py's pool (a lock,
    a readiness poll and four metric updates per command), its retries or its timings: half the
    client's time for a read. A read that fails drops the connection (the next one connects
    anew) and raises, which the cache below answers as a miss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}
        self._reader = threading.local()

    def _read(self, *command: Any) -> Any:
        reader = getattr(self._reader, "connection", None)
        if reader is None or self._reader.pid != os.getpid():
            pool = self._get_connection_pool(False)  # type: ignore[attr-defined]  # Django's, not in the stubs
            reader = pool.connection_class(**pool.connection_kwargs)
            self._reader.connection, self._reader.pid = reader, os.getpid()
        try:
            reader.send_command(*command)
            return reader.read_response()
        except BaseException:
            reader.disconnect()
            raise

    def get(self, key: Any, default: Any) -> Any:
        value = self._read("GET", key)
        return default if value is None else self._serializer.loads(value)  # type: ignore[attr-defined]  # Django's

    def get_many(self, keys: Any) -> dict[Any, Any]:
        keys = list(keys)
        if not keys:
            return {}
        values = self._read("MGET", *keys)
        loads = self._serializer.loads  # type: ignore[attr-defined]  # Django's
        return {k: loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Both are the private parts of Django's client that its own get_client uses.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # not in the stubs
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]  # not in the stubs
        return client


class TolerantRedisCache(RedisCache):
    """RedisCache whose reads miss and whose writes are skipped while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClient

    def validate_key(self, key: Any) -> None:
        # Django warns of keys memcached would refuse, a character at a time; Redis takes any.
        pass

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except CACHE_ERRORS as error:
            _unreachable("get", error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except CACHE_ERRORS as error:
            _unreachable("get_many", error)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except CACHE_ERRORS as error:
            _unreachable("has_key", error)
            return False

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except CACHE_ERRORS as error:
            # Refused: a claim or a lock nobody can see must not be taken as granted.
            _unreachable("add", error)
            return False

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except CACHE_ERRORS as error:
            _unreachable("set", error)

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except CACHE_ERRORS as error:
            _unreachable("set_many", error)
            return list(data)

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except CACHE_ERRORS as error:
            _unreachable("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except CACHE_ERRORS as error:
            _unreachable("delete_many", error)
