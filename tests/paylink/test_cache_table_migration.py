"""`manage.py migrate` alone leaves the database cache usable: no separate createcachetable."""

from __future__ import annotations

import importlib
import subprocess
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from tests.fresh_process import manage_run

cache_table_migration = importlib.import_module("paylink.migrations.0004_cache_table")

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


def test_migrate_alone_on_a_fresh_database_leaves_a_cache_that_passes_the_checks(tmp_path):
    env = {"DJANGO_DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return manage_run(*args, **env)

    migrated = manage("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    checked = manage("check", "--database", "default")
    assert checked.returncode == 0, checked.stderr
    assert "paylink.E002" not in checked.stderr
    shell = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.core.cache import cache; cache.set('k', 1); print(cache.get('k'))",
    )
    assert shell.stdout.strip() == "1", shell.stderr
