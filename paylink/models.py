"""The host's own records of Atomic: who a user is there, their tasks, accounts and events.

Vendor payloads are stored raw (JSON) where the host may need to re-read them with newer
code; the typed views of them live in `paylink.payloads`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def identifier_new() -> str:
    """An opaque Atomic identifier: random, stable once stored, never derived from the user."""
    return f"hub_{secrets.token_urlsafe(18)}"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paylink_profile"
    )
    identifier = models.CharField(
        max_length=64, unique=True, default=identifier_new, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    monitoring_ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.identifier})"


class TaskStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


# How far along each status is; a task never moves to a lower rank. Unknown statuses
# (Atomic may add some) rank with `queued`: kept and shown, but never undo progress.
STATUS_RANK = {
    TaskStatus.QUEUED: 0,
    TaskStatus.PROCESSING: 1,
    TaskStatus.COMPLETED: 2,
    TaskStatus.FAILED: 2,
}
TERMINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED})


class Task(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="tasks")
    atomic_id = models.CharField("Atomic task id", max_length=64, unique=True)
    # Not limited to TaskStatus: an unknown value from Atomic is kept as it came.
    status = models.CharField(max_length=32, default=TaskStatus.QUEUED)
    fail_reason = models.CharField(max_length=100, blank=True)
    authenticated = models.BooleanField(null=True, blank=True)
    company_id = models.CharField(max_length=64, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    product = models.CharField(max_length=32, blank=True)
    # What the host launched: "manage" or "action", and for an action its type and account.
    operation = models.CharField(max_length=32, blank=True)
    action_type = models.CharField(max_length=64, blank=True)
    account_id = models.CharField("PayLink account id", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When Atomic was last asked for this task's status (webhooks do not touch it).
    status_checked_at = models.DateTimeField(null=True, blank=True)
    # Reported by a browser while Atomic could not be asked whose it is. Such a task is not
    # listed, is asked about only to confirm it, and expires; its details at Atomic, a signed
    # webhook or the user's task list settle whose it is.
    awaiting_confirmation = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.atomic_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class AccountSnapshot(models.Model):
    """The last accounts payload fetched for a user, and how the latest sync went."""

    profile = models.OneToOneField(Profile, on_delete=models.CASCADE, related_name="snapshot")
    payload = models.JSONField(default=dict, blank=True)
    payload_sha256 = models.CharField(max_length=64, blank=True)
    # Bumped whenever the payload changes; render caches key on it.
    version = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField(null=True, blank=True)
    sync_requested_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Accounts of {self.profile.user} v{self.version}"


class WebhookEvent(models.Model):
    """A webhook request exactly as received, stored before anything else is done with it."""

    ce_id = models.CharField("ce-id", max_length=200, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    identifier = models.CharField(max_length=64, blank=True)
    task_atomic_id = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    signature_valid = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            # Only a verified event claims its ce-id: a forged copy must not block the real one.
            models.UniqueConstraint(
                fields=["ce_id"],
                condition=Q(signature_valid=True) & ~Q(ce_id=""),
                name="webhookevent_unique_valid_ce_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type or 'unknown'} {self.ce_id}"


class SdkEventKind(models.TextChoices):
    INTERACTION = "interaction"
    DATA_REQUEST = "data-request"
    FINISH = "finish"
    CLOSE = "close"


class SdkEvent(models.Model):
    """What the browser reported from the Transact SDK's callbacks."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="sdk_events")
    kind = models.CharField(max_length=32, choices=SdkEventKind.choices)
    name = models.CharField(max_length=200, blank=True)
    task_atomic_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()
