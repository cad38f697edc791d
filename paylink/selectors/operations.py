"""The last 24 hours at a glance, for staff: what the operations page shows.

Each figure comes from the table that holds its rows (webhook events, tasks, account snapshots,
the task queue, and the hourly tallies of calls to Atomic and of syncs), so the page can link
each one to the rows behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from paylink.models import (
    AccountSnapshot,
    OperationTally,
    Task,
    TaskStatus,
    WebhookEvent,
    WebhookState,
)
from paylink.observability.exposition import queue_figures

WINDOW = timedelta(hours=24)
# How many people with a failing sync the page names; the link lists them all.
PEOPLE_SHOWN = 20


@dataclass(frozen=True)
class WebhookLag:
    processed: int
    p50_seconds: float | None
    p99_seconds: float | None


@dataclass(frozen=True)
class EndpointErrors:
    endpoint: str
    calls: int
    errors: int
    mean_ms: float

    @property
    def error_percent(self) -> float:
        return 100 * self.errors / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class QueueAge:
    queue: str
    waiting: int
    oldest_seconds: float


@dataclass(frozen=True)
class FailedSyncs:
    runs: int
    failed: int
    # (snapshot pk, username, when it last failed), most recent first.
    people: list[tuple[int, str, datetime | None]] = field(default_factory=list)
    people_count: int = 0


@dataclass(frozen=True)
class OperationsDay:
    since: datetime
    webhook_lag: WebhookLag
    webhooks_unprocessed: int
    atomic: list[EndpointErrors]
    queues: list[QueueAge]
    syncs: FailedSyncs
    # (failure reason, tasks), most first.
    fail_reasons: list[tuple[str, int]]


def _percentile(rows: QuerySet[Any], count: int, share: float) -> float | None:
    if not count:
        return None
    index = min(count - 1, int(share * count))
    lag = rows[index : index + 1].values_list("lag", flat=True).first()
    return lag.total_seconds() if lag is not None else None


def webhook_lag_since(since: datetime) -> WebhookLag:
    """p50 and p99 from eventTime to processed, over events processed since `since`."""
    rows = (
        WebhookEvent.objects.filter(
            state=WebhookState.PROCESSED, processed_at__gte=since, event_time__isnull=False
        )
        .annotate(lag=ExpressionWrapper(F("processed_at") - F("event_time"), DurationField()))
        .order_by("lag")
    )
    count = rows.count()
    return WebhookLag(count, _percentile(rows, count, 0.5), _percentile(rows, count, 0.99))


def atomic_errors_since(since: datetime) -> list[EndpointErrors]:
    """Per endpoint of Atomic's API: calls, failed calls and mean time, worst first."""
    rows = (
        OperationTally.objects.filter(kind="atomic", hour__gte=since)
        .values("name")
        .annotate(
            calls=Sum("count"),
            errors=Sum("count", filter=~Q(outcome="ok")),
            seconds=Sum("seconds"),
        )
    )
    found = [
        EndpointErrors(
            endpoint=row["name"],
            calls=row["calls"],
            errors=row["errors"] or 0,
            mean_ms=1000 * row["seconds"] / row["calls"] if row["calls"] else 0.0,
        )
        for row in rows
    ]
    return sorted(found, key=lambda e: (-e.error_percent, e.endpoint))


def failed_syncs_since(since: datetime) -> FailedSyncs:
    tallies = OperationTally.objects.filter(kind="sync", hour__gte=since).aggregate(
        runs=Sum("count"), failed=Sum("count", filter=Q(outcome="failed"))
    )
    failing = AccountSnapshot.objects.filter(last_error_at__gte=since).exclude(last_error="")
    people = list(
        failing.order_by("-last_error_at").values_list(
            "pk", "profile__user__username", "last_error_at"
        )[:PEOPLE_SHOWN]
    )
    return FailedSyncs(
        runs=tallies["runs"] or 0,
        failed=tallies["failed"] or 0,
        people=people,
        people_count=failing.count(),
    )


def fail_reasons_since(since: datetime) -> list[tuple[str, int]]:
    rows = (
        Task.objects.filter(status=TaskStatus.FAILED, updated_at__gte=since)
        .values("fail_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "fail_reason")
    )
    return [(row["fail_reason"], row["n"]) for row in rows]


def operations_day(*, now: datetime | None = None) -> OperationsDay:
    """Every figure of the operations page for the 24 hours before `now`."""
    since = (now or timezone.now()) - WINDOW
    queues = [
        QueueAge(queue=name, waiting=waiting, oldest_seconds=age)
        for name, (waiting, age) in sorted(queue_figures().items())
    ]
    return OperationsDay(
        since=since,
        webhook_lag=webhook_lag_since(since),
        webhooks_unprocessed=WebhookEvent.objects.filter(
            state__in=[WebhookState.RECEIVED, WebhookState.FAILED]
        ).count(),
        atomic=atomic_errors_since(since),
        queues=queues,
        syncs=failed_syncs_since(since),
        fail_reasons=fail_reasons_since(since),
    )
