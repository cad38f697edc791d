"""/healthz says the process answers; /readyz says whether the database, cache and queue do."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

STORED_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["hub.example.com"])
def test_healthz_answers_a_probe_by_ip_address_over_plain_http(client):
    # A load balancer probes the instance's address, not the public name, and without TLS.
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200


@pytest.mark.django_db
def test_healthz_refuses_a_post(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_readyz_answers_ok_when_database_cache_and_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "checks": {"database": "ok", "cache": "ok", "tasks": "ok"},
        "oldest_waiting_task_seconds": None,
        "reconcile_succeeded_at": None,
        "status": "ok",
    }


@pytest.mark.django_db
@override_settings(TASKS=STORED_QUEUE)
def test_readyz_reports_how_long_the_oldest_waiting_task_has_waited(client):
    row = DBTaskResult.objects.create(
        task_path="paylink.tasks.accounts_sync",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
    )
    DBTaskResult.objects.filter(pk=row.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=10)
    )
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["oldest_waiting_task_seconds"] >= 600


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_database_when_it_is_unreachable(client):
    with mock.patch("paylink.lib.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("db.internal:5432 refused")
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "unreachable"
    # The reason is named; the error's text (a host name here) is not.
    assert b"db.internal" not in response.content


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_cache_when_it_loses_writes(client):
    with mock.patch("paylink.lib.health.cache") as cache:
        cache.get.return_value = None
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "unreachable",
        "tasks": "ok",
    }


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_cache_when_it_is_down(client):
    with mock.patch("paylink.lib.health.cache") as cache:
        cache.set.side_effect = ConnectionError("redis.internal:6379")
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unreachable"


@pytest.mark.django_db
@override_settings(TASKS=STORED_QUEUE)
def test_readyz_answers_503_naming_the_task_queue_when_it_cannot_be_read(client):
    with mock.patch.object(DBTaskResult.objects, "ready", side_effect=OperationalError("gone")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "tasks": "unreachable",
    }
