"""The host's counters and histograms, in Prometheus' format.

Every process (each gunicorn worker, each job worker, the scheduler) counts into its own file
in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set up by the settings from
PAYLINK_METRICS_DIR); `/metrics` adds up the files of every process on the machine. Figures
that the database holds the truth of (jobs waiting, tasks by status) are read from it at
scrape time instead (`exposition`). The README lists each metric and what it means.

Labels are bounded: endpoints, routes and reasons come from the code or a fixed list, never from
what a caller sent.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram

from paylink.observability import tallies
from paylink.observability.metrics_files import metrics_folder_make

# Each metric below opens its file in the folder as it is made.
metrics_folder_make()

# Seconds: a call to Atomic, a request, a sync; and minutes to an hour for webhook lag.
_FAST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LAG_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)

ATOMIC_CALLS = Counter(
    "paylink_atomic_calls",
    "Calls to Atomic's API by endpoint (the client method) and outcome.",
    ["endpoint", "outcome"],
)
ATOMIC_CALL_SECONDS = Histogram(
    "paylink_atomic_call_duration_seconds",
    "How long each call to Atomic took, retries included, by endpoint.",
    ["endpoint"],
    buckets=_FAST_BUCKETS,
)
WEBHOOKS = Counter(
    "paylink_webhooks",
    "Webhook requests by stage: received (every request), refused, duplicate, stale, invalid; "
    "then processed or failed by a worker.",
    ["stage"],
)
WEBHOOK_LAG_SECONDS = Histogram(
    "paylink_webhook_lag_seconds",
    "Seconds from a webhook's eventTime to the end of its processing.",
    buckets=_LAG_BUCKETS,
)
SYNCS = Counter("paylink_syncs", "Accounts syncs by outcome (ok, failed).", ["outcome"])
SYNC_SECONDS = Histogram(
    "paylink_sync_duration_seconds", "How long each accounts sync took.", buckets=_FAST_BUCKETS
)
RECONCILE_RUNS = Counter(
    "paylink_reconcile_runs",
    "Reconcile sweeps by outcome (ok, skipped: another run held the lock, failed).",
    ["outcome"],
)
RECONCILE_CALLS = Counter(
    "paylink_reconcile_calls",
    "Reconcile's questions to Atomic by kind (task: one task's status; person: a task list) "
    "and outcome (ok, error).",
    ["kind", "outcome"],
)
REFUSALS = Counter(
    "paylink_refusals",
    "Requests refused by a rate limit (kind rate_limit, scope the limit's name) or by the "
    "sign-in throttle (kind sign_in_throttle).",
    ["kind", "scope"],
)
REMINDER_EMAILS = Counter(
    "paylink_reminder_emails",
    "Reminder and weekly-summary emails by kind (due, weekly) and outcome (sent, failed).",
    ["kind", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "paylink_http_request_duration_seconds",
    "Request latency by route name (never the raw path), method and status class (2xx...).",
    ["route", "method", "status"],
    buckets=_FAST_BUCKETS,
)


def atomic_outcome(error: BaseException | None) -> str:
    """A bounded word for how a call ended: ok, client_error (4xx), rate_limited (429),
    server_error (5xx), malformed (an answer that was not what was asked), no_answer (timeout,
    connection, or not sent under a request's deadline)."""
    if error is None:
        return "ok"
    status = getattr(error, "status", None)
    if status is None:
        return "no_answer"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "malformed"


def atomic_call[**P, R](method: Callable[P, R]) -> Callable[P, R]:
    """Counts and times each call of an AtomicClient endpoint method, named after it."""
    endpoint = method.__name__

    @functools.wraps(method)
    def observed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.monotonic()
        error: BaseException | None = None
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            error = exc
            raise
        finally:
            seconds = time.monotonic() - started
            outcome = atomic_outcome(error)
            ATOMIC_CALLS.labels(endpoint, outcome).inc()
            ATOMIC_CALL_SECONDS.labels(endpoint).observe(seconds)
            tallies.tally_add(kind="atomic", name=endpoint, outcome=outcome, seconds=seconds)

    return observed


def accounts_sync_observed[**P, R](sync: Callable[P, R]) -> Callable[P, R]:
    """Counts and times each accounts sync; a sync that recorded an error on the snapshot
    (it does not raise) counts as failed."""

    @functools.wraps(sync)
    def observed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.monotonic()
        outcome = "failed"
        try:
            snapshot = sync(*args, **kwargs)
            outcome = "failed" if getattr(snapshot, "last_error", "") else "ok"
            return snapshot
        finally:
            seconds = time.monotonic() - started
            SYNCS.labels(outcome).inc()
            SYNC_SECONDS.observe(seconds)
            tallies.tally_add(kind="sync", name="accounts", outcome=outcome, seconds=seconds)

    return observed


def webhook_stage(stage: str) -> None:
    WEBHOOKS.labels(stage).inc()


def webhook_processed(*, state: str, event_time: Any, processed_at: Any) -> None:
    """A worker finished with an event: `state` is its new state; the lag is observed for an
    event that was processed and said when it happened."""
    WEBHOOKS.labels(state if state in ("processed", "failed", "stale") else "other").inc()
    if state == "processed" and event_time is not None and processed_at is not None:
        WEBHOOK_LAG_SECONDS.observe(max(0.0, (processed_at - event_time).total_seconds()))


def refusal(*, kind: str, scope: str) -> None:
    REFUSALS.labels(kind, scope).inc()


def reminder_email(*, kind: str, outcome: str) -> None:
    REMINDER_EMAILS.labels(kind, outcome).inc()


def reconcile_run(outcome: str) -> None:
    RECONCILE_RUNS.labels(outcome).inc()


def reconcile_call(*, kind: str, failed: bool) -> None:
    RECONCILE_CALLS.labels(kind, "error" if failed else "ok").inc()


def request_observed(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)
