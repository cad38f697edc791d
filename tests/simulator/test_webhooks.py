"""Webhooks go out as Atomic sends them: signed, CloudEvents headers, retried, and faultable."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict

import pytest

from tests.waiting import wait_until


@pytest.fixture
def alice_id(sim, person, webhook_sink):
    sim.configure(webhook_url=webhook_sink.url)
    identifier = person("alice")
    sim.access_token(identifier)
    return identifier


def mine(received, identifier):
    return [r for r in received if json.loads(r.body)["user"]["identifier"] == identifier]


def deliveries_settled(sim, identifier, *, count):
    """The simulator has finished with `count` deliveries to `identifier`: none pending or held."""
    states = [d["state"] for d in sim.state()["deliveries"] if d["identifier"] == identifier]
    return len(states) == count and not {"pending", "held"} & set(states)


def event_type(request):
    return json.loads(request.body)["eventType"]


def test_each_webhook_is_signed_over_its_raw_body_with_cloudevents_headers(
    sim, alice_id, webhook_sink
):
    sim.connect(alice_id, "streamly")
    received = webhook_sink.wait_for(lambda r: len(mine(r, alice_id)) >= 5)

    for request in mine(received, alice_id):
        expected = hmac.new(sim.api_secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-hmac-signature-sha-256"] == expected
        assert request.headers["ce-specversion"] == "1.0"
        assert request.headers["ce-source"] == "com.atomicfi"
        assert request.headers["ce-type"] == f"com.atomicfi.{event_type(request)}"
        assert request.headers["ce-time"] == json.loads(request.body)["eventTime"]
        assert request.headers["content-type"] == "application/json"
        assert request.path == "/webhooks/atomic/"
    assert len({r.headers["ce-id"] for r in mine(received, alice_id)}) == 5


def test_a_retry_carries_the_same_ce_id_and_bytes(sim, alice_id, webhook_sink):
    webhook_sink.fail_next(2)

    sim.connect(alice_id, "streamly")
    received = webhook_sink.wait_for(
        lambda r: sum(1 for x in mine(r, alice_id) if x.status == 200) >= 5
    )

    by_id = defaultdict(list)
    for request in mine(received, alice_id):
        by_id[request.headers["ce-id"]].append(request)
    retried = [tries for tries in by_id.values() if len(tries) > 1]
    assert len(retried) == 2
    for tries in retried:
        assert [t.status for t in tries] == [500, 200]
        assert tries[0].body == tries[1].body
        assert tries[1].at - tries[0].at >= 0.15  # the configured retry delay (0.2 s)


def test_it_retries_exactly_three_more_times_then_gives_up(sim, alice_id, webhook_sink):
    webhook_sink.fail_next(1000)

    sim.connect(alice_id, "streamly", username="test-bad")
    # The simulator marks a delivery failed once it has given up on it: after that, no more tries.
    wait_until(
        lambda: deliveries_settled(sim, alice_id, count=4),
        what="the simulator to give up on alice's four events",
    )

    by_id = defaultdict(int)
    for request in mine(webhook_sink.received, alice_id):
        by_id[request.headers["ce-id"]] += 1
    assert list(by_id.values()) == [4, 4, 4, 4]
    states = {d["state"] for d in sim.state()["deliveries"] if d["identifier"] == alice_id}
    assert states == {"failed"}


def test_the_drop_fault_never_sends_the_event(sim, alice_id, webhook_sink):
    sim.control_webhook_faults("drop", times=1)

    sim.connect(alice_id, "streamly")
    wait_until(
        lambda: deliveries_settled(sim, alice_id, count=5),
        what="all five of alice's events to be delivered or dropped",
    )
    received = mine(webhook_sink.received, alice_id)

    types = [event_type(r) for r in mine(webhook_sink.received, alice_id)]
    assert types == [
        "task-authentication-status-updated",
        "task-status-updated",
        "pay-link-accounts-updated",
        "task-workflow-finished",
    ]
    assert json.loads(received[1].body)["data"]["status"] == "completed"
    dropped = [d for d in sim.state()["deliveries"] if d["state"] == "dropped"]
    assert dropped and dropped[0]["identifier"] == alice_id and dropped[0]["attempts"] == []


def test_the_duplicate_fault_sends_the_event_twice_with_one_ce_id(sim, alice_id, webhook_sink):
    sim.control_webhook_faults("duplicate", times=1)

    sim.connect(alice_id, "streamly")
    received = mine(webhook_sink.wait_for(lambda r: len(mine(r, alice_id)) >= 6), alice_id)

    first, second = received[0], received[1]
    assert first.headers["ce-id"] == second.headers["ce-id"]
    assert first.body == second.body
    assert len({r.headers["ce-id"] for r in received}) == 5


def test_the_reorder_fault_sends_the_event_after_the_next_one(sim, alice_id, webhook_sink):
    sim.control_webhook_faults("reorder", times=1)
    # The next event's delivery is still in flight when the task moves on and emits more: the
    # held event must still go straight after it, not after those.
    webhook_sink.slow_next(1, seconds=0.6)

    sim.connect(alice_id, "streamly")
    received = mine(webhook_sink.wait_for(lambda r: len(mine(r, alice_id)) >= 5), alice_id)

    assert [(event_type(r), json.loads(r.body)["data"].get("status")) for r in received[:3]] == [
        ("task-authentication-status-updated", None),
        ("task-status-updated", "processing"),
        ("task-status-updated", "completed"),
    ]


def test_the_fail_fault_makes_the_first_try_count_as_failed(sim, alice_id, webhook_sink):
    sim.control_webhook_faults("fail", times=1)

    sim.connect(alice_id, "streamly")
    received = mine(webhook_sink.wait_for(lambda r: len(mine(r, alice_id)) >= 5), alice_id)

    processing = [r for r in received if json.loads(r.body)["data"].get("status") == "processing"]
    assert len(processing) == 1  # the failed try never reached the receiver
    # The receiver sees the retry before the simulator records its answer: wait for the record.
    wait_until(
        lambda: deliveries_settled(sim, alice_id, count=5),
        what="the simulator to record all five of alice's deliveries",
    )
    delivery = next(
        d for d in sim.state()["deliveries"] if d["ce_id"] == processing[0].headers["ce-id"]
    )
    assert [a["error"] for a in delivery["attempts"]] == ["fault: fail", ""]
    assert [a["status_code"] for a in delivery["attempts"]] == [None, 200]


def test_the_webhook_shape_qa_picks_goes_out_signed_as_picked(sim, alice_id, webhook_sink):
    import base64

    sim.configure(
        webhook_task_id="task",
        webhook_signature="base64",
        webhook_metadata="absent",
        accounts_webhook_data="accounts",
    )
    task_id = sim.connect(alice_id, "streamly")
    received = mine(webhook_sink.wait_for(lambda r: len(mine(r, alice_id)) >= 5), alice_id)

    for request in received:
        body = json.loads(request.body)
        digest = hmac.new(sim.api_secret.encode(), request.body, hashlib.sha256).digest()
        assert request.headers["x-hmac-signature-sha-256"] == base64.b64encode(digest).decode()
        assert body["task"] == task_id
        assert "taskId" not in body["data"] and "metadata" not in body["data"]
    (updated,) = [
        json.loads(r.body) for r in received if event_type(r) == "pay-link-accounts-updated"
    ]
    (account,) = updated["data"]["accounts"]
    assert account["company"]["name"] == "Streamly"
