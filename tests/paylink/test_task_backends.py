"""PAYLINK_TASKS_BACKEND: short names resolved by the settings, and rq refused without Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from hubsite.task_backends import DATABASE_BACKEND, RQ_BACKEND, rq_queues, task_backend_path
from paylink.checks import check_rq_has_redis

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW = (
    "import json, hubsite.settings as s; print(json.dumps({'backend': s.TASKS['default']"
    "['BACKEND'], 'rq_queues': s.RQ_QUEUES, 'apps': s.INSTALLED_APPS}))"
)


def settings_with(**env: str) -> dict:
    """The task settings a fresh interpreter reads with only `env` configured."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "ATOMIC_", "PAYLINK_", "RQ_", "CACHE_URL"))
    }
    clean.update(DJANGO_DEBUG="true", **env)
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_database_backend_is_the_default():
    chosen = settings_with()
    assert chosen["backend"] == DATABASE_BACKEND
    assert "django_rq" not in chosen["apps"]


def test_the_short_name_database_picks_django_tasks_db():
    assert settings_with(PAYLINK_TASKS_BACKEND="database")["backend"] == DATABASE_BACKEND


def test_rq_puts_every_queue_on_the_caches_redis_and_installs_its_worker():
    chosen = settings_with(PAYLINK_TASKS_BACKEND="rq", CACHE_URL="redis://127.0.0.1:6379/4")
    assert chosen["backend"] == RQ_BACKEND
    assert set(chosen["rq_queues"]) == {"default", "webhooks", "atomic"}
    assert chosen["rq_queues"]["webhooks"]["URL"] == "redis://127.0.0.1:6379/4"
    assert {"django_rq", "django_tasks_rq"} <= set(chosen["apps"])


def test_rq_url_wins_over_the_cache():
    chosen = settings_with(
        PAYLINK_TASKS_BACKEND="rq",
        CACHE_URL="redis://127.0.0.1:6379/4",
        RQ_URL="redis://queues.internal:6379/2",
    )
    assert chosen["rq_queues"]["atomic"]["URL"] == "redis://queues.internal:6379/2"


def test_a_dotted_path_is_taken_as_it_is():
    path = "django.tasks.backends.dummy.DummyBackend"
    assert settings_with(PAYLINK_TASKS_BACKEND=path)["backend"] == path


def test_an_unknown_short_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="neither database nor rq"):
        task_backend_path("celery")


def test_without_redis_there_are_no_rq_queues():
    assert rq_queues(url="", queues=["default"], timeout=60) == {}


def test_the_check_refuses_rq_without_redis(settings):
    settings.TASKS = {"default": {"BACKEND": RQ_BACKEND, "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {}
    [error] = check_rq_has_redis()
    assert error.id == "paylink.E010"
    assert error.level == checks.ERROR


def test_the_check_accepts_rq_with_redis(settings):
    settings.TASKS = {"default": {"BACKEND": RQ_BACKEND, "QUEUES": ["default"]}}
    settings.RQ_QUEUES = rq_queues(url="redis://127.0.0.1:6379/4", queues=["default"], timeout=60)
    assert check_rq_has_redis() == []


def test_the_check_ignores_the_database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND, "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {}
    assert check_rq_has_redis() == []
