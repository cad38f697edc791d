"""Deployment checks: `manage.py check` (and so start-up and `check --deploy`) names each
misconfiguration that would only show in production, with the setting and the fix.

General checks run on every `check` and management command; `deploy=True` ones with
`check --deploy`; the cache-table check needs the database, so only `check --database default`
(which bin/release runs) reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router
from django.db.migrations.recorder import MigrationRecorder

from paylink.lib.rate_limits import THROTTLE_CACHE

_PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
_IMMEDIATE_TASKS = "django.tasks.backends.immediate.ImmediateBackend"
_DATABASE_CACHE = "django.core.cache.backends.db.DatabaseCache"
_SIMULATOR_CREDENTIALS = {
    "ATOMIC_API_KEY": "simulator-key",
    "ATOMIC_API_SECRET": "simulator-secret",
    # Public too: a webhook signed with it would be accepted while a rotation is under way.
    "ATOMIC_API_SECRET_PREVIOUS": "simulator-secret",
}
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _in_production() -> bool:
    return not settings.DEBUG and not settings.TESTING


@checks.register(checks.Tags.caches)
def check_shared_cache(**kwargs: Any) -> list[checks.CheckMessage]:
    backend = settings.CACHES["default"]["BACKEND"]
    if not _in_production() or backend not in _PER_PROCESS_CACHES:
        return []
    return [
        checks.Error(
            f"CACHE_URL selects a per-process cache ({backend.rsplit('.', 1)[-1]}) with "
            "DJANGO_DEBUG off: sign-in throttles, the status-poll limit and the periodic jobs' "
            "locks would not be shared by the web, worker and scheduler processes.",
            hint="Set CACHE_URL=redis://host:6379/1, or unset it to use the database cache.",
            id="paylink.E001",
        )
    ]


def _cache_table_migrated(database: str) -> bool:
    recorder = MigrationRecorder(connections[database])
    return recorder.has_table() and ("paylink", "0004_cache_table") in (
        recorder.applied_migrations()
    )


@checks.register(checks.Tags.database)
def check_cache_table(
    *, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.Error]:
    if not databases:
        return []
    errors = []
    for alias, config in settings.CACHES.items():
        cache = caches[alias]
        if config["BACKEND"] != _DATABASE_CACHE or not isinstance(cache, DatabaseCache):
            continue
        table = config["LOCATION"]
        database = router.db_for_write(cache.cache_model_class)
        if database not in databases or not _cache_table_migrated(database):
            # Before paylink's 0004 is applied, `migrate` itself is about to create the table.
            continue
        if table not in connections[database].introspection.table_names():
            errors.append(
                checks.Error(
                    f"The database cache's table {table!r} (CACHE_URL) does not exist in the "
                    f"{database!r} database: every sign-in would fail.",
                    hint="Run `manage.py migrate` (it creates the table), or "
                    "`manage.py createcachetable` after changing CACHE_URL.",
                    id="paylink.E002",
                )
            )
    return errors


@checks.register()
def check_task_backend(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.TESTING or settings.TASKS["default"]["BACKEND"] != _IMMEDIATE_TASKS:
        return []
    message = (
        "PAYLINK_TASKS_BACKEND is the immediate backend: webhooks and account syncs would run "
        "inside the web request that asked for them, and the scheduler's jobs inside it."
    )
    hint = "Set PAYLINK_TASKS_BACKEND=database and run bin/worker."
    if settings.DEBUG:
        return [checks.Warning(message, hint=hint, id="paylink.W003")]
    return [checks.Error(message, hint=hint, id="paylink.E003")]


@checks.register()
def check_atomic_credentials(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG or settings.SIMULATOR_MODE:
        return []
    return [
        checks.Error(
            f"{name} is the simulator's demo value while ATOMIC_ENV={settings.ATOMIC_ENV}: "
            "Atomic will refuse every call.",
            hint=f"Set {name} to the value from Atomic's Console.",
            id="paylink.E004",
        )
        for name, demo in _SIMULATOR_CREDENTIALS.items()
        if getattr(settings, name) == demo
    ]


@checks.register(deploy=True)
def check_simulator_in_production(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG or not settings.SIMULATOR_MODE:
        return []
    return [
        checks.Warning(
            "ATOMIC_ENV is 'simulator' with DJANGO_DEBUG off: the host talks to the local "
            "simulator with its public demo credentials, not to Atomic.",
            hint="Set ATOMIC_ENV=sandbox or production, with ATOMIC_API_KEY and "
            "ATOMIC_API_SECRET from Atomic's Console.",
            id="paylink.W005",
        )
    ]


@checks.register()
def check_sdk_integrity(**kwargs: Any) -> list[checks.CheckMessage]:
    url = settings.ATOMIC_TRANSACT_SDK_URL
    if settings.SIMULATOR_MODE or settings.ATOMIC_TRANSACT_SDK_INTEGRITY or not url:
        return []
    return [
        checks.Error(
            f"ATOMIC_TRANSACT_SDK_URL ({url}) has no ATOMIC_TRANSACT_SDK_INTEGRITY: browsers "
            "would run whatever that address serves, on the pages where people sign in.",
            hint="Set ATOMIC_TRANSACT_SDK_INTEGRITY to the script's sha384 hash "
            "('sha384-…'), or unset ATOMIC_TRANSACT_SDK_URL to use the pinned published SDK.",
            id="paylink.E006",
        )
    ]


@checks.register(deploy=True)
def check_webhook_secret(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.ATOMIC_API_SECRET:
        return []
    return [
        checks.Error(
            "ATOMIC_API_SECRET is empty: no webhook signature can be verified, so every "
            "webhook from Atomic would be refused with 401.",
            hint="Set ATOMIC_API_SECRET to the API secret from Atomic's Console.",
            id="paylink.E007",
        )
    ]


@checks.register(deploy=True)
def check_proxy_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    public = [
        host
        for host in settings.ALLOWED_HOSTS
        if host.lstrip(".") not in _LOCAL_HOSTS and not host.endswith(".localhost")
    ]
    if not public or settings.SECURE_PROXY_SSL_HEADER is not None:
        return []
    return [
        checks.Warning(
            f"DJANGO_ALLOWED_HOSTS names public hosts ({', '.join(public[:3])}) but "
            "DJANGO_BEHIND_PROXY is off: behind a proxy that ends TLS, every request looks "
            "like plain http, so SECURE_SSL_REDIRECT loops and secure cookies are never sent.",
            hint="Set DJANGO_BEHIND_PROXY=true when a proxy sets X-Forwarded-Proto (and strips "
            "it from clients); if gunicorn itself ends TLS, silence paylink.W008.",
            id="paylink.W008",
        )
    ]


# Each of these loses counters: per process (every worker counts alone, a restart forgets),
# not at all, or culled by count once the table grows.
_UNFIT_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps counts per process",
    "django.core.cache.backends.dummy.DummyCache": "keeps nothing",
    "django.core.cache.backends.db.DatabaseCache": "culls entries as it fills",
    "django.core.cache.backends.filebased.FileBasedCache": "culls entries as it fills",
}


@checks.register(checks.Tags.caches)
def throttle_cache_check(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    """Outside debug, the `throttle` cache must be shared and must not evict (Redis)."""
    if settings.DEBUG or settings.TESTING:
        return []
    backend = settings.CACHES.get(THROTTLE_CACHE, {}).get("BACKEND", "")
    reason = _UNFIT_BACKENDS.get(backend)
    if reason is None:
        return []
    return [
        checks.Error(
            f"The '{THROTTLE_CACHE}' cache uses {backend.rsplit('.', 1)[-1]}, which {reason}: "
            "sign-in throttles and rate limits would not hold.",
            hint="Set THROTTLE_CACHE_URL (or CACHE_URL) to a Redis URL whose maxmemory-policy "
            "is noeviction, e.g. redis://127.0.0.1:6379/2.",
            id="paylink.E009",
        )
    ]


@checks.register()
def check_proxies_named(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A proxy count is only honoured from the named proxies' addresses: alone, it is nothing."""
    if settings.PAYLINK_TRUSTED_PROXY_COUNT <= 0 or settings.PAYLINK_TRUSTED_PROXIES:
        return []
    message = (
        f"PAYLINK_TRUSTED_PROXY_COUNT is {settings.PAYLINK_TRUSTED_PROXY_COUNT} but "
        "PAYLINK_TRUSTED_PROXIES names no proxy: X-Forwarded-For is never read, so behind a "
        "proxy every client would share its address (and trusting the count from any sender "
        "would let anyone choose theirs)."
    )
    hint = (
        "Set PAYLINK_TRUSTED_PROXIES to the address ranges your proxies connect from, e.g. "
        "10.0.0.0/8, or unset PAYLINK_TRUSTED_PROXY_COUNT."
    )
    if settings.DEBUG or settings.TESTING:
        return [checks.Warning(message, hint=hint, id="paylink.W012")]
    return [checks.Error(message, hint=hint, id="paylink.E012")]


@checks.register()
def check_poll_interval(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A waiting page polls every PAYLINK_POLL_SECONDS at first: zero or less would never wait."""
    if settings.PAYLINK_POLL_SECONDS >= 0.25:
        return []
    return [
        checks.Error(
            f"PAYLINK_POLL_SECONDS is {settings.PAYLINK_POLL_SECONDS}: waiting pages would ask "
            "the host again without pause.",
            hint="Set PAYLINK_POLL_SECONDS to 0.25 or more (the default is 2).",
            id="paylink.E011",
        )
    ]


@checks.register()
def site_url_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Outside debug, reminder emails and calendar feeds need the host's public address."""
    if settings.DEBUG or settings.TESTING or settings.SIMULATOR_MODE:
        return []
    host = urlsplit(settings.PAYLINK_SITE_URL).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1", ""}:
        return []
    return [
        checks.Warning(
            f"PAYLINK_SITE_URL is {settings.PAYLINK_SITE_URL}: links in reminder emails and "
            "calendar feeds would point at this machine.",
            hint="Set PAYLINK_SITE_URL to the address people use, e.g. https://hub.example.com.",
            id="paylink.W001",
        )
    ]
