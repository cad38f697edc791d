"""`manage.py paylink_db_worker`: django-tasks-db's `db_worker`, with a heartbeat.

The same options and behaviour as `db_worker`; in addition the worker records a beat under its
worker id before it takes any task and every PAYLINK_WORKER_HEARTBEAT_SECONDS after, from a
thread of its own, so recovery can tell within a minute or two that a worker was killed
(paylink/services/maintenance.py) without ever re-running a live worker's task.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from paylink.services.worker_heartbeats import HeartbeatThread


class Command(DbWorkerCommand):
    help = "Run a database background worker that records a heartbeat"

    def handle(self, *args: Any, **options: Any) -> None:
        heartbeat = HeartbeatThread(worker_id=options["worker_id"])
        # The first beat before any task is claimed: a claimed task always has a beating worker.
        heartbeat.beat()
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
