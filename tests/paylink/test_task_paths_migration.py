"""Jobs stored under the tasks' old names are renamed by migration 0092, so they still run."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from paylink import tasks

migration = import_module("paylink.migrations.0092_task_paths_renamed")

pytestmark = pytest.mark.django_db


def stored(path: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path=path,
        args_kwargs={"args": [1], "kwargs": {}},
        queue_name="atomic",
        backend_name="default",
        run_after=timezone.now(),
    )


def test_each_old_name_becomes_a_task_that_exists_and_back():
    rows = {old: stored(old) for old in migration.RENAMED}
    other = stored(tasks.reconcile.module_path)

    migration.rename(apps, None)

    for old, row in rows.items():
        row.refresh_from_db()
        assert row.task_path == migration.RENAMED[old]
        # The path names a task of today's code, as the worker imports it.
        assert import_string(row.task_path).module_path == row.task_path
    other.refresh_from_db()
    assert other.task_path == tasks.reconcile.module_path

    migration.rename_back(apps, None)

    assert {row.task_path for row in DBTaskResult.objects.exclude(pk=other.pk)} == set(
        migration.RENAMED
    )
