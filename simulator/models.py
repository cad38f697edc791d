"""What the simulated Atomic remembers: users, tokens, linked accounts, tasks, webhooks, faults."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models

from simulator.variants import CHOICES


def object_id_new() -> str:
    """A 24-hex id, the shape of Atomic's (MongoDB) ids."""
    return secrets.token_hex(12)


def iso_ms(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z, as Atomic writes dates."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SimUser(models.Model):
    atomic_id = models.CharField(max_length=24, unique=True, default=object_id_new)
    identifier = models.CharField(max_length=255, unique=True)
    # What access-token extras and PUT /user stored (cards, accounts, identity, ...).
    data = models.JSONField(default=dict, blank=True)
    monitoring_ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.identifier

    def to_ref_json(self) -> dict[str, str]:
        return {"_id": self.atomic_id, "identifier": self.identifier}


class PublicToken(models.Model):
    user = models.ForeignKey(SimUser, on_delete=models.CASCADE, related_name="tokens")
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        # Enough to tell tokens apart on the QA page, never enough to use one.
        return f"{self.token[:9]}…"


class LinkedAccount(models.Model):
    """A company the user connected through a completed connect task."""

    user = models.ForeignKey(SimUser, on_delete=models.CASCADE, related_name="linked_accounts")
    company_id = models.CharField(max_length=24)
    account_id = models.CharField(max_length=24, unique=True, default=object_id_new)
    # Changes made by completed action tasks, laid over the generated account data.
    overrides = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "company_id"], name="one_link_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company_id}"


class TaskStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class SimTask(models.Model):
    task_id = models.CharField(max_length=24, unique=True, default=object_id_new)
    workflow_id = models.CharField(max_length=24, default=object_id_new)
    user = models.ForeignKey(SimUser, on_delete=models.CASCADE, related_name="tasks")
    company_id = models.CharField(max_length=24)
    operation = models.CharField(max_length=16)  # "manage" | "action"
    action_type = models.CharField(max_length=32, blank=True)
    account_id = models.CharField(max_length=24, blank=True)
    # For an action on one of an account's named bills: which bill.
    bill_id = models.CharField(max_length=24, blank=True)
    # The sandbox username decides the outcome; kept to replay the lifecycle after a restart.
    username = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    fail_reason = models.CharField(max_length=64, blank=True)
    authenticated = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    # When the next status step is due; null once the task is final.
    next_step_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (TaskStatus.COMPLETED, TaskStatus.FAILED)

    def to_status_json(self, *, reason_key: str = "failReason") -> dict[str, Any]:
        """GET /task/{id}/status: createdAt, status and, when failed, the reason."""
        body: dict[str, Any] = {"createdAt": iso_ms(self.created_at), "status": self.status}
        if self.fail_reason:
            body[reason_key] = self.fail_reason
        return body

    def to_list_json(self, *, reason_key: str = "failReason") -> dict[str, Any]:
        """One entry of GET /user/{identifier}/tasks."""
        body: dict[str, Any] = {
            "_id": self.task_id,
            "authenticated": self.authenticated,
            "createdAt": iso_ms(self.created_at),
            "payrollDataAvailable": False,  # payroll products only; never for PayLink
            "product": "pay-link",
            "status": self.status,
        }
        if self.fail_reason:
            body[reason_key] = self.fail_reason
        return body


class DeliveryState(models.TextChoices):
    PENDING = "pending"  # waiting for its (next) attempt
    HELD = "held"  # reorder fault: waits for the next event to go first
    DELIVERED = "delivered"
    FAILED = "failed"  # every try answered badly
    DROPPED = "dropped"  # drop fault: never sent


class WebhookDelivery(models.Model):
    ce_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    user = models.ForeignKey(
        SimUser, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    # The exact bytes sent (and signed) on every try.
    body = models.TextField()
    event_time = models.CharField(max_length=32)
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Faults chosen when the event was created.
    duplicate = models.BooleanField(default=False)
    fail_first = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.ce_id} ({self.state})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    url = models.CharField(max_length=500)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"


class ApiFault(models.Model):
    endpoint = models.CharField(max_length=32)  # an endpoint name or "*"
    kind = models.CharField(max_length=16)
    remaining = models.PositiveIntegerField()
    retry_after = models.PositiveIntegerField(default=1)
    delay = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.kind} x{self.remaining}"


class WebhookFault(models.Model):
    mode = models.CharField(max_length=16)
    remaining = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.mode} x{self.remaining}"


class ConfigOverride(models.Model):
    """A runtime override of a setting, set from the QA page or POST /_sim/config."""

    key = models.CharField(max_length=64, unique=True)
    value = models.JSONField()

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}"

    @classmethod
    def current(cls, key: str, default: Any) -> Any:
        """The override for `key` if one is set, else `default` (usually a setting)."""
        row = cls.objects.filter(key=key).values_list("value", flat=True).first()
        return default if row is None else row


def choice(key: str) -> str:
    """The current value of one of CHOICES: an override from QA, else its setting."""
    values, setting = CHOICES[key]
    value = str(ConfigOverride.current(key, getattr(settings, setting)))
    # A bad setting falls back to the first (Atomic's documented) value rather than crash.
    return value if value in values else values[0]


def account_shape() -> str:
    """How accounts list their actions (see SIMULATOR_ACCOUNT_SHAPE)."""
    return choice("account_shape")


def fail_reason_key() -> str:
    """The key a failed task's reason goes out under (see SIMULATOR_FAIL_REASON_KEY)."""
    return choice("fail_reason_key")


def accounts_routes() -> str:
    """Which accounts routes answer (see SIMULATOR_ACCOUNTS_ROUTES)."""
    return choice("accounts_routes")
