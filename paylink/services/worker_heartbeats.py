"""Task workers' signs of life: each `paylink_db_worker` beats every
PAYLINK_WORKER_HEARTBEAT_SECONDS from a thread of its own, whatever its task is doing, and stops
only when the process does. Recovery (services/maintenance.py) reads them: a RUNNING task whose
worker has not beaten for PAYLINK_WORKER_LOST_AFTER_SECONDS lost its worker, and one whose worker
still beats is left alone however long it runs.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from paylink.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# A worker's row outlives the worker this long (for the admin and for a late look), then goes.
FORGET_AFTER = timedelta(days=1)


def worker_heartbeat_beat(*, worker_id: str, started_at: datetime) -> None:
    """Records that `worker_id` is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id, defaults={"beat_at": timezone.now(), "started_at": started_at}
    )


def worker_heartbeat_end(*, worker_id: str) -> None:
    """A worker that stops cleanly says so: it holds no task any more."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def worker_last_beats(*, worker_ids: set[str]) -> dict[str, datetime]:
    """The last beat of each of `worker_ids` that ever beat (absent: it never did)."""
    rows = WorkerHeartbeat.objects.filter(worker_id__in=worker_ids)
    return dict(rows.values_list("worker_id", "beat_at"))


def worker_heartbeats_forget(*, now: datetime) -> int:
    """Deletes the rows of workers silent for FORGET_AFTER."""
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    return deleted


class HeartbeatThread(threading.Thread):
    """Beats for `worker_id` until stopped; a daemon, so it dies with its process, never
    outliving it to vouch for a worker that is gone."""

    def __init__(self, *, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id[:8]}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self.stopping = threading.Event()

    def beat(self) -> None:
        try:
            close_old_connections()
            worker_heartbeat_beat(worker_id=self.worker_id, started_at=self.started_at)
        except DatabaseError as error:
            # The database is away: the worker cannot finish anything either. Try again later.
            logger.warning("worker %s: heartbeat not recorded: %s", self.worker_id, error)

    def run(self) -> None:
        try:
            while not self.stopping.wait(settings.PAYLINK_WORKER_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        try:
            worker_heartbeat_end(worker_id=self.worker_id)
        except DatabaseError as error:
            logger.warning("worker %s: heartbeat not removed: %s", self.worker_id, error)
