"""`/healthz` (liveness) and `/readyz` (readiness), answered before any other middleware.

They sit first in MIDDLEWARE so a load balancer's probe costs no session, no sign-in check and
no template, is not redirected to HTTPS, and is not refused for probing by IP address (the
host-name check never runs). Neither says anything sensitive: the answers name components and
"ok" or "unreachable", never an error message, a host name or a setting.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.tasks import task_backends
from django.utils import timezone

logger = logging.getLogger(__name__)

LIVENESS_PATHS = frozenset({"/healthz", "/healthz/"})
READINESS_PATHS = frozenset({"/readyz", "/readyz/"})


def database_probe() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache_probe() -> None:
    # A write and a read back: a cache that accepts writes but loses them is not ready either.
    token = secrets.token_hex(8)
    cache.set("paylink:readyz", token, timeout=30)
    if cache.get("paylink:readyz") != token:
        raise RuntimeError("the cache did not return what was just written")


def ready_jobs() -> QuerySet[Any] | None:
    """The jobs of the default backend waiting to run now; None where tasks run in the process
    that enqueues them, which has no queue to look at."""
    # Imported here: this module is loaded with the middleware, the task models with the apps.
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        return None
    return DBTaskResult.objects.ready().filter(backend_name=backend.alias)


def task_queue_probe() -> float | None:
    """Seconds the oldest waiting task has waited (None: none waiting, or no stored queue)."""
    jobs = ready_jobs()
    if jobs is None:
        return None
    oldest = jobs.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
    return None if oldest is None else round((timezone.now() - oldest).total_seconds(), 1)


# Information, not conditions: facts the apps keep in the cache, each added to the readiness
# report under its name (an app registers its own in its AppConfig.ready, so this module knows
# none of them).
CACHED_FACTS: dict[str, str] = {}

PROBES: dict[str, Callable[[], object]] = {
    "database": database_probe,
    "cache": cache_probe,
    "tasks": task_queue_probe,
}


def readiness() -> tuple[bool, dict[str, object]]:
    """Whether every component answers, and the public report of each."""
    checks: dict[str, str] = {}
    report: dict[str, object] = {"checks": checks}
    for name, probe in PROBES.items():
        try:
            value = probe()
        except Exception as exc:
            # The details go to the log for operators (one line a probe, no traceback), never
            # into the public answer.
            logger.warning("readiness: %s unreachable: %s: %.200s", name, type(exc).__name__, exc)
            checks[name] = "unreachable"
            continue
        checks[name] = "ok"
        if name == "tasks":
            report["oldest_waiting_task_seconds"] = value
    if checks["cache"] == "ok":
        for name, key in CACHED_FACTS.items():
            report[name] = cache.get(key)
    ready = all(state == "ok" for state in checks.values())
    report["status"] = "ok" if ready else "unavailable"
    return ready, report


def _answer(status: int, body: dict[str, object]) -> HttpResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    # Already logged (once, with the reason) by `readiness`; Django need not log every probe.
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's private flag
    return response


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in LIVENESS_PATHS and path not in READINESS_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            # Probes only read; anything else is not this endpoint's business.
            response = _answer(405, {"status": "method not allowed"})
            response["Allow"] = "GET, HEAD"
            return response
        if path in LIVENESS_PATHS:
            # The process answers: that is all liveness means. No I/O, so a slow database
            # never gets a healthy process restarted.
            return _answer(200, {"status": "ok"})
        ready, report = readiness()
        return _answer(200 if ready else 503, report)
