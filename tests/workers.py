"""The project's database worker run in this process until the queue is empty."""

from __future__ import annotations

import logging

from django.core.management import call_command


def database_worker_run(*, queue_name: str = "*") -> None:
    """`manage.py paylink_db_worker --batch`: every job waiting in `queue_name`, then it stops."""
    # The worker sets its loggers' levels for the whole process: put them back for later tests.
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [logger.level for logger in loggers]
    try:
        call_command(
            "paylink_db_worker",
            queue_name=queue_name,
            batch=True,
            reload=False,
            startup_delay=False,
            verbosity=0,
        )
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
