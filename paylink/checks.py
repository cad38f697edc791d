"""System checks that stop a deployment whose throttle counters could vanish, and warn when
emailed links would point at this machine."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning

from paylink.rate_limits import THROTTLE_CACHE

# Each of these loses counters: per process (every worker counts alone, a restart forgets),
# not at all, or culled by count once the table grows.
_UNFIT_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps counts per process",
    "django.core.cache.backends.dummy.DummyCache": "keeps nothing",
    "django.core.cache.backends.db.DatabaseCache": "culls entries as it fills",
    "django.core.cache.backends.filebased.FileBasedCache": "culls entries as it fills",
}


@register()
def throttle_cache_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Outside debug, the `throttle` cache must be shared and must not evict (Redis)."""
    if settings.DEBUG or settings.TESTING:
        return []
    backend = settings.CACHES.get(THROTTLE_CACHE, {}).get("BACKEND", "")
    reason = _UNFIT_BACKENDS.get(backend)
    if reason is None:
        return []
    return [
        Error(
            f"The '{THROTTLE_CACHE}' cache uses {backend.rsplit('.', 1)[-1]}, which {reason}: "
            "sign-in throttles and rate limits would not hold.",
            hint="Set THROTTLE_CACHE_URL (or CACHE_URL) to a Redis URL whose maxmemory-policy "
            "is noeviction, e.g. redis://127.0.0.1:6379/2.",
            id="paylink.E001",
        )
    ]


@register()
def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    """Outside debug, reminder emails and calendar feeds need the host's public address."""
    if settings.DEBUG or settings.TESTING or settings.SIMULATOR_MODE:
        return []
    host = urlsplit(settings.PAYLINK_SITE_URL).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1", ""}:
        return []
    return [
        CheckWarning(
            f"PAYLINK_SITE_URL is {settings.PAYLINK_SITE_URL}: links in reminder emails and "
            "calendar feeds would point at this machine.",
            hint="Set PAYLINK_SITE_URL to the address people use, e.g. https://hub.example.com.",
            id="paylink.W001",
        )
    ]
