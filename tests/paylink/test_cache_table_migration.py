"""`manage.py migrate` alone leaves the database cache usable: no separate createcachetable."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

cache_table_migration = importlib.import_module("paylink.migrations.0002_cache_table")

DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "paylink_cache_under_test",
    }
}
# What the migration reads of its schema editor: the connection being migrated.
MIGRATING = SimpleNamespace(connection=connection)


@pytest.mark.django_db
def test_the_migration_creates_the_database_caches_table_so_the_cache_works():
    with override_settings(CACHES=DATABASE_CACHE):
        assert "paylink_cache_under_test" not in connection.introspection.table_names()
        cache_table_migration.cache_table_create(None, MIGRATING)
        assert "paylink_cache_under_test" in connection.introspection.table_names()
        cache = caches.create_connection("default")
        cache.set("sign-in-throttle", 3)
        assert cache.get("sign-in-throttle") == 3


@pytest.mark.django_db
def test_the_migration_runs_again_without_harm():
    with override_settings(CACHES=DATABASE_CACHE):
        cache_table_migration.cache_table_create(None, MIGRATING)
        cache_table_migration.cache_table_create(None, MIGRATING)
        assert "paylink_cache_under_test" in connection.introspection.table_names()
