"""Metrics: counted where things happen, served with a bearer token, right across processes."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.parser import text_string_to_metric_families

from paylink.client import AtomicError, atomic_client
from paylink.models import OperationTally, Task
from paylink.observability import metrics
from paylink.services.webhooks import SIGNATURE_HEADER
from tests.paylink.atomic_stub import AtomicStub, Reply
from tests.paylink.observability.values import counted, observed

TOKEN = "scrape-token-for-tests-only"
STORED_QUEUE = "django_tasks_db.DatabaseBackend"
ROOT = Path(__file__).resolve().parents[3]


def scrape(client, token: str | None = TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def stub(settings):
    server = AtomicStub().start()
    settings.ATOMIC_API_URL = server.url
    settings.ATOMIC_CONNECT_TIMEOUT = 1.0
    settings.ATOMIC_READ_TIMEOUT = 2.0
    yield server
    server.stop()


@pytest.mark.django_db
def test_the_endpoint_is_off_without_a_token_and_refuses_a_wrong_one(client, settings):
    settings.PAYLINK_METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    settings.PAYLINK_METRICS_TOKEN = TOKEN
    assert scrape(client, token=None).status_code == 401
    refused = scrape(client, token="not-the-token")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert b"paylink_" not in refused.content
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


@pytest.mark.django_db
def test_a_scrape_by_ip_address_with_the_token_gets_the_prometheus_text(client, settings):
    settings.PAYLINK_METRICS_TOKEN = TOKEN
    response = scrape(client, HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response.content.decode())
    assert found[("paylink_scrape_database_ok", ())] == 1
    for queue in ("atomic", "default", "webhooks"):
        assert found[("paylink_jobs_waiting", (("queue", queue),))] == 0


@pytest.mark.django_db
def test_jobs_waiting_and_the_oldest_ones_age_are_read_per_queue_from_the_task_table(
    client, settings
):
    # Through the `settings` fixture alone: mixed with override_settings, its restore would
    # put back the overridden TASKS for the rest of the run.
    settings.TASKS = {"default": {**settings.TASKS["default"], "BACKEND": STORED_QUEUE}}
    settings.PAYLINK_METRICS_TOKEN = TOKEN
    for minutes, queue in ((12, "atomic"), (3, "atomic"), (1, "webhooks")):
        row = DBTaskResult.objects.create(
            task_path="paylink.tasks.accounts_sync",
            args_kwargs={"args": [1], "kwargs": {}},
            backend_name="default",
            queue_name=queue,
            run_after=get_date_max(),
        )
        DBTaskResult.objects.filter(pk=row.pk).update(
            enqueued_at=timezone.now() - timedelta(minutes=minutes)
        )
    found = samples(scrape(client).content.decode())
    assert found[("paylink_jobs_waiting", (("queue", "atomic"),))] == 2
    assert found[("paylink_jobs_waiting", (("queue", "webhooks"),))] == 1
    assert found[("paylink_jobs_waiting", (("queue", "default"),))] == 0
    assert 720 <= found[("paylink_job_oldest_age_seconds", (("queue", "atomic"),))] < 780
    assert found[("paylink_job_oldest_age_seconds", (("queue", "default"),))] == 0


@pytest.mark.django_db
def test_tasks_are_counted_by_status_and_known_failure_reason_and_others_are_other(
    client, settings, alice_profile
):
    settings.PAYLINK_METRICS_TOKEN = TOKEN
    for n, (status, reason) in enumerate(
        [
            ("failed", "bad-credentials"),
            ("failed", "bad-credentials"),
            ("failed", "made-up"),
            ("completed", ""),
            ("weird", ""),
        ]
    ):
        Task.objects.create(
            profile=alice_profile, atomic_id=f"t{n}", status=status, fail_reason=reason
        )
    found = samples(scrape(client).content.decode())
    assert found[("paylink_tasks", (("fail_reason", "bad-credentials"), ("status", "failed")))] == 2
    assert found[("paylink_tasks", (("fail_reason", "other"), ("status", "failed")))] == 1
    assert found[("paylink_tasks", (("fail_reason", ""), ("status", "completed")))] == 1
    assert found[("paylink_tasks", (("fail_reason", ""), ("status", "other")))] == 1


@pytest.mark.django_db
def test_when_the_database_fails_the_counters_are_still_served(client, settings, monkeypatch):
    settings.PAYLINK_METRICS_TOKEN = TOKEN

    def broken():
        raise RuntimeError("database down")

    monkeypatch.setattr("paylink.observability.exposition.queue_figures", broken)
    response = scrape(client)
    assert response.status_code == 200
    assert samples(response.content.decode())[("paylink_scrape_database_ok", ())] == 0


@pytest.mark.django_db(transaction=True)
def test_an_atomic_call_is_counted_and_timed_by_endpoint_and_outcome_and_tallied(stub):
    ok_before = counted(metrics.ATOMIC_CALLS, "accounts_get", "ok")
    error_before = counted(metrics.ATOMIC_CALLS, "accounts_get", "server_error")
    timed_before, _ = observed(metrics.ATOMIC_CALL_SECONDS, "accounts_get")
    stub.play(Reply(body={"accounts": []}))
    atomic_client().accounts_get(identifier="hub_alice")
    stub.play(Reply(status=500, body={"message": "down"}))
    with pytest.raises(AtomicError):
        atomic_client().accounts_get(identifier="hub_alice")
    assert counted(metrics.ATOMIC_CALLS, "accounts_get", "ok") == ok_before + 1
    assert counted(metrics.ATOMIC_CALLS, "accounts_get", "server_error") == error_before + 1
    assert observed(metrics.ATOMIC_CALL_SECONDS, "accounts_get")[0] == timed_before + 2
    tallies = {t.outcome: t.count for t in OperationTally.objects.filter(kind="atomic")}
    assert tallies == {"ok": 1, "server_error": 1}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (None, "no_answer"),
        (429, "rate_limited"),
        (503, "server_error"),
        (404, "client_error"),
        (200, "malformed"),
    ],
)
def test_each_kind_of_atomic_failure_has_its_own_outcome(status, outcome):
    assert metrics.atomic_outcome(AtomicError("x", status=status)) == outcome


@pytest.mark.django_db
def test_a_signed_webhook_is_counted_received_accepted_processed_with_its_lag(
    client, settings, alice_profile, django_capture_on_commit_callbacks
):
    settings.ATOMIC_API_SECRET = "hook-secret"
    before = {
        stage: counted(metrics.WEBHOOKS, stage)
        for stage in ("received", "accepted", "processed", "refused", "duplicate")
    }
    lag_count, lag_sum = observed(metrics.WEBHOOK_LAG_SECONDS)
    happened = (timezone.now() - timedelta(seconds=30)).isoformat()
    body = json.dumps(
        {
            "eventType": "task-status-updated",
            "eventTime": happened,
            "user": {"identifier": alice_profile.identifier},
            "data": {"taskId": "task-lag", "status": "processing"},
        }
    ).encode()
    signature = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    headers = {
        "HTTP_CE_ID": "ce-lag-1",
        f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": signature,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post(
                "/webhooks/atomic/", body, content_type="application/json", **headers
            ).status_code
            == 200
        )
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/webhooks/atomic/", body, content_type="application/json", **headers)
    client.post("/webhooks/atomic/", body, content_type="application/json", HTTP_CE_ID="forged")
    after = {stage: counted(metrics.WEBHOOKS, stage) for stage in before}
    assert after == {
        "received": before["received"] + 3,
        "accepted": before["accepted"] + 1,
        "processed": before["processed"] + 1,
        "refused": before["refused"] + 1,
        "duplicate": before["duplicate"] + 1,
    }
    count, total = observed(metrics.WEBHOOK_LAG_SECONDS)
    assert count == lag_count + 1
    assert 30 <= total - lag_sum < 60


@pytest.mark.django_db
def test_request_latency_is_labelled_by_the_route_name_never_the_path(alice_client, alice_profile):
    Task.objects.create(profile=alice_profile, atomic_id="task-visible-id", status="queued")
    before, _ = observed(metrics.REQUEST_SECONDS, "paylink:task", "GET", "2xx")
    unrouted, _ = observed(metrics.REQUEST_SECONDS, "unrouted", "GET", "4xx")
    assert alice_client.get("/hub/tasks/task-visible-id/").status_code == 200
    assert alice_client.get("/no/such/secret-path/").status_code == 404
    assert observed(metrics.REQUEST_SECONDS, "paylink:task", "GET", "2xx")[0] == before + 1
    assert observed(metrics.REQUEST_SECONDS, "unrouted", "GET", "4xx")[0] == unrouted + 1
    labels = str([sample.labels for sample in metrics.REQUEST_SECONDS.collect()[0].samples])
    assert "task-visible-id" not in labels and "secret-path" not in labels


def test_counters_of_separate_processes_add_up_in_one_scrape(tmp_path):
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hubsite.settings'); django.setup();"
        "from paylink.observability import metrics; metrics.refusal(kind='rate_limit', scope='sign_up')"
    )
    env = {
        **__import__("os").environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PAYLINK_METRICS_DIR": str(tmp_path),
    }
    # Two at once, as a server's workers count.
    processes = [
        subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env) for _ in range(2)
    ]
    assert [process.wait(timeout=60) for process in processes] == [0, 0]
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    found = samples(generate_latest(registry).decode())
    assert found[("paylink_refusals_total", (("kind", "rate_limit"), ("scope", "sign_up")))] == 2
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
