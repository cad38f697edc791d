"""Staff views of the host's PayLink records, and the few levers support needs.

Raw payloads are read-only and pretty-printed; account numbers are cut to their last four
digits even here. Received webhooks and browser events are evidence: they cannot be added or
edited; failed webhooks can be re-run.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from paylink import client
from paylink.account_forms import time_zone_field
from paylink.atomic_values import account_numbers_masked
from paylink.lib.vendor_json import JsonRejected, json_parse
from paylink.models import (
    AccountSnapshot,
    OperationTally,
    Profile,
    SdkEvent,
    Task,
    TaskStatus,
    WebhookEvent,
    WebhookState,
)
from paylink.selectors.person_timeline import timeline_for_profile
from paylink.services.account_deletion import account_delete
from paylink.services.accounts import accounts_sync, monitoring_end
from paylink.services.webhooks import webhook_event_process


def _pretty(value: Any) -> SafeString:
    masked = account_numbers_masked(value)
    return format_html("<pre>{}</pre>", json.dumps(masked, indent=2, ensure_ascii=False))


def _report(
    modeladmin: admin.ModelAdmin, request: HttpRequest, verb: str, done: int, failed: list[str]
) -> None:
    if done:
        modeladmin.message_user(request, f"{verb}: {done} succeeded.", messages.SUCCESS)
    if failed:
        detail = "; ".join(failed[:5])
        modeladmin.message_user(
            request, f"{verb}: {len(failed)} failed ({detail}).", messages.ERROR
        )


def _sync_profiles(modeladmin: admin.ModelAdmin, request: HttpRequest, profiles: Any) -> None:
    done, failed = 0, []
    for profile in profiles:
        snapshot = accounts_sync(profile=profile)
        if snapshot.last_error:
            failed.append(f"{profile.user}: {snapshot.last_error}")
        else:
            done += 1
    _report(modeladmin, request, "Re-sync accounts", done, failed)


class ProfileAdminForm(forms.ModelForm):
    """The time zone picked from zoneinfo's, as on the person's own account page."""

    time_zone = time_zone_field()

    class Meta:
        model = Profile
        exclude: list[str] = []


# What each kind of timeline entry is called on the person's page.
TIMELINE_KINDS = {
    "task": _("Task"),
    "sdk-event": _("SDK event"),
    "webhook": _("Webhook"),
    "sync": _("Accounts sync"),
}


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = [
        "user",
        "email",
        "identifier",
        "task_count",
        "language",
        "created_at",
        "monitoring_ended_at",
    ]
    list_filter = [("monitoring_ended_at", admin.EmptyFieldListFilter), "language"]
    search_fields = ["user__username", "user__email", "identifier"]
    list_select_related = ["user"]
    fields = [
        "user",
        "identifier",
        "language",
        "time_zone",
        "created_at",
        "transact_opened_at",
        "tasks_listed_at",
        "monitoring_ended_at",
        "timeline",
    ]
    readonly_fields = [
        "identifier",
        "created_at",
        "transact_opened_at",
        "tasks_listed_at",
        "monitoring_ended_at",
        "timeline",
    ]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["resync_accounts", "end_monitoring", "delete_accounts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        return super().get_queryset(request).annotate(task_count=Count("tasks"))

    @admin.display(description=_("Email"), ordering="user__email")
    def email(self, profile: Profile) -> str:
        return profile.user.email

    @admin.display(description=_("Timeline: tasks, SDK events, webhooks and syncs, newest first"))
    def timeline(self, profile: Profile) -> SafeString:
        if profile.pk is None:
            return SafeString("")
        rows = [
            (entry, TIMELINE_KINDS.get(entry.kind, entry.kind))
            for entry in timeline_for_profile(profile=profile)
        ]
        return mark_safe(render_to_string("admin/paylink/_timeline.html", {"rows": rows}))  # noqa: S308 (an autoescaped template)

    @admin.display(description="Tasks", ordering="task_count")
    def task_count(self, profile: Profile) -> int:
        return profile.task_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.action(description="Re-sync accounts from Atomic now")
    def resync_accounts(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        _sync_profiles(self, request, queryset.select_related("user"))

    @admin.action(description="End continuous monitoring at Atomic")
    def end_monitoring(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        done, failed = 0, []
        for profile in queryset.select_related("user"):
            try:
                monitoring_end(profile=profile)
            except client.AtomicError as exc:
                failed.append(f"{profile.user}: {exc}")
            else:
                done += 1
        _report(self, request, "End monitoring", done, failed)

    @admin.action(description="Delete these people's accounts and data (ends monitoring first)")
    def delete_accounts(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        # The same path as a person's own deletion: Atomic first, then every record here.
        done, failed = 0, []
        for profile in queryset.select_related("user"):
            name = str(profile.user)
            try:
                account_delete(user=profile.user)
            except client.AtomicError as exc:
                failed.append(f"{name}: {exc}")
            else:
                done += 1
        _report(self, request, "Delete accounts", done, failed)


class TaskAdminForm(forms.ModelForm):
    """A task's status is picked from the known ones, not typed; a value Atomic sent that the
    host does not know stays listed, so saving the task never rewrites it."""

    status = forms.ChoiceField(choices=TaskStatus.choices)

    class Meta:
        model = Task
        exclude: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.status if self.instance.pk else ""
        if current and current not in TaskStatus.values:
            cast(forms.ChoiceField, self.fields["status"]).choices = [
                *TaskStatus.choices,
                (current, current),
            ]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    form = TaskAdminForm
    # What support scans first: who, which company, what was asked, where it stands, why, when.
    list_display = [
        "atomic_id",
        "person",
        "company",
        "kind",
        "status",
        "fail_reason",
        "age",
    ]
    list_filter = [
        "status",
        "operation",
        "action_type",
        "fail_reason",
        "authenticated",
        "awaiting_confirmation",
        "created_at",
    ]
    search_fields = [
        "atomic_id",
        "profile__identifier",
        "profile__user__username",
        "profile__user__email",
        "company_name",
    ]
    list_select_related = ["profile__user"]
    date_hierarchy = "created_at"
    raw_id_fields = ["profile"]
    readonly_fields = ["created_at", "updated_at", "finished_at", "status_checked_at"]

    @admin.display(description=_("Person"), ordering="profile__user__username")
    def person(self, task: Task) -> SafeString:
        url = reverse("admin:paylink_profile_change", args=[task.profile_id])
        return format_html('<a href="{}">{}</a>', url, task.profile.user.get_username())

    @admin.display(description=_("Company"), ordering="company_name")
    def company(self, task: Task) -> str:
        return task.company_name or task.company_id

    @admin.display(description=_("Kind"), ordering="operation")
    def kind(self, task: Task) -> str:
        return " ".join(part for part in (task.operation, task.action_type) if part)

    @admin.display(description=_("Age"), ordering="-created_at")
    def age(self, task: Task) -> str:
        return timesince(task.created_at, depth=1)


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(admin.ModelAdmin):
    list_display = ["profile", "version", "fetched_at", "sync_requested_at", "last_error_at"]
    list_filter = [("last_error_at", admin.EmptyFieldListFilter)]
    search_fields = ["profile__identifier", "profile__user__username"]
    list_select_related = ["profile__user"]
    readonly_fields = (
        "profile",
        "version",
        "fetched_at",
        "sync_requested_at",
        "last_error",
        "last_error_at",
        "payload_sha256",
        "payload_pretty",
    )
    fields = readonly_fields
    actions = ["resync_accounts"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Snapshots come only from Atomic; a hand-made one would be shown to users as fact.
        return False

    @admin.display(description="Payload (account numbers masked)")
    def payload_pretty(self, snapshot: AccountSnapshot) -> SafeString:
        return _pretty(snapshot.payload)

    @admin.action(description="Re-sync accounts from Atomic now")
    def resync_accounts(self, request: HttpRequest, queryset: QuerySet[AccountSnapshot]) -> None:
        profiles = [snapshot.profile for snapshot in queryset.select_related("profile__user")]
        _sync_profiles(self, request, profiles)


class _EvidenceAdmin(admin.ModelAdmin):
    """Records of what others sent: viewable and deletable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(_EvidenceAdmin):
    list_display = [
        "received_at",
        "state",
        "event_type",
        "ce_id",
        "identifier",
        "task_atomic_id",
        "event_time",
        "attempts",
        "outcome",
    ]
    list_filter = ["state", "event_type"]
    search_fields = ["ce_id", "identifier", "task_atomic_id", "event_type", "body_sha256"]
    date_hierarchy = "received_at"
    readonly_fields = (
        "received_at",
        "state",
        "ce_id",
        "event_type",
        "event_time",
        "identifier",
        "task_atomic_id",
        "processed_at",
        "duplicate_of",
        "note",
        "attempts",
        "error",
        "traceback_pretty",
        "body_size",
        "body_sha256",
        "headers_pretty",
        "body_pretty",
    )
    fields = readonly_fields
    actions = ["rerun"]

    @admin.display(description="Note or error")
    def outcome(self, event: WebhookEvent) -> str:
        return (event.error or event.note)[:120]

    @admin.display(description="Traceback")
    def traceback_pretty(self, event: WebhookEvent) -> SafeString:
        return format_html("<pre>{}</pre>", event.traceback) if event.traceback else SafeString("")

    @admin.display(description="Headers")
    def headers_pretty(self, event: WebhookEvent) -> SafeString:
        return _pretty(event.headers)

    @admin.display(description="Body")
    def body_pretty(self, event: WebhookEvent) -> SafeString:
        if event.state == WebhookState.REJECTED_SIGNATURE:
            return SafeString("<p>Not kept: the signature was missing or wrong.</p>")
        if not event.body and event.duplicate_of_id:
            return format_html(
                "<p>Not kept again: the same as event {}.</p>", event.duplicate_of_id
            )
        try:
            return _pretty(json_parse(event.body))
        except JsonRejected:
            return format_html("<pre>{}</pre>", event.body)

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("paylink.change_webhookevent")

    @admin.action(description="Re-run processing of failed events", permissions=["rerun"])
    def rerun(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        done, failed = 0, []
        # Only failed (or still queued) events: every other state is final, and refused or
        # duplicate events are never acted on, whoever asks.
        runnable = [WebhookState.FAILED, WebhookState.RECEIVED]
        skipped = queryset.exclude(state__in=runnable).count()
        for event in queryset.filter(state__in=runnable).order_by("pk"):
            # Run here rather than queued, so the outcome is on the page; no automatic retries.
            if webhook_event_process(event_id=event.pk, retry=False) == WebhookState.FAILED:
                event.refresh_from_db(fields=["error"])
                failed.append(f"event {event.pk}: {event.error}")
            else:
                done += 1
        _report(self, request, "Re-run", done, failed)
        if skipped:
            self.message_user(
                request,
                f"Re-run: {skipped} event(s) skipped (only failed or waiting events are re-run).",
                messages.WARNING,
            )


@admin.register(SdkEvent)
class SdkEventAdmin(_EvidenceAdmin):
    list_display = ["created_at", "profile", "kind", "name", "task_atomic_id"]
    list_filter = ["kind"]
    search_fields = ["name", "task_atomic_id", "profile__identifier", "profile__user__username"]
    list_select_related = ["profile__user"]
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "profile", "kind", "name", "task_atomic_id", "payload_pretty")
    fields = readonly_fields

    @admin.display(description="Payload")
    def payload_pretty(self, event: SdkEvent) -> SafeString:
        return _pretty(event.payload)


@admin.register(OperationTally)
class OperationTallyAdmin(admin.ModelAdmin):
    """The hourly counts behind the operations page (/admin/operations/): read only."""

    list_display = ["hour", "kind", "name", "outcome", "count", "seconds"]
    list_filter = ["kind", "outcome", "name"]
    date_hierarchy = "hour"
    ordering = ["-hour", "kind", "name", "outcome"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
