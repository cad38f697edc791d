"""Background jobs carry the log context of whoever enqueued them.

On enqueue (in the request or job that asked) the context is kept for the job's id; when a
worker starts the job it is restored, with the job's id and name added; when the job ends the
worker's context is emptied, so nothing leaks into the next job. Connected to django.tasks'
signals.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from django.tasks import signals

from paylink.observability.log_context import (
    context_reset,
    job_context_restore,
    job_context_save,
)


def _enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
    job_context_save(job_id=task_result.id)


# The context each running job replaced, by job id, to put back when it ends.
_running: dict[str, Token[dict[str, str]]] = {}


def _started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token = job_context_restore(job_id=task_result.id, job_name=task_result.task.name)
    _running[str(task_result.id)] = token


def _finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token = _running.pop(str(task_result.id), None)
    if token is not None:
        context_reset(token)


def connect() -> None:
    signals.task_enqueued.connect(_enqueued, dispatch_uid="paylink-log-enqueued")
    # Ahead of the framework's own "Task ... state=RUNNING" line, so that line carries the job's
    # context too: its receiver is moved behind ours.
    signals.task_started.disconnect(signals.log_task_started)
    signals.task_started.connect(_started, dispatch_uid="paylink-log-started")
    signals.task_started.connect(signals.log_task_started)
    signals.task_finished.connect(_finished, dispatch_uid="paylink-log-finished")
