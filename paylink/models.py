"""The host's own records of Atomic: who a user is there, their tasks, accounts and events.

Vendor payloads are stored raw (JSON) where the host may need to re-read them with newer
code; the typed views of them live in `paylink.payloads`.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.utils.translation import gettext_lazy as _


def identifier_new() -> str:
    """An opaque Atomic identifier: random, stable once stored, never derived from the user."""
    return f"hub_{secrets.token_urlsafe(18)}"


# How long after opening Transact a person's task list was last read (negative: only before;
# null: never): what reconcile selects people by, and the expression its index holds.
RECONCILE_LISTED_AFTER = ExpressionWrapper(
    F("tasks_listed_at") - F("transact_opened_at"), output_field=DurationField()
)


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paylink_profile"
    )
    identifier = models.CharField(
        max_length=64, unique=True, default=identifier_new, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    monitoring_ended_at = models.DateTimeField(null=True, blank=True)
    # When the host last issued a public token (Transact opened), and when reconcile last read
    # the person's task list at Atomic: reconcile reads it until both say nothing can be missed.
    transact_opened_at = models.DateTimeField(null=True, blank=True, db_index=True)
    tasks_listed_at = models.DateTimeField(null=True, blank=True)
    # The language the person chose in the switcher; blank follows their browser.
    language = models.CharField(max_length=16, blank=True, choices=settings.LANGUAGES)
    # The person's IANA time zone ("Europe/Madrid"): what "today" and every date and time they
    # see are in. Blank until the browser reports it or the person picks one; the site's
    # TIME_ZONE meanwhile.
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # Reconcile's selection (services/reconcile.py, reconcile_open_profiles): people who
            # opened Transact, by how long after that their task list was last read (null when
            # never). Partial: people who never opened Transact are not in it, and a range scan
            # finds the few still open among millions who all opened it once.
            models.Index(
                RECONCILE_LISTED_AFTER,
                name="profile_reconcile_open",
                condition=Q(transact_opened_at__isnull=False),
            ),
        ]

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
    payload_sha256 = models.CharField(max_length=64, blank=True)
    # Bumped whenever the payload changes; render caches key on it.
    version = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField(null=True, blank=True)
    sync_requested_at = models.DateTimeField(null=True, blank=True)
    # Set while a sync is enqueued and has not started: requests meanwhile are covered by it.
    sync_queued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Megabytes at a thousand accounts, so it is the table's last column (migration 0008):
    # SQLite stores a row's columns in order, and reading any column stored after it would
    # walk its overflow pages. A warm dashboard reads only the columns above. New columns go
    # above it, through a migration that keeps it last.
    payload = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Accounts of {self.profile.user} v{self.version}"


class SnapshotAccount(models.Model):
    """One account of a snapshot's payload, kept apart for the dashboard.

    A page of the dashboard sums, filters and orders every account but shows a few: `brief`
    holds what the first needs (`paylink.payloads.account_brief_record`), `payload` the account
    as Atomic sent it, parsed only when shown. So a render reads small rows instead of decoding
    the whole payload. Rebuilt by `accounts_store` whenever the payload changes; the snapshot's
    payload stays the record. Rows whose digest is not the snapshot's are not read.
    """

    snapshot = models.ForeignKey(AccountSnapshot, on_delete=models.CASCADE, related_name="accounts")
    # The digest of the snapshot payload this row was taken from.
    payload_sha256 = models.CharField(max_length=64)
    # Where the account stands among the payload's accounts (`payloads.accounts_parse` order).
    position = models.PositiveIntegerField()
    brief = models.JSONField()
    # Last, as on the snapshot: reading the brief must not walk past the larger value.
    payload = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "position"], name="snapshotaccount_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"Account {self.position} of {self.snapshot}"


class WebhookState(models.TextChoices):
    """Where a webhook request stands. It moves forward only: received, then one final state
    (failed may be re-run to processed)."""

    # Signed by Atomic, stored and claimed; processing is queued.
    RECEIVED = "received"
    # Not provably from Atomic: only its headers, size and digest are kept, never acted on.
    REJECTED_SIGNATURE = "rejected_signature", "Rejected (signature)"
    # Atomic's retry, or a replay, of an event already received (same ce-id or same body).
    DUPLICATE = "duplicate"
    # Signed, but older than news the host already applied to the same task.
    STALE = "stale"
    # Signed, but not a JSON object the host can read.
    INVALID = "invalid"
    PROCESSED = "processed"
    # Processing raised; the error and traceback are kept and it is retried (bounded).
    FAILED = "failed"


# The states of a signed event that holds its ce-id and body digest: a later copy is a duplicate.
WEBHOOK_CLAIMING_STATES = (
    WebhookState.RECEIVED,
    WebhookState.STALE,
    WebhookState.INVALID,
    WebhookState.PROCESSED,
    WebhookState.FAILED,
)


class WebhookEvent(models.Model):
    """A webhook request as received. A signed one is stored whole before it is processed; a
    refused one keeps only its headers, size and body digest."""

    state = models.CharField(
        max_length=32, choices=WebhookState.choices, default=WebhookState.RECEIVED
    )
    ce_id = models.CharField("ce-id", max_length=200, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    event_time = models.DateTimeField("eventTime", null=True, blank=True)
    identifier = models.CharField(max_length=64, blank=True)
    task_atomic_id = models.CharField(max_length=64, blank=True)
    # Empty for a refused request: what anyone can send is not stored.
    body = models.TextField(blank=True)
    body_size = models.PositiveIntegerField(default=0)
    body_sha256 = models.CharField("body SHA-256", max_length=64, blank=True)
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    # Why the event ended as it did (ignored type, unknown user, unreadable body...).
    note = models.TextField(blank=True)
    # The last processing failure, kept until a run succeeds.
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["state", "received_at"]),
            models.Index(fields=["task_atomic_id", "event_time"]),
            # A person's events, in order: their data download and their account's deletion.
            models.Index(fields=["identifier", "received_at"], name="webhookevent_identifier"),
        ]
        constraints = [
            # Only a signed event claims its ce-id or body: a forged copy must not block the
            # real one, and a replay under a new ce-id is still a duplicate.
            models.UniqueConstraint(
                fields=["ce_id"],
                condition=Q(state__in=WEBHOOK_CLAIMING_STATES) & ~Q(ce_id=""),
                name="webhookevent_unique_claimed_ce_id",
            ),
            models.UniqueConstraint(
                fields=["body_sha256"],
                condition=Q(state__in=WEBHOOK_CLAIMING_STATES),
                name="webhookevent_unique_claimed_body",
            ),
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

    # Indexed with created_at below (a person's events in order), which also serves the cascade.
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="sdk_events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=SdkEventKind.choices)
    name = models.CharField(max_length=200, blank=True)
    task_atomic_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["profile", "created_at"], name="sdkevent_profile_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()


REMINDER_DAYS_MAX = 30


def calendar_token_new() -> str:
    """A calendar feed's secret: 256 random bits, safe in a URL path."""
    return secrets.token_urlsafe(32)


