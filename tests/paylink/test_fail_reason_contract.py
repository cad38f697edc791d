"""A failed task's reason arrives under `failReason` or `reason`: the host reads either.

Atomic's API reference names the key `failReason`; what Atomic says of its PayLink webhooks names
it `reason`. The simulator sends whichever it is told to, and the host's client and webhook
processing must come to the same answer both ways.
"""

from __future__ import annotations

import json

import pytest

from paylink.client import atomic_client
from paylink.models import Task
from paylink.services.profiles import profile_for_user

KEYS = ["failReason", "reason"]


@pytest.fixture
def failed_task(sim, person, settings, request):
    """A task the simulator failed (bad credentials), with its reason sent under `key`."""
    key = request.param
    sim.configure(fail_reason_key=key)
    settings.ATOMIC_API_URL = sim.url
    settings.ATOMIC_API_KEY = sim.api_key
    settings.ATOMIC_API_SECRET = sim.api_secret
    identifier = person("alice")
    sim.access_token(identifier)
    task_id = sim.connect(identifier, "streamly", username="test-bad")
    return key, identifier, task_id


@pytest.mark.parametrize("failed_task", KEYS, indirect=True)
def test_the_simulator_sends_the_reason_under_the_configured_key_only(sim, failed_task):
    key, identifier, task_id = failed_task
    other = next(k for k in KEYS if k != key)

    status = sim.task_status(task_id)
    details = sim.api("GET", f"/task/{task_id}/details").json()["data"]["task"]
    listed = sim.api("GET", f"/user/{identifier}/tasks").json()["data"]["tasks"][0]

    for body in (status, details, listed):
        assert body[key] == "bad-credentials"
        assert other not in body


@pytest.mark.parametrize("failed_task", KEYS, indirect=True)
def test_the_hosts_client_reads_the_reason_under_either_key(failed_task):
    _, identifier, task_id = failed_task
    client = atomic_client()

    assert client.task_status_get(task_id=task_id).fail_reason == "bad-credentials"
    assert client.task_details_get(task_id=task_id).fail_reason == "bad-credentials"
    (summary,) = client.user_tasks_list(identifier=identifier)
    assert summary.fail_reason == "bad-credentials"


@pytest.mark.parametrize("key", KEYS)
def test_the_hosts_webhook_records_the_reason_under_either_key(
    alice, sim, settings, webhook_sink, client, django_capture_on_commit_callbacks, key
):
    sim.configure(fail_reason_key=key, webhook_url=webhook_sink.url)
    settings.ATOMIC_API_SECRET = sim.api_secret
    identifier = profile_for_user(user=alice).identifier
    sim.access_token(identifier)
    task_id = sim.connect(identifier, "streamly", username="test-bad")
    received = webhook_sink.wait_for(lambda requests: failed_status_events(requests, task_id))
    (delivery,) = failed_status_events(received, task_id)
    assert json.loads(delivery.body)["data"][key] == "bad-credentials"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/atomic/",
            delivery.body,
            content_type="application/json",
            headers={
                name: value
                for name, value in delivery.headers.items()
                if name.startswith(("ce-", "x-"))
            },
        )

    assert response.status_code < 300
    task = Task.objects.get(profile__user=alice, atomic_id=task_id)
    assert (task.status, task.fail_reason) == ("failed", "bad-credentials")


def failed_status_events(requests, task_id):
    found = []
    for request in requests:
        body = json.loads(request.body)
        data = body.get("data") or {}
        if (body["eventType"], data.get("taskId"), data.get("status")) == (
            "task-status-updated",
            task_id,
            "failed",
        ):
            found.append(request)
    return found
