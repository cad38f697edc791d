"""One person's story for support: their tasks, browser (SDK) events, webhooks and account syncs,
newest first, on one timeline (the admin's page of a person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Model
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from paylink import tasks
from paylink.models import AccountSnapshot, Profile, SdkEvent, Task, WebhookEvent

# Of each kind, the newest this many: a page support can read, whatever the history.
PER_KIND = 50
SYNC_TASK_PATH = tasks.accounts_sync.module_path


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # task | sdk-event | webhook | sync
    summary: str
    url: str = ""


def _admin_url(model: type[Model], pk: object) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


def _tasks(profile: Profile) -> list[TimelineEntry]:
    entries = []
    for task in Task.objects.filter(profile=profile).order_by("-created_at")[:PER_KIND]:
        what = task.operation or "task"
        if task.action_type:
            what = f"{what} {task.action_type}"
        parts = [what, task.company_name or task.company_id or "?", task.status]
        if task.fail_reason:
            parts.append(task.fail_reason)
        entries.append(
            TimelineEntry(task.created_at, "task", " · ".join(parts), _admin_url(Task, task.pk))
        )
    return entries


def _sdk_events(profile: Profile) -> list[TimelineEntry]:
    rows = SdkEvent.objects.filter(profile=profile).order_by("-created_at")[:PER_KIND]
    return [
        TimelineEntry(
            event.created_at,
            "sdk-event",
            " · ".join(p for p in (event.kind, event.name, event.task_atomic_id) if p),
            _admin_url(SdkEvent, event.pk),
        )
        for event in rows
    ]


def _webhooks(profile: Profile) -> list[TimelineEntry]:
    rows = WebhookEvent.objects.filter(identifier=profile.identifier).order_by("-received_at")
    return [
        TimelineEntry(
            event.received_at,
            "webhook",
            " · ".join(p for p in (event.event_type, event.state, event.task_atomic_id) if p),
            _admin_url(WebhookEvent, event.pk),
        )
        for event in rows.defer("body", "headers", "traceback")[:PER_KIND]
    ]


def _syncs(profile: Profile) -> list[TimelineEntry]:
    entries = []
    snapshot = getattr(profile, "snapshot", None)
    if snapshot is not None:
        url = _admin_url(AccountSnapshot, snapshot.pk)
        if snapshot.fetched_at:
            entries.append(
                TimelineEntry(
                    snapshot.fetched_at, "sync", f"accounts fetched (v{snapshot.version})", url
                )
            )
        if snapshot.last_error_at:
            entries.append(
                TimelineEntry(
                    snapshot.last_error_at, "sync", f"sync failed: {snapshot.last_error}", url
                )
            )
    entries += _sync_jobs(profile)
    return entries


def _sync_jobs(profile: Profile) -> list[TimelineEntry]:
    """The person's sync jobs in the task table."""
    rows = (
        DBTaskResult.objects.filter(task_path=SYNC_TASK_PATH, args_kwargs__args__0=profile.pk)
        .order_by("-enqueued_at")
        .only("id", "status", "enqueued_at", "finished_at", "exception_class_path")[:PER_KIND]
    )
    entries = []
    for job in rows:
        summary = f"sync job {str(job.status).lower()}"
        if job.exception_class_path:
            summary += f" ({job.exception_class_path.rsplit('.', 1)[-1]})"
        entries.append(
            TimelineEntry(
                job.finished_at or job.enqueued_at,
                "sync",
                summary,
                _admin_url(DBTaskResult, job.pk),
            )
        )
    return entries


def timeline_for_profile(*, profile: Profile) -> list[TimelineEntry]:
    """Everything support looks at about one person, newest first."""
    entries = _tasks(profile) + _sdk_events(profile) + _webhooks(profile) + _syncs(profile)
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
