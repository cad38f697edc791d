"""A restart loses nothing: overdue task steps are taken and unsent webhooks go out."""

from __future__ import annotations

import json

from tests.simprocess import SimulatorProcess


def test_tasks_and_webhooks_resume_after_a_crash(webhook_sink):
    process = SimulatorProcess().start()
    try:
        process.configure(webhook_url=webhook_sink.url, task_step_seconds=0.5)
        process.access_token("alice")
        task_id = process.connect("alice", "streamly", wait=False)

        process.restart(crash=True, pause=1.2)

        # Both steps fell due while the process was down; the first read takes them.
        assert [a["company"]["name"] for a in process.accounts("alice")] == ["Streamly"]
        assert process.task_status(task_id)["status"] == "completed"
        received = webhook_sink.wait_for(lambda r: len(r) >= 5)
        types = [json.loads(r.body)["eventType"] for r in received]
        assert types == [
            "task-status-updated",
            "task-authentication-status-updated",
            "task-status-updated",
            "pay-link-accounts-updated",
            "task-workflow-finished",
        ]
    finally:
        process.stop()
