"""`GET /metrics`: every process's counters, and figures read from the database at scrape time.

Not public: it answers only with `Authorization: Bearer <PAYLINK_METRICS_TOKEN>`, and not at all
(the ordinary 404) while that setting is empty. Like the health probes it is answered before
the host-name check and the HTTPS redirect, so a Prometheus may scrape an instance's address.

The counters come from every process's file in PROMETHEUS_MULTIPROC_DIR (summed), the rest
from the one place that knows: the task queue (jobs waiting, the oldest one's age, per queue),
the tasks table (tasks by status and failure reason), the webhook table (verified events not
yet processed) and the cache (when reconcile last succeeded). If the database does not answer,
the counters are still served and `paylink_scrape_database_ok` is 0.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from paylink.fail_reasons import FAIL_REASON_SENTENCES
from paylink.lib.health import ready_jobs
from paylink.models import Task, TaskStatus, WebhookEvent, WebhookState
from paylink.observability.metrics_files import metrics_folder_make
from paylink.selectors.reconcile import reconcile_succeeded_at

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


def queue_figures() -> dict[str, tuple[int, float]]:
    """Per queue: jobs waiting to run now, and seconds the oldest of them has waited."""
    now = timezone.now()
    figures = dict.fromkeys(settings.TASK_QUEUES, (0, 0.0))
    jobs = ready_jobs()
    if jobs is None:
        return figures
    rows = jobs.values("queue_name").annotate(waiting=Count("id"), oldest=Min("enqueued_at"))
    for row in rows:
        first: datetime = row["oldest"]
        figures[row["queue_name"]] = (row["waiting"], max(0.0, (now - first).total_seconds()))
    return figures


def fail_reason_label(value: str) -> str:
    """A failure reason as a label: Atomic's known codes as they are, anything else `other`."""
    if not value:
        return ""
    return value if value in FAIL_REASON_SENTENCES else "other"


class DatabaseCollector(Collector):
    """Figures whose truth is in the database or the shared cache, read at each scrape."""

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "paylink_scrape_database_ok", "1 if the database answered this scrape, else 0."
        )
        try:
            queues = queue_figures()
            tasks = list(
                Task.objects.values("status", "fail_reason").annotate(n=Count("id")).order_by()
            )
            unprocessed = WebhookEvent.objects.filter(
                state__in=[WebhookState.RECEIVED, WebhookState.FAILED]
            ).aggregate(n=Count("id"), oldest=Min("received_at"))
            reconciled = reconcile_succeeded_at()
        except Exception as exc:
            logger.warning("metrics: the database or cache did not answer: %s", type(exc).__name__)
            ok.add_metric([], 0)
            yield ok
            return
        ok.add_metric([], 1)
        yield ok

        waiting = GaugeMetricFamily(
            "paylink_jobs_waiting", "Background jobs ready to run, by queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "paylink_job_oldest_age_seconds",
            "Seconds the oldest job ready to run has waited, by queue (0 when none waits).",
            labels=["queue"],
        )
        for name, (count, age) in sorted(queues.items()):
            waiting.add_metric([name], count)
            oldest.add_metric([name], age)
        yield waiting
        yield oldest

        by_status = GaugeMetricFamily(
            "paylink_tasks",
            "Atomic tasks the host knows, by status and failure reason (Atomic's code, or "
            "`other`); a count of rows, so use delta() or increase() for outcomes over time.",
            labels=["status", "fail_reason"],
        )
        totals: dict[tuple[str, str], int] = {}
        for row in tasks:
            status = row["status"] if row["status"] in TaskStatus.values else "other"
            key = (status, fail_reason_label(row["fail_reason"]))
            totals[key] = totals.get(key, 0) + row["n"]
        for (status, reason), count in sorted(totals.items()):
            by_status.add_metric([status, reason], count)
        yield by_status

        backlog = GaugeMetricFamily(
            "paylink_webhook_events_unprocessed",
            "Verified webhook events received but not (or not successfully) processed yet.",
        )
        backlog.add_metric([], unprocessed["n"])
        yield backlog
        backlog_age = GaugeMetricFamily(
            "paylink_webhook_oldest_unprocessed_age_seconds",
            "Seconds since the oldest unprocessed webhook event was received (0 when none).",
        )
        first = unprocessed["oldest"]
        backlog_age.add_metric([], (timezone.now() - first).total_seconds() if first else 0)
        yield backlog_age

        last = GaugeMetricFamily(
            "paylink_reconcile_last_success_timestamp_seconds",
            "When reconcile last finished a sweep (Unix time; 0 if never since the cache began).",
        )
        try:
            when = datetime.fromisoformat(reconciled).timestamp() if reconciled else 0
        except (TypeError, ValueError):
            when = 0
        last.add_metric([], when)
        yield last


class _MultiProcessCollector(MultiProcessCollector):
    """Every process's counters, read again if a process's file went between the listing and
    its read (a starting gunicorn removes the files of processes that are gone)."""

    def collect(self) -> Iterable[Metric]:
        for _ in range(2):
            try:
                return super().collect()
            except FileNotFoundError:
                continue
        return super().collect()


def registry() -> CollectorRegistry:
    """A registry for one scrape: every process's counters (one process's own without
    multiprocess mode), plus the database's figures."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_folder_make()
        _MultiProcessCollector(scrape)
    else:
        from paylink.observability import metrics

        for metric in (
            metrics.ATOMIC_CALLS,
            metrics.ATOMIC_CALL_SECONDS,
            metrics.WEBHOOKS,
            metrics.WEBHOOK_LAG_SECONDS,
            metrics.SYNCS,
            metrics.SYNC_SECONDS,
            metrics.RECONCILE_RUNS,
            metrics.RECONCILE_CALLS,
            metrics.REFUSALS,
            metrics.REMINDER_EMAILS,
            metrics.REQUEST_SECONDS,
        ):
            scrape.register(metric)
    scrape.register(DatabaseCollector())
    return scrape


def _authorized(request: HttpRequest) -> bool:
    token = settings.PAYLINK_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not credentials.isascii():
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


def _text(status: int, sentence: str) -> HttpResponse:
    response = HttpResponse(
        sentence + "\n", status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """Answers METRICS_PATH when PAYLINK_METRICS_TOKEN is set; otherwise passes it on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != METRICS_PATH or not settings.PAYLINK_METRICS_TOKEN:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            # A scrape only reads.
            response = _text(405, "Only GET is accepted.")
            response["Allow"] = "GET, HEAD"
            return response
        if not _authorized(request):
            # Not the scraper: nothing about the host's traffic is told.
            response = _text(401, "A valid bearer token is required.")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
        response["Cache-Control"] = "no-store"
        return response
