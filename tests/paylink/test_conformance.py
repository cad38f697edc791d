"""manage.py paylink_conformance, against the simulator: every endpoint, then every shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from paylink.models import (
    AccountSnapshot,
    SdkEvent,
    SdkEventKind,
    Task,
    WebhookEvent,
    WebhookState,
)
from paylink.services.conformance import CONVENTIONS

ENDPOINTS = (
    "access token",
    "accounts (v1)",
    "accounts (v2)",
    "task list",
    "task status",
    "task details",
    "user data",
    "end monitoring",
)


@pytest.fixture
def on_simulator(sim, settings):
    settings.ATOMIC_API_URL = sim.url
    settings.ATOMIC_API_KEY = sim.api_key
    settings.ATOMIC_API_SECRET = sim.api_secret
    return sim


def stored_webhook(n: int, payload: dict, *, signature: str) -> WebhookEvent:
    body = json.dumps(payload)
    return WebhookEvent.objects.create(
        state=WebhookState.PROCESSED,
        ce_id=f"ce-{n}",
        event_type=payload["eventType"],
        body=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        headers={"x-hmac-signature-sha-256": signature},
    )


def hex_and_base64(body: bytes) -> tuple[str, str]:
    digest = hmac.new(b"k", body, hashlib.sha256)
    return digest.hexdigest(), base64.b64encode(digest.digest()).decode()


@pytest.fixture
def sent_so_far(alice_profile, on_simulator, person):
    """What a morning of traffic leaves behind: webhooks in two shapes, SDK events, accounts."""
    sim = on_simulator
    hexed, based = hex_and_base64(b"{}")
    stored_webhook(
        1,
        {
            "eventType": "task-status-updated",
            "data": {"taskId": "t1", "status": "failed", "failReason": "x", "metadata": {}},
        },
        signature=hexed,
    )
    stored_webhook(
        2,
        {
            "eventType": "task-status-updated",
            "task": "t2",
            "data": {"status": "failed", "reason": "y"},
        },
        signature=based,
    )
    stored_webhook(
        3,
        {"eventType": "pay-link-accounts-updated", "data": {"accountIds": ["a"], "accounts": []}},
        signature=hexed,
    )
    for kind, name, payload in [
        (SdkEventKind.INTERACTION, "Initialized Transact", {"name": "Initialized Transact"}),
        (SdkEventKind.CLOSE, "", {"reason": "manual-fallback"}),
        (SdkEventKind.CLOSE, "", {"handoff": "exit-prompt"}),
        (SdkEventKind.CLOSE, "", {"reason": ""}),
    ]:
        SdkEvent.objects.create(profile=alice_profile, kind=kind, name=name, payload=payload)
    identifier = person("alice")
    sim.access_token(identifier)
    task_id = sim.connect(identifier, "orchard")
    sim.configure(account_shape="newer")
    accounts = sim.accounts(identifier)
    AccountSnapshot.objects.create(profile=alice_profile, payload={"accounts": accounts})
    Task.objects.create(profile=alice_profile, atomic_id=task_id, status="completed")
    return task_id


def run(tmp_path, *args: str) -> tuple[str, dict]:
    out = io.StringIO()
    path = tmp_path / "report.json"
    try:
        call_command("paylink_conformance", "--json", str(path), *args, stdout=out)
    finally:
        report = json.loads(path.read_text()) if path.exists() else {}
    return out.getvalue(), report


def row(output: str, label: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(label + " ")]
    return line


def test_it_prints_a_full_table_of_endpoints_and_shapes_against_the_simulator(
    sent_so_far, tmp_path
):
    output, report = run(tmp_path)

    assert "Conformance run against Atomic: simulator" in output
    for name in ENDPOINTS:
        assert "  ok  " in row(output, name), row(output, name)
    assert "status completed, parsed" in row(output, "task status")
    for convention in CONVENTIONS:
        assert convention.label in output
    placement = row(output, "Webhook task id placement")
    assert "data.taskId (1)" in placement and "task (1)" in placement
    assert placement.endswith("differs, read")
    encodings = row(output, "Webhook signature encoding")
    assert "hex (2)" in encodings and "base64 (1)" in encodings
    reasons = row(output, "Failure reason key (webhooks)")
    assert "failReason (1)" in reasons and "reason (1)" in reasons
    closes = row(output, "Transact close reasons (SDK)")
    assert "manual-fallback (1)" in closes and "handoff:exit-prompt (1)" in closes
    assert "unknown (1)" in closes and closes.endswith("differs, read")
    assert row(output, "Transact interaction names (SDK)").endswith("as assumed")
    assert "actionId" in row(output, "Account action id key")
    assert "expenses (1)" in row(output, "Where an account lists its bills")
    assert "named (2)" in row(output, "Bills named")
    updated = row(output, "pay-link-accounts-updated data keys")
    assert "accountIds (1)" in updated and "accounts (1)" in updated

    assert [e["name"] for e in report["endpoints"]] == list(ENDPOINTS)
    assert all(e["ok"] for e in report["endpoints"])
    assert {s["key"] for s in report["shapes"]} == {c.key for c in CONVENTIONS}
    # The publicToken never reaches the table or the file.
    token = re.compile(r"test-[0-9a-f]{8}-[0-9a-f]{4}")
    assert not token.search(output) and not token.search(json.dumps(report))


def test_with_nothing_stored_every_shape_is_not_seen_yet_and_a_404_counts_for_tasks(
    on_simulator, tmp_path, db
):
    output, report = run(tmp_path)
    assert "unknown id answers 404" in row(output, "task status")
    assert {s["verdict"] for s in report["shapes"]} == {"not seen yet"}


def test_a_shape_the_host_cannot_read_and_a_failing_endpoint_fail_the_run(
    sent_so_far, on_simulator, tmp_path, alice_profile
):
    on_simulator.control_faults(endpoint="user-tasks", kind="500", times=5)
    SdkEvent.objects.create(
        profile=alice_profile, kind=SdkEventKind.CLOSE, payload={"reason": "teleported"}
    )
    with pytest.raises(CommandError, match="Not conformant: task list; Transact close reasons"):
        run(tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    (tasks,) = [e for e in report["endpoints"] if e["name"] == "task list"]
    assert tasks["ok"] is False
    assert tasks["detail"].startswith(f"Atomic answered 500 to {tasks['call']}: An error occurred")
    (closes,) = [s for s in report["shapes"] if s["key"] == "close_reasons"]
    assert closes["verdict"] == "NOT READ: teleported"


def test_the_readme_carries_the_conventions_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for c in CONVENTIONS:
        accepted = "any" if c.accepted is None else ", ".join(c.accepted)
        assert f"| {c.label} | {', '.join(c.assumed)} | {accepted} | {c.source} |" in readme
