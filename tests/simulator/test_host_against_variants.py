"""The host, on a live server, against every webhook and account variant the simulator sends.

Each variant sets every dimension QA can switch (task id placement, signature encoding,
metadata, reason key, accounts-updated data, account shape); together they use each value at
least once. In each, a connect completes, a declined one fails with its reason, a correction
(task-status-patched) flips the completed task, and every event is processed without a note.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import User

from paylink.client import atomic_client
from paylink.models import AccountSnapshot, Profile, Task, WebhookEvent, WebhookState
from paylink.services.webhook_shapes import signature_encoding, webhook_facts
from tests.waiting import wait_until

URL = "/webhooks/atomic/"

VARIANTS = {
    "published-reference": {
        "webhook_task_id": "data.taskId",
        "webhook_signature": "hex",
        "webhook_metadata": "echo",
        "fail_reason_key": "failReason",
        "accounts_webhook_data": "ids",
        "account_shape": "seed",
    },
    "older-docs": {
        "webhook_task_id": "task",
        "webhook_signature": "base64",
        "webhook_metadata": "absent",
        "fail_reason_key": "reason",
        "accounts_webhook_data": "accounts",
        "account_shape": "newer",
    },
    "task-wrapped": {
        "webhook_task_id": "data.task",
        "webhook_signature": "hex",
        "webhook_metadata": "empty",
        "fail_reason_key": "reason",
        "accounts_webhook_data": "ids",
        "account_shape": "newer",
    },
    "task-object": {
        "webhook_task_id": "data.task._id",
        "webhook_signature": "base64",
        "webhook_metadata": "echo",
        "fail_reason_key": "failReason",
        "accounts_webhook_data": "accounts",
        "account_shape": "seed",
    },
}


def test_the_variants_use_every_value_of_every_dimension():
    from simulator.variants import CHOICES

    for key, (values, _) in CHOICES.items():
        if key in ("accounts_routes", "close_reason"):
            continue  # covered by test_accounts_routes and the browser's close test
        used = {variant[key] for variant in VARIANTS.values()}
        assert used == set(values), key


@pytest.fixture
def host(live_server, simulator, settings):
    settings.ATOMIC_API_URL = simulator.url
    settings.ATOMIC_API_KEY = simulator.api_key
    settings.ATOMIC_API_SECRET = simulator.api_secret
    simulator.reset()
    yield simulator, live_server.url + URL
    simulator.reset()


def settled(sim, identifier: str) -> bool:
    deliveries = [d for d in sim.state()["deliveries"] if d["identifier"] == identifier]
    answered = sum(1 for d in deliveries for a in d["attempts"] if a["status_code"] == 200)
    return (
        bool(deliveries)
        and all(d["state"] in ("delivered", "failed", "dropped") for d in deliveries)
        and WebhookEvent.objects.filter(identifier=identifier).count() == answered
        and not WebhookEvent.objects.filter(state=WebhookState.RECEIVED).exists()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", VARIANTS)
def test_the_host_follows_every_event_of_the_variant(host, name):
    sim, webhook_url = host
    variant = VARIANTS[name]
    sim.configure(webhook_url=webhook_url, **variant)
    identifier = f"hub_{name}_{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(identifier, password="variant-pass-1234")
    profile = Profile.objects.create(user=user, identifier=identifier)
    assert atomic_client().access_token_create(identifier=identifier)

    completed = sim.connect(identifier, "orchard")
    declined = sim.connect(identifier, "tunewave", username="test-declined")

    def task(task_id: str) -> Task | None:
        return Task.objects.filter(atomic_id=task_id).first()

    wait_until(
        lambda: (
            (done := task(completed)) is not None
            and done.status == "completed"
            and (failed := task(declined)) is not None
            and failed.fail_reason == "payment-method-declined"
            and AccountSnapshot.objects.filter(profile=profile, version__gte=1).exists()
        ),
        what=f"the {name} webhooks to finish both tasks and sync the accounts",
        detail=lambda: str(WebhookEvent.objects.values_list("event_type", "state", "note")),
    )
    sim.control(
        "/_sim/tasks/patch",
        {"taskId": completed, "status": "failed", "reason": "payment-method-locked"},
    )
    wait_until(
        lambda: task(completed).status == "failed" and settled(sim, identifier),
        what="the correction to reach the host and every delivery to settle",
        detail=lambda: str(WebhookEvent.objects.values_list("event_type", "state", "note")),
    )
    assert task(completed).fail_reason == "payment-method-locked"

    events = WebhookEvent.objects.filter(identifier=identifier).exclude(
        state=WebhookState.DUPLICATE
    )
    assert {e.state for e in events} == {WebhookState.PROCESSED}
    assert [e.note for e in events if e.note] == []
    types = {e.event_type for e in events}
    assert types >= {
        "task-status-updated",
        "task-authentication-status-updated",
        "task-status-patched",
        "pay-link-accounts-updated",
        "task-workflow-finished",
    }
    # The host met the variant itself, not a default that happened to work.
    bodies = [json.loads(e.body) for e in events]
    placements = {webhook_facts(b).task_id_at for b in bodies} - {""}
    assert placements == {variant["webhook_task_id"]}
    assert {signature_encoding(e.headers.get("x-hmac-signature-sha-256")) for e in events} == {
        variant["webhook_signature"]
    }
    reasons = {webhook_facts(b).reason_key for b in bodies} - {""}
    assert reasons == {variant["fail_reason_key"]}
    updated = [b for b in bodies if b["eventType"] == "pay-link-accounts-updated"]
    assert ("accounts" in updated[0]["data"]) == (variant["accounts_webhook_data"] == "accounts")
    statuses = [b for b in bodies if b["eventType"] == "task-status-updated"]
    assert ("metadata" in statuses[0]["data"]) == (variant["webhook_metadata"] != "absent")

    # The Orchard account's bills, by name, in the stored payload when the shape carries them.
    payload = AccountSnapshot.objects.get(profile=profile).payload
    (orchard,) = [a for a in payload["accounts"] if a["company"]["name"] == "Orchard"]
    if variant["account_shape"] == "newer":
        names = [bill["name"] for bill in orchard["expenses"]]
        assert names == ["Orchard TV+", "The Morning Ledger"]
        assert all(bill["actions"] for bill in orchard["expenses"])
    else:
        assert "expenses" not in orchard and orchard["actions"]