def calendar_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ReminderPreferences(models.Model):
    """What a person wants to be told about their bills, and the secret of their calendar feed.

    Reminders are opt-in: nobody gets mail they did not ask for. The feed is found by the
    SHA-256 of its token, so the database comparison reveals nothing usable about the token.
    """

    profile = models.OneToOneField(
        Profile, on_delete=models.CASCADE, related_name="reminder_preferences"
    )
    days_before = models.PositiveSmallIntegerField(
        _("days before the due date"),
        default=3,
        validators=[MaxValueValidator(REMINDER_DAYS_MAX)],
        help_text=_("From 0 (on the day) to 30."),
    )
    email_reminders = models.BooleanField(_("email me before each due date"), default=False)
    weekly_summary = models.BooleanField(_("email me a weekly summary"), default=False)
    calendar_token = models.CharField(max_length=64, editable=False)
    calendar_token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(days_before__lte=REMINDER_DAYS_MAX),
                name="reminderpreferences_days_before_at_most_30",
            )
        ]

    def __str__(self) -> str:
        return f"Reminders of {self.profile.user}"


class ReminderKind(models.TextChoices):
    DUE = "due", _("Due-date reminder")
    WEEKLY = "weekly", _("Weekly summary")


class ReminderDelivery(models.Model):
    """One email claimed for one bill and due date (or one week): the guard against repeats.

    The row is created in the same transaction that sends the mail; a second run (a retry, or
    another worker at the same moment) hits the unique constraint and sends nothing.
    """

    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # Empty for a weekly summary, which is about all of a person's accounts.
    account_id = models.CharField("PayLink account id", max_length=64, blank=True)
    # The bill's due date, or the Monday of the summary's week.
    due_date = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "kind", "account_id", "due_date"],
                name="reminderdelivery_once_per_bill_and_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id} {self.due_date}"
