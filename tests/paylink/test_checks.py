"""Deployment checks name each misconfiguration, the setting behind it and the fix."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from paylink import checks
from tests.fresh_process import manage_run, settings_value

PRODUCTION = {"DEBUG": False, "TESTING": False}
SANDBOX = {
    **PRODUCTION,
    "SIMULATOR_MODE": False,
    "ATOMIC_ENV": "sandbox",
    "ATOMIC_API_KEY": "real-key",
    "ATOMIC_API_SECRET": "real-secret",
    "ATOMIC_TRANSACT_SDK_URL": "https://unpkg.com/@atomicfi/transact-javascript@3.2.0/index.js",
    "ATOMIC_TRANSACT_SDK_INTEGRITY": "sha384-abc",
}
DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "paylink_cache_for_checks",
    }
}


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@override_settings(**PRODUCTION, CACHES={"default": {"BACKEND": checks._PER_PROCESS_CACHES[0]}})
def test_a_per_process_cache_outside_debug_is_an_error_naming_cache_url():
    [error] = checks.check_shared_cache()
    assert error.id == "paylink.E001"
    assert "CACHE_URL" in error.msg
    assert "redis://" in error.hint


@override_settings(DEBUG=True, CACHES={"default": {"BACKEND": checks._PER_PROCESS_CACHES[0]}})
def test_a_per_process_cache_is_fine_in_debug():
    assert checks.check_shared_cache() == []


@override_settings(**PRODUCTION, CACHES=DATABASE_CACHE)
def test_a_shared_cache_outside_debug_passes():
    assert checks.check_shared_cache() == []


@pytest.mark.django_db
@override_settings(CACHES=DATABASE_CACHE)
def test_a_database_cache_without_its_table_is_an_error_saying_run_migrate():
    [error] = checks.check_cache_table(databases=["default"])
    assert error.id == "paylink.E002"
    assert "paylink_cache_for_checks" in error.msg
    assert "manage.py migrate" in error.hint
    call_command("createcachetable", verbosity=0)
    assert checks.check_cache_table(databases=["default"]) == []


@pytest.mark.django_db
@override_settings(CACHES=DATABASE_CACHE)
def test_a_missing_cache_table_is_no_error_while_the_migration_creating_it_is_pending():
    # `migrate` runs the database checks before migrating: it must not stop itself.
    with mock.patch.object(MigrationRecorder, "applied_migrations", return_value={}):
        assert checks.check_cache_table(databases=["default"]) == []


@override_settings(CACHES=DATABASE_CACHE)
def test_the_cache_table_is_not_looked_for_without_database_access():
    assert checks.check_cache_table(databases=None) == []


@pytest.mark.parametrize(("debug", "expected"), [(False, "paylink.E003"), (True, "paylink.W003")])
def test_the_immediate_task_backend_outside_tests_is_flagged(debug, expected):
    immediate = {"default": {"BACKEND": checks._IMMEDIATE_TASKS}}
    with override_settings(DEBUG=debug, TESTING=False, TASKS=immediate):
        [message] = checks.check_task_backend()
    assert message.id == expected
    assert "PAYLINK_TASKS_BACKEND" in message.msg


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, **PRODUCTION)
def test_the_database_task_backend_passes():
    assert checks.check_task_backend() == []


@override_settings(**{**SANDBOX, "ATOMIC_API_SECRET": "simulator-secret"})
def test_the_simulators_demo_secret_against_atomic_is_an_error_naming_it():
    [error] = checks.check_atomic_credentials()
    assert error.id == "paylink.E004"
    assert error.msg.startswith("ATOMIC_API_SECRET is the simulator's demo value")


@override_settings(**{**SANDBOX, "ATOMIC_API_SECRET_PREVIOUS": "simulator-secret"})
def test_the_simulators_secret_as_the_previous_one_is_an_error_naming_it():
    # A webhook signed with the simulator's public secret would be accepted during a rotation.
    [error] = checks.check_atomic_credentials()
    assert error.id == "paylink.E004"
    assert error.msg.startswith("ATOMIC_API_SECRET_PREVIOUS is the simulator's demo value")


@override_settings(**SANDBOX)
def test_real_credentials_against_atomic_pass():
    assert checks.check_atomic_credentials() == []
    assert checks.check_simulator_in_production() == []


@override_settings(**PRODUCTION, SIMULATOR_MODE=True, ATOMIC_ENV="simulator")
def test_the_simulator_with_debug_off_is_a_warning_naming_atomic_env():
    [warning] = checks.check_simulator_in_production()
    assert warning.id == "paylink.W005"
    assert "ATOMIC_ENV" in warning.msg


@override_settings(**{**SANDBOX, "ATOMIC_TRANSACT_SDK_INTEGRITY": ""})
def test_an_sdk_url_without_its_integrity_hash_is_an_error():
    [error] = checks.check_sdk_integrity()
    assert error.id == "paylink.E006"
    assert "ATOMIC_TRANSACT_SDK_INTEGRITY" in error.msg


@override_settings(**SANDBOX)
def test_an_sdk_url_with_its_integrity_hash_passes():
    assert checks.check_sdk_integrity() == []


@override_settings(ATOMIC_API_SECRET="")
def test_an_empty_webhook_secret_is_an_error():
    [error] = checks.check_webhook_secret()
    assert error.id == "paylink.E007"
    assert "ATOMIC_API_SECRET" in error.msg


@override_settings(ALLOWED_HOSTS=["hub.example.com"], SECURE_PROXY_SSL_HEADER=None)
def test_public_hosts_without_proxy_settings_are_a_warning_naming_the_setting():
    [warning] = checks.check_proxy_settings()
    assert warning.id == "paylink.W008"
    assert "DJANGO_BEHIND_PROXY" in warning.msg


@pytest.mark.parametrize(
    ("hosts", "proxy_header"),
    [
        (["127.0.0.1", "localhost"], None),
        (["hub.example.com"], ("HTTP_X_FORWARDED_PROTO", "https")),
    ],
)
def test_local_hosts_or_a_proxy_header_pass(hosts, proxy_header):
    with override_settings(ALLOWED_HOSTS=hosts, SECURE_PROXY_SSL_HEADER=proxy_header):
        assert checks.check_proxy_settings() == []


@override_settings(ATOMIC_API_SECRET="")
@pytest.mark.django_db  # model checks read the database's features (check constraints)
def test_check_deploy_runs_the_hosts_checks():
    with pytest.raises(SystemCheckError, match=r"paylink\.E007"):
        call_command("check", deploy=True)


def test_the_release_check_stops_on_a_misconfiguration_with_a_sentence(tmp_path):
    # As bin/release runs it, in a process of its own with production settings.
    result = manage_run(
        "check",
        "--deploy",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-long-random-secret-key-for-this-test-only-0123456789abcdef",
        DATABASE_URL=f"sqlite:///{tmp_path / 'release.sqlite3'}",
        CACHE_URL="locmemcache://",
    )
    assert result.returncode != 0
    assert "(paylink.E001) CACHE_URL selects a per-process cache (LocMemCache)" in result.stderr


# --- The throttle cache: outside debug, counters must live where they are never evicted ---


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
    errors = checks.throttle_cache_check()
    assert [error.id for error in errors] == ["paylink.E009"]
    assert "THROTTLE_CACHE_URL" in errors[0].hint


def test_redis_is_accepted_outside_debug(settings):
    settings.DEBUG = False
    settings.TESTING = False
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}
    settings.CACHES = {**settings.CACHES, "throttle": redis}
    assert checks.throttle_cache_check() == []


def test_debug_may_count_in_memory(settings):
    settings.DEBUG = True
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert checks.throttle_cache_check() == []


def _throttle_backend(**env: str) -> str:
    """The throttle cache's backend and location, as settings read from `env` alone."""
    throttle = "s.CACHES['throttle']"
    return settings_value(
        f"{throttle}['BACKEND'], {throttle}['LOCATION']", DJANGO_DEBUG="true", **env
    )


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


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, ["paylink.E011"]), (0.1, ["paylink.E011"]), (0.25, []), (2, [])]
)
def test_a_poll_interval_under_a_quarter_second_is_an_error(settings, seconds, expected):
    settings.PAYLINK_POLL_SECONDS = seconds
    messages = checks.check_poll_interval()
    assert ids(messages) == expected
    assert all("PAYLINK_POLL_SECONDS" in message.msg for message in messages)


@pytest.mark.parametrize(
    ("debug", "level"), [(False, "paylink.E012"), (True, "paylink.W012")], ids=["prod", "debug"]
)
def test_a_proxy_count_without_named_proxies_is_refused_outside_debug(debug, level):
    with override_settings(
        DEBUG=debug, TESTING=False, PAYLINK_TRUSTED_PROXY_COUNT=1, PAYLINK_TRUSTED_PROXIES=[]
    ):
        [message] = checks.check_proxies_named()
    assert message.id == level
    assert "PAYLINK_TRUSTED_PROXIES" in message.hint


def test_a_proxy_count_with_named_proxies_or_no_count_passes():
    with override_settings(**PRODUCTION, PAYLINK_TRUSTED_PROXY_COUNT=1):
        with override_settings(PAYLINK_TRUSTED_PROXIES=["10.0.0.0/8"]):
            assert checks.check_proxies_named() == []
        with override_settings(PAYLINK_TRUSTED_PROXY_COUNT=0, PAYLINK_TRUSTED_PROXIES=[]):
            assert checks.check_proxies_named() == []
