"""Logs that follow one request: one JSON line per request, its id in the jobs it enqueues,
a webhook's ce-id on every line its processing writes; plain lines in development."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging

import pytest
from django.tasks.signals import task_finished, task_started

from paylink.observability.logs import logging_config
from paylink.observability.request_log import user_hash
from paylink.services.webhooks import SIGNATURE_HEADER
from paylink.tasks import webhook_event_process
from tests.paylink.observability.capture import log_lines

pytestmark = pytest.mark.django_db


def request_lines(lines):
    return [line for line in lines.records() if line["logger"] == "paylink.request"]


def test_each_request_writes_one_json_line_with_route_status_duration_id_and_a_user_hash(
    alice_client, alice
):
    with log_lines() as lines:
        response = alice_client.get("/settings/reminders/", HTTP_X_REQUEST_ID="req-from-proxy-1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-from-proxy-1"
    (line,) = request_lines(lines)
    assert line["route"] == "reminders:reminder-settings"
    assert (line["method"], line["status"]) == ("GET", 200)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "req-from-proxy-1"
    assert line["user"] == user_hash(alice.pk) != str(alice.pk)
    assert "alice" not in json.dumps(line)


def test_a_request_id_that_is_not_sane_is_replaced_and_a_path_is_never_logged(client):
    with log_lines() as lines:
        response = client.get("/calendar/secret-feed-token-123.ics", HTTP_X_REQUEST_ID="<bad id>")
    request_id = response["X-Request-ID"]
    assert request_id != "<bad id>" and len(request_id) == 32
    assert "secret-feed-token-123" not in lines.text()
    assert request_lines(lines)[0]["route"] == "reminders:calendar-feed"


# Committed as in production, so the job is enqueued while the request is still under way.
@pytest.mark.django_db(transaction=True)
def test_the_request_id_goes_with_the_jobs_the_request_enqueues_to_their_worker(
    alice_client, alice_profile, task_queue
):
    alice_client.post("/refresh/", HTTP_X_REQUEST_ID="req-refresh-0001")
    (job,) = task_queue.results

    def worker() -> None:
        task_started.send(sender=type(job.task.get_backend()), task_result=job)
        logging.getLogger("paylink.tasks").info("doing the job")
        task_finished.send(sender=type(job.task.get_backend()), task_result=job)
        logging.getLogger("paylink.tasks").info("between jobs")

    with log_lines() as lines:
        # A context of its own, as a worker process would have.
        contextvars.Context().run(worker)
    during, after = [line for line in lines.records() if line["logger"] == "paylink.tasks"]
    assert during["request_id"] == "req-refresh-0001"
    assert during["job"] == "accounts_sync" and during["job_id"] == str(job.id)
    assert "request_id" not in after and "job" not in after
    # The framework's own lines as the job starts and ends carry it too.
    framework = [line for line in lines.records() if line["logger"] == "django.tasks"]
    assert len(framework) == 2
    assert all(line["request_id"] == "req-refresh-0001" for line in framework)


@pytest.mark.django_db(transaction=True)
def test_every_line_a_webhooks_processing_writes_carries_its_ce_id(
    client, settings, alice_profile, task_queue, monkeypatch
):
    settings.ATOMIC_API_SECRET = "hook-secret"
    body = json.dumps(
        {
            "eventType": "task-status-updated",
            "user": {"identifier": alice_profile.identifier},
            "data": {"taskId": "t-ce", "status": "completed"},
        }
    ).encode()
    signature = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    header = f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}"
    with log_lines() as lines:
        client.post(
            "/webhooks/atomic/",
            body,
            content_type="application/json",
            HTTP_CE_ID="ce-follow-me",
            **{header: signature},
        )
    assert request_lines(lines)[0]["ce_id"] == "ce-follow-me"
    request_lines_id = request_lines(lines)[0]["request_id"]
    (job,) = task_queue.results

    def failing(payload):
        logging.getLogger("paylink.services.webhooks").info("applying")
        raise RuntimeError("apply failed")

    monkeypatch.setattr("paylink.services.webhooks._apply", failing)

    def worker() -> None:
        task_started.send(sender=type(job.task.get_backend()), task_result=job)
        webhook_event_process.call(*job.args)
        task_finished.send(sender=type(job.task.get_backend()), task_result=job)

    with log_lines() as lines:
        contextvars.Context().run(worker)
    written = [line for line in lines.records() if line["logger"].startswith("paylink")]
    assert [line["message"][:8] for line in written] == ["applying", "Webhook "]
    assert all(line["ce_id"] == "ce-follow-me" for line in written)
    assert all(line["job"] == "webhook_event_process" for line in written)
    # The request's id came along too: the webhook's request, its job, the sync it asks for.
    assert all(line["request_id"] == request_lines_id for line in written)


def test_development_gets_plain_lines_and_production_json(settings):
    assert (
        logging_config(style="plain", level="INFO")["handlers"]["console"]["formatter"] == "plain"
    )
    assert logging_config(style="json", level="INFO")["handlers"]["console"]["formatter"] == "json"
    with log_lines() as lines:
        from paylink.observability.log_context import log_context

        with log_context(request_id="req-plain-1"):
            logging.getLogger("paylink.x").warning("something %s", "happened")
    plain = lines.plain.getvalue()
    assert "WARNING paylink.x [req-plain-1] something happened" in plain
