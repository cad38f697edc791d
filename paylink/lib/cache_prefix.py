"""Deleting every entry of the shared cache whose key starts with a prefix.

Django's cache API deletes named keys only. Where a family of keys cannot be named (a person's
rendered dashboard fragments, one per version, language, day, page and filter), deleting them
means asking the backend itself: a SCAN for Redis, a LIKE for the database cache table, the
dictionary for the per-process cache of debug and tests. Each is bounded by the keys matched.
"""

from __future__ import annotations

import logging

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router

logger = logging.getLogger(__name__)


def _escaped_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def cache_delete_prefix(prefix: str) -> int:
    """Deletes the default cache's entries whose key starts with `prefix`; how many matched."""
    cache = caches["default"]
    full = cache.make_key(prefix)
    match cache:
        case RedisCache():
            client = cache._cache.get_client(write=True)
            keys = list(client.scan_iter(match=_redis_glob(full), count=1000))
            if keys:
                client.delete(*keys)
            return len(keys)
        case DatabaseCache():
            database = router.db_for_write(cache.cache_model_class)
            connection = connections[database]
            table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]  # Django's private name
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} WHERE cache_key LIKE %s ESCAPE '\\'",  # noqa: S608
                    [_escaped_like(full) + "%"],
                )
                return cursor.rowcount
        case LocMemCache():
            # Django's own lock and dict: LocMemCache has no way to list its keys.
            with cache._lock:  # type: ignore[attr-defined]  # Django's, as the comment says
                keys = [key for key in cache._cache if key.startswith(full)]  # type: ignore[attr-defined]  # same
                for key in keys:
                    cache._delete(key)  # type: ignore[attr-defined]  # same
            return len(keys)
    logger.warning("cache_delete_prefix: %s cannot list keys", type(cache).__name__)
    return 0


def _redis_glob(value: str) -> str:
    # Glob characters in the key itself are matched literally.
    escaped = "".join(f"\\{char}" if char in "*?[]\\" else char for char in value)
    return escaped + "*"
