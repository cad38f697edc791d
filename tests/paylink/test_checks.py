"""The throttle cache check: outside debug, counters must live where they are never evicted."""

from __future__ import annotations

import pytest

from paylink.checks import throttle_cache_check


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.db.DatabaseCache",
    ],
)
def test_an_evicting_or_per_process_throttle_cache_is_refused_outside_debug(settings, backend):
    settings.DEBUG = False
    settings.TESTING = False
    settings.CACHES = {**settings.CACHES, "throttle": {"BACKEND": backend}}
    errors = throttle_cache_check()
    assert [error.id for error in errors] == ["paylink.E001"]
    assert "THROTTLE_CACHE_URL" in errors[0].hint


def test_redis_is_accepted_outside_debug(settings):
    settings.DEBUG = False
    settings.TESTING = False
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    settings.CACHES = {**settings.CACHES, "throttle": redis}
    assert throttle_cache_check() == []


def test_debug_may_count_in_memory(settings):
    settings.DEBUG = True
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert throttle_cache_check() == []
