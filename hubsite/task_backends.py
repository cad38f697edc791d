"""Which django.tasks backend runs the background work, from one setting.

`PAYLINK_TASKS_BACKEND` takes a short name (`database`, the default: the task table in the
host's own database and `manage.py db_worker`, enough for one machine; `rq`: Redis through
django-tasks-rq and `manage.py rqworker`, for many) or any backend's dotted path.
"""

from __future__ import annotations

from typing import Any

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
RQ_BACKEND = "django_tasks_rq.RQBackend"
# The worker command rq needs to run django.tasks jobs (bin/worker passes it).
RQ_JOB_CLASS = "django_tasks_rq.Job"

BACKENDS = {"database": DATABASE_BACKEND, "rq": RQ_BACKEND}


def task_backend_path(name: str) -> str:
    """The dotted path of the backend `name` (a short name, or a dotted path as it is)."""
    name = name.strip()
    if name in BACKENDS:
        return BACKENDS[name]
    if "." not in name:
        raise ValueError(
            f"PAYLINK_TASKS_BACKEND={name!r} is neither {' nor '.join(BACKENDS)} "
            "nor a backend's dotted path."
        )
    return name


def rq_queues(*, url: str, queues: list[str], timeout: int) -> dict[str, dict[str, Any]]:
    """django-rq's RQ_QUEUES: every django.tasks queue on the one Redis at `url`.

    `timeout` is each job's limit in seconds: a job running longer is stopped by its worker.
    """
    if not url:
        return {}
    return {name: {"URL": url, "DEFAULT_TIMEOUT": timeout} for name in queues}
