"""Every published shape of a webhook is understood, in the one place that reads them.

Sources: Atomic's PayLink webhook reference (`data.taskId`, `failReason`), its older developer
documentation (atomicfi/docs, source/index.html.md: a top-level `task`, `company` and `product`,
`data.reason`, a hex digest), a description of the status endpoint that wraps the task in
`data.task`, and Atomic's Flutter plugin (a missing taskId sent as "").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from paylink.models import Task, WebhookEvent, WebhookState
from paylink.services.webhook_shapes import signature_encoding, webhook_facts
from tests.atomic_json import FIXTURES
from tests.paylink import test_webhooks as webhook_tests
from tests.paylink.test_webhooks import SECRET, event_body, sign

# The webhook tests' fixtures: the secret and a signed delivery (the Atomic seam is the
# conftest's).
webhook_secret = webhook_tests.webhook_secret
deliver = webhook_tests.deliver

PUBLISHED = FIXTURES / "webhooks" / "published"
LEGACY_TASK = "5d97e4abc90a0a0007993e9c"


def published(name: str) -> bytes:
    return (PUBLISHED / f"{name}.json").read_bytes()


def with_task_id_at(place: str, task_id: str = "task-alice-1") -> bytes:
    """The completed fixture with its task id moved to `place`."""
    payload = json.loads(event_body("task_status_updated_completed"))
    del payload["data"]["taskId"]
    match place:
        case "data.taskId":
            payload["data"]["taskId"] = task_id
        case "task":
            payload["task"] = task_id
        case "task._id":
            payload["task"] = {"_id": task_id}
        case "data.task":
            payload["data"]["task"] = task_id
        case "data.task._id":
            payload["data"]["task"] = {"_id": task_id, "status": "completed"}
            del payload["data"]["status"]
    return json.dumps(payload).encode()


@pytest.mark.parametrize("place", ["data.taskId", "task", "task._id", "data.task", "data.task._id"])
def test_the_task_id_is_read_wherever_a_published_example_puts_it(
    alice_profile, atomic, deliver, place
):
    body = with_task_id_at(place)
    assert deliver(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.note, event.task_atomic_id) == ("processed", "", "task-alice-1")
    assert Task.objects.get(atomic_id="task-alice-1").status == "completed"
    assert webhook_facts(json.loads(body)).task_id_at == place


def test_the_older_docs_status_event_completes_the_task_with_its_top_level_company(
    alice_profile, atomic, deliver
):
    assert deliver(published("legacy_task_status_updated")).status_code == 200
    task = Task.objects.get(atomic_id=LEGACY_TASK)
    assert (task.status, task.company_id, task.company_name, task.product) == (
        "completed",
        "company-hulu",
        "Hulu",
        "pay-link",
    )
    assert WebhookEvent.objects.get().note == ""


def test_the_older_docs_authentication_event_records_authentication(alice_profile, atomic, deliver):
    deliver(published("legacy_task_authentication_status_updated"))
    assert Task.objects.get(atomic_id=LEGACY_TASK).authenticated is True


def test_the_older_docs_patch_corrects_a_completed_task_with_its_data_reason(
    alice_profile, atomic, deliver
):
    deliver(published("legacy_task_status_updated"), ce_id="ce-1")
    deliver(published("legacy_task_status_patched"), ce_id="ce-2")
    task = Task.objects.get(atomic_id=LEGACY_TASK)
    assert (task.status, task.fail_reason) == ("failed", "payment-method-declined")


def test_an_ordinary_update_after_the_patch_cannot_move_the_task_back(
    alice_profile, atomic, deliver
):
    deliver(published("legacy_task_status_patched"), ce_id="ce-1")
    later = json.loads(published("legacy_task_status_updated"))
    later["eventTime"] = "2026-01-05T12:00:00.000Z"
    deliver(json.dumps(later).encode(), ce_id="ce-2")
    assert Task.objects.get(atomic_id=LEGACY_TASK).status == "failed"


@pytest.mark.parametrize("key", ["failReason", "reason"])
@pytest.mark.parametrize("inside", ["data", "data.task", "top"])
def test_the_failure_reason_is_read_under_either_key_wherever_it_is(
    alice_profile, atomic, deliver, key, inside
):
    payload = json.loads(event_body("task_status_updated_failed"))
    del payload["data"]["failReason"]
    match inside:
        case "data":
            payload["data"][key] = "payment-method-locked"
        case "data.task":
            payload["data"]["task"] = {"_id": "task-alice-1", key: "payment-method-locked"}
        case "top":
            payload[key] = "payment-method-locked"
    deliver(json.dumps(payload).encode())
    task = Task.objects.get(atomic_id="task-alice-1")
    assert (task.status, task.fail_reason) == ("failed", "payment-method-locked")
    assert webhook_facts(payload).reason_key == key


def test_an_empty_task_id_means_no_task_and_the_top_level_one_is_used(
    alice_profile, atomic, deliver
):
    payload = json.loads(published("legacy_task_status_updated"))
    payload["data"]["taskId"] = ""
    deliver(json.dumps(payload).encode())
    assert list(Task.objects.values_list("atomic_id", flat=True)) == [LEGACY_TASK]


def test_an_empty_task_id_alone_is_noted_as_no_task_and_answered_200(
    alice_profile, atomic, deliver
):
    body = event_body("task_status_updated_completed", taskId="")
    assert deliver(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.task_atomic_id) == (WebhookState.PROCESSED, "")
    assert event.note.startswith("Missing the task id")
    assert not Task.objects.exists()


def test_a_workflow_finished_event_with_a_reason_is_kept_and_changes_nothing(
    alice_profile, atomic, deliver
):
    payload = json.loads(event_body("task_workflow_finished"))
    payload["data"] |= {"status": "failed", "reason": "user-abandon", "taskId": "task-alice-1"}
    assert deliver(json.dumps(payload).encode()).status_code == 200
    assert (WebhookEvent.objects.get().state, Task.objects.count()) == ("processed", 0)


def test_an_accounts_updated_event_carrying_the_accounts_still_syncs_from_the_api(
    alice_profile, atomic, deliver
):
    payload = json.loads(event_body("pay_link_accounts_updated"))
    payload["data"] = {"accountIds": ["a1"], "accounts": [{"_id": "a1", "bills": []}]}
    assert deliver(json.dumps(payload).encode()).status_code == 200
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")


# --- The signature: hex or base64, current or previous secret, in constant time ----------------


def base64_signature(body: bytes, secret: str = SECRET, *, urlsafe: bool = False) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(digest).decode()


@pytest.mark.parametrize(
    "write",
    [
        lambda body: sign(body),
        lambda body: sign(body).upper(),
        lambda body: base64_signature(body),
        lambda body: base64_signature(body).rstrip("="),
        lambda body: base64_signature(body, urlsafe=True),
    ],
    ids=["hex", "HEX", "base64", "base64-unpadded", "base64-urlsafe"],
)
def test_a_signature_in_hex_or_base64_is_accepted(alice_profile, atomic, deliver, write):
    body = event_body("task_status_updated_completed")
    assert deliver(body, signature=write(body)).status_code == 200
    assert Task.objects.get().status == "completed"


def test_a_base64_signature_under_the_previous_secret_is_accepted_during_rotation(
    alice_profile, atomic, deliver, settings
):
    settings.ATOMIC_API_SECRET_PREVIOUS = "webhook-previous-secret"
    body = event_body("task_status_updated_completed")
    signature = base64_signature(body, "webhook-previous-secret")
    assert deliver(body, signature=signature).status_code == 200


@pytest.mark.parametrize(
    "signature",
    [
        base64.b64encode(b"\x00" * 32).decode(),
        base64.b64encode(b"\x01" * 31).decode(),
        base64.b64encode(b"\x01" * 33).decode(),
        "!" * 44,
    ],
    ids=["wrong-digest", "short", "long", "not-base64"],
)
def test_a_wrong_base64_signature_is_refused(alice_profile, atomic, deliver, signature):
    assert deliver(
        event_body("task_status_updated_completed"), signature=signature
    ).status_code == (401)
    assert not Task.objects.exists()


def test_the_signature_encoding_is_named_for_the_conformance_report():
    body = b"{}"
    assert [
        signature_encoding(sign(body)),
        signature_encoding(base64_signature(body)),
        signature_encoding(None),
        signature_encoding("nope"),
    ] == ["hex", "base64", "none", "unreadable"]


# --- Refused requests keep a record of fixed size; big signed bodies are read in chunks --------


def test_a_refused_request_keeps_a_fixed_size_record_whatever_its_headers(alice_profile, deliver):
    body = event_body("task_status_updated_completed")
    attacker = {f"X-Filler-{n}": "f" * 8000 for n in range(40)}
    attacker |= {"User-Agent": "u" * 8000, "X-Forwarded-For": "203.0.113.9, " * 500}
    response = deliver(body, ce_id="c" * 8000, signature="0" * 64, **attacker)
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    assert event.body == ""
    assert set(event.headers) <= {
        "ce-id",
        "ce-type",
        "ce-source",
        "ce-time",
        "ce-specversion",
        "content-type",
        "user-agent",
        "x-forwarded-for",
    }
    stored = len(json.dumps(event.headers)) + len(event.ce_id) + len(event.note)
    assert stored < 1024, stored
    assert event.note == "Signature missing or wrong (hex): not processed, body not kept."


def test_a_request_without_a_readable_signature_is_refused_before_its_body_is_read(
    alice_profile, client
):
    body = event_body("task_status_updated_completed")
    response = client.post(
        "/webhooks/atomic/", data=body, content_type="application/json", headers={"ce-id": "x"}
    )
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    # Never read: the size is the one declared, and there is no digest of bytes never seen.
    assert (event.body_size, event.body_sha256, event.state) == (
        len(body),
        "",
        "rejected_signature",
    )
    assert "(none)" in event.note


def test_a_signed_body_of_a_few_megabytes_is_read_in_chunks_and_kept(
    alice_profile, atomic, deliver
):
    payload = json.loads(event_body("pay_link_accounts_updated"))
    payload["data"] = {"accounts": [{"_id": f"a{n}", "name": "x" * 1000} for n in range(3000)]}
    body = json.dumps(payload).encode()
    assert 3_000_000 < len(body) < 5 * 1024 * 1024
    assert deliver(body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.body_size) == (WebhookState.PROCESSED, len(body))
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")


def test_a_signed_body_over_the_cap_is_refused_with_413(alice_profile, deliver, settings):
    settings.PAYLINK_WEBHOOK_MAX_BYTES = 200 * 1024
    body = json.dumps({"eventType": "pay-link-accounts-updated", "pad": "x" * 300_000}).encode()
    assert deliver(body).status_code == 413
    assert not WebhookEvent.objects.exists()
