"""The throttle cache check: outside debug, counters must live where they are never evicted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def _throttle_backend(**env: str) -> str:
    """The throttle cache's backend and location, as settings read from `env` alone."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "ATOMIC_", "PAYLINK_", "CACHE_URL", "THROTTLE_"))
    }
    clean |= {"DJANGO_DEBUG": "true", **env}
    code = (
        "import hubsite.settings as s; t = s.CACHES['throttle']; print(t['BACKEND'], t['LOCATION'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent.parent,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "django.core.cache.backends.locmem.LocMemCache paylink-throttle"),
        (
            {"CACHE_URL": "redis://127.0.0.1:6379/1"},
            "django.core.cache.backends.redis.RedisCache redis://127.0.0.1:6379/1",
        ),
        (
            {
                "CACHE_URL": "redis://127.0.0.1:6379/1",
                "THROTTLE_CACHE_URL": "redis://10.0.0.5:6379/2",
            },
            "django.core.cache.backends.redis.RedisCache redis://10.0.0.5:6379/2",
        ),
        (
            {"CACHE_URL": "dbcache://paylink_cache"},
            "django.core.cache.backends.locmem.LocMemCache paylink-throttle",
        ),
    ],
)
def test_the_throttle_cache_is_redis_when_one_is_configured(env, expected):
    assert _throttle_backend(**env) == expected
