"""Task lifecycles follow the sandbox usernames, step by step, and are reported by webhook."""

from __future__ import annotations

import json

import pytest

from tests.waiting import wait_until


@pytest.mark.parametrize(
    ("username", "status", "fail_reason", "authenticated"),
    [
        ("test-good", "completed", None, True),
        ("test-code-mfa", "completed", None, True),
        ("test-question-mfa", "completed", None, True),
        ("test-bad", "failed", "bad-credentials", False),
        ("someone-else", "failed", "bad-credentials", False),
        ("test-failure", "failed", "unknown-failure", True),
        ("test-declined", "failed", "payment-method-declined", True),
        ("test-inactive", "failed", "subscription-inactive", True),
    ],
)
def test_each_sandbox_username_ends_as_documented(
    sim, person, username, status, fail_reason, authenticated
):
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "brightline-fiber", username=username, wait=False)

    final = sim.wait_for_task(task_id)

    assert final["status"] == status
    assert final.get("failReason") == fail_reason
    task = sim.api("GET", f"/task/{task_id}/details").json()["data"]["task"]
    assert task["authenticated"] is authenticated
    linked = [a["company"]["name"] for a in sim.accounts(alice)]
    assert linked == (["Brightline Fiber"] if status == "completed" else [])


def test_a_task_passes_through_processing(sim, person):
    # Steps long enough that a poll lands in each status even on a busy machine.
    sim.configure(task_step_seconds=1.0)
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly", wait=False)

    seen: list[str] = []

    def finished() -> bool:
        status = sim.task_status(task_id)["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("completed", "failed")

    wait_until(finished, what="the task to finish", interval=0.02, detail=lambda: str(seen))

    assert seen == ["queued", "processing", "completed"]


def events(received, identifier):
    sent = [json.loads(request.body) for request in received]
    return [event for event in sent if event["user"]["identifier"] == identifier]


def test_a_completed_connect_sends_the_webhooks_atomic_sends(sim, person, webhook_sink):
    sim.configure(webhook_url=webhook_sink.url)
    alice = person("alice")
    sim.access_token(alice)

    task_id = sim.connect(alice, "streamly", metadata={"session": "s1"})
    received = webhook_sink.wait_for(lambda r: len(events(r, alice)) >= 5)

    sent = events(received, alice)
    assert [(e["eventType"], e["data"].get("status")) for e in sent] == [
        ("task-status-updated", "processing"),
        ("task-authentication-status-updated", None),
        ("task-status-updated", "completed"),
        ("pay-link-accounts-updated", None),
        ("task-workflow-finished", "completed"),
    ]
    first = sent[0]
    assert first["user"]["identifier"] == alice
    assert first["data"]["taskId"] == task_id
    assert first["data"]["previousStatus"] == "queued"
    assert first["data"]["company"]["name"] == "Streamly"
    assert first["data"]["product"] == "pay-link"
    assert first["data"]["metadata"] == {"session": "s1"}
    assert sent[1]["data"] == {
        "taskId": task_id,
        "authenticated": True,
        "company": {"_id": first["data"]["company"]["_id"]},
        "metadata": {"session": "s1"},
    }
    assert sent[2]["data"]["previousStatus"] == "processing"
    assert sent[3]["data"]["accountIds"] == [sim.accounts(alice)[0]["_id"]]


def test_a_failed_login_reports_it_was_not_authenticated(sim, person, webhook_sink):
    sim.configure(webhook_url=webhook_sink.url)
    alice = person("alice")
    sim.access_token(alice)

    sim.connect(alice, "streamly", username="test-bad")
    received = webhook_sink.wait_for(lambda r: len(events(r, alice)) >= 4)

    sent = {e["eventType"]: e["data"] for e in events(received, alice)}
    assert sent["task-authentication-status-updated"]["authenticated"] is False
    assert sent["task-status-updated"]["failReason"] == "bad-credentials"
    assert "pay-link-accounts-updated" not in sent


# --- task-status-patched: a rare correction of a final status ----------------------------------


def test_a_final_task_can_be_patched_and_the_correction_is_sent(sim, person, webhook_sink):
    sim.configure(webhook_url=webhook_sink.url)
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly")

    answer = sim.control(
        "/_sim/tasks/patch",
        {"taskId": task_id, "status": "failed", "reason": "payment-method-locked"},
    )

    assert answer == {"taskId": task_id, "status": "failed", "failReason": "payment-method-locked"}
    assert sim.task_status(task_id)["status"] == "failed"
    received = webhook_sink.wait_for(
        lambda r: any(json.loads(x.body)["eventType"] == "task-status-patched" for x in r)
    )
    (patched,) = [json.loads(r.body) for r in received if b"task-status-patched" in r.body]
    assert patched["data"]["status"] == "failed"
    assert patched["data"]["previousStatus"] == "completed"
    assert patched["data"]["failReason"] == "payment-method-locked"


def test_a_workflow_finished_event_carries_the_task_and_its_reason(sim, person, webhook_sink):
    sim.configure(webhook_url=webhook_sink.url, fail_reason_key="reason")
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly", username="test-declined")
    received = webhook_sink.wait_for(lambda r: any(b"task-workflow-finished" in x.body for x in r))
    (finished,) = [json.loads(r.body) for r in received if b"task-workflow-finished" in r.body]
    assert finished["data"]["taskId"] == task_id
    assert (finished["data"]["status"], finished["data"]["reason"]) == (
        "failed",
        "payment-method-declined",
    )


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"taskId": "nope", "status": "failed"}, 404),
        ({"status": "failed"}, 422),
        ({"taskId": "x", "status": "processing"}, 422),
    ],
)
def test_a_patch_that_makes_no_sense_is_refused(sim, payload, status):
    answer = sim.session.post(f"{sim.url}/_sim/tasks/patch", json=payload, timeout=5)
    assert answer.status_code == status
    assert answer.json()["message"]


def test_a_task_still_running_cannot_be_patched(sim, person):
    sim.configure(task_step_seconds=30)
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly", wait=False)
    answer = sim.session.post(
        f"{sim.url}/_sim/tasks/patch", json={"taskId": task_id, "status": "failed"}, timeout=5
    )
    assert (answer.status_code, answer.json()["message"]) == (
        422,
        "Only a final task's status can be patched.",
    )
