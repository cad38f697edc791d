"""The host's own records of Atomic: who a user is there, their tasks, accounts and events.

Vendor payloads are stored raw (JSON) where the host may need to re-read them with newer
code; the typed views of them live in `paylink.payloads`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import DurationField, ExpressionWrapper, F, Q

from paylink.lib.json_text import JsonTextField
from paylink.lib.nulls_last import NullsLastIndex
from paylink.lib.row_changes import SignallingQuerySet


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
STATUS_RANK: dict[str, int] = {
    TaskStatus.QUEUED: 0,
    TaskStatus.PROCESSING: 1,
    TaskStatus.COMPLETED: 2,
    TaskStatus.FAILED: 2,
}
TERMINAL_STATUSES: frozenset[str] = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED})


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

    @property
    def is_completed(self) -> bool:
        return self.status == TaskStatus.COMPLETED

    @property
    def is_failed(self) -> bool:
        return self.status == TaskStatus.FAILED


class TaskClaim(models.Model):
    """Another person's browser reported a task id that an earlier browser already claimed,
    both while Atomic could not be asked whose it is. Until Atomic's word settles it (the task's
    details, a signed webhook, the person's task list), each claimant sees the task's page, so
    a stranger's claim cannot hide the owner's own request; then the claims go."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="claims")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="task_claims")
    # What this claimant's browser said it launched, kept apart from the task's.
    operation = models.CharField(max_length=32, blank=True)
    action_type = models.CharField(max_length=64, blank=True)
    account_id = models.CharField("PayLink account id", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "profile"], name="taskclaim_unique_profile")
        ]

    def __str__(self) -> str:
        return f"{self.profile} claims {self.task}"


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
    # Atomic's payload as it came: the record, kept once. Pages read the typed rows below
    # (`LinkedAccount`, `Bill`...), written with it; a card reads its one account out of it.
    # A payload written without its digest (by hand, or before the rows existed) gets its
    # rows on the next read (`accounts_rows_ensure`).
    payload = JsonTextField(default=dict, blank=True)
    # The dashboard's totals that do not depend on the day, of every row of the snapshot's
    # (`selectors.snapshot_totals`): written with the rows, in the same transaction, by every
    # writer of the rows, so an unfiltered dashboard reads them instead of totalling the rows.
    # Null where not known (a snapshot written before they were kept): the dashboard then
    # totals the rows in SQL, as it did, and the next write of the rows keeps them. A change
    # to how any of them is counted must null them all (a migration), or they say the old rule.
    totals = JsonTextField(null=True, blank=True)

    # Its update()s are told too (paylink/lib/row_changes.py): a kept dashboard page is retired
    # by every write (paylink/views/dashboard_page.py).
    objects = SignallingQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Accounts of {self.profile.user} v{self.version}"


class LinkedAccount(models.Model):
    """One account of a snapshot's payload, as the typed columns pages filter, sort and total.

    Written by `accounts_store` only when the account's content changed (`digest`); the
    payload stays the record, and `manage.py paylink_rows_refill` rebuilds every row from it.
    """

    # Found by its snapshot through the (snapshot, position) index: one of its own would only
    # be one more index for every sync to write.
    snapshot = models.ForeignKey(
        AccountSnapshot, on_delete=models.CASCADE, related_name="accounts", db_index=False
    )
    # Where the account stands in the payload's `accounts` list (raw index).
    position = models.PositiveIntegerField()
    # SHA-256 of the account's canonical JSON: unchanged content is never rewritten.
    digest = models.CharField(max_length=64)
    # Of its suggestions' and payments' rows as written: a changed account whose suggestions
    # (or payments) came out the same keeps those rows.
    suggestions_digest = models.CharField(max_length=64, blank=True)
    payments_digest = models.CharField(max_length=64, blank=True)
    atomic_id = models.CharField("PayLink account id", max_length=64, blank=True)
    company_name = models.CharField(max_length=200)
    # Atomic's account type, lower case ("subscription", "telecom"...).
    kind = models.CharField(max_length=32, blank=True)
    # The account's bills as one monthly cost (paused and cancelled ones at zero).
    monthly_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    # What the account can honestly save a month (`bill_rules.account_savings`).
    monthly_savings = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # What the account's card shows beyond these columns (company branding, plans, items, the
    # latest payments, identities, actions), in Atomic's shape (`account_rows.card_of`): a card
    # is drawn from its row, so no page decodes the payload, whatever its size.
    card = JsonTextField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["snapshot", "position"])]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.position})"


class AccountsDownload(models.Model):
    """The accounts part of the person's data download as its first download after a sync
    wrote it (`selectors.account_data`): the payload as JSON with account numbers masked, then
    every bill as the download lists them, to the download's end; compressed as a piece of a
    gzip body (`lib.gzip_pieces`), sent as it is to a client that takes gzip. Good for the
    snapshot's `version` it names only: a sync that stores new data moves the version, and the
    next download writes it again.

    Kept apart from the snapshot, which many pages load.
    """

    snapshot = models.OneToOneField(
        AccountSnapshot, on_delete=models.CASCADE, related_name="download"
    )
    version = models.PositiveIntegerField()
    # Raw deflate blocks, ended by a sync flush; the CRC-32 and length of the text they hold.
    deflated = models.BinaryField()
    crc32 = models.PositiveBigIntegerField()
    size = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"Download of {self.snapshot}"


class Bill(models.Model):
    """One bill of an account: one of its named `bills[]`, or the account itself."""

    # Found by its snapshot through `bill_list_order`, which leads with it (as above).
    snapshot = models.ForeignKey(
        AccountSnapshot, on_delete=models.CASCADE, related_name="bills", db_index=False
    )
    account = models.ForeignKey(LinkedAccount, on_delete=models.CASCADE, related_name="bills")
    position = models.PositiveSmallIntegerField(default=0)
    # The bill's own name ("Apple TV+"), or the company's for an account's one bill.
    name = models.CharField(max_length=200)
    named = models.BooleanField(default=False)
    company_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    monthly_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    due_at = models.DateTimeField(null=True)
    # The due date's day in the person's time zone, and that day of its month: what the month
    # view places, pages and totals bills by in SQL (`rows_rezone` when the zone changes).
    # Null for a bill no calendar lists: without a due date, or without its account's id.
    due_day = models.DateField(null=True)
    due_dom = models.PositiveSmallIntegerField(null=True)
    cycle = models.CharField(max_length=32, blank=True)
    recurs_monthly = models.BooleanField(default=False)
    plan_title = models.CharField(max_length=200, blank=True)
    plan_status = models.CharField(max_length=64, blank=True)
    pending_type = models.CharField(max_length=64, blank=True)
    pending_status = models.CharField(max_length=64, blank=True)
    pending_start = models.DateTimeField(null=True)
    pending_end = models.DateTimeField(null=True)
    # When the plan bills nothing (`bill_rules.inactive_span`).
    inactive_kind = models.CharField(max_length=16, blank=True)
    inactive_start = models.DateTimeField(null=True)
    inactive_end = models.DateTimeField(null=True)
    autopay = models.BooleanField(null=True)
    payment_method = models.CharField(max_length=64, blank=True)
    payment_last_four = models.CharField(max_length=4, blank=True)
    # Only ever the last four characters of the account number, or nothing.
    account_last_four = models.CharField(max_length=4, blank=True)
    # Atomic's actions for this bill: [{"type", "id", "automated"}].
    actions = models.JSONField(default=list)

    class Meta:
        # In the bills list's order: its first page is the index's first entries, not a sort
        # of every bill (many share a due date). Also what the month view reads by due date.
        indexes = [
            models.Index(
                fields=["snapshot", "due_at", "company_name", "id"], name="bill_list_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.due_at}"


class Suggestion(models.Model):
    """One of Atomic's suggestions for an account: a way to save."""

    # Found by its snapshot through `suggestion_rank`, which leads with it (as above).
    snapshot = models.ForeignKey(
        AccountSnapshot, on_delete=models.CASCADE, related_name="suggestions", db_index=False
    )
    account = models.ForeignKey(LinkedAccount, on_delete=models.CASCADE, related_name="suggestions")
    # Its account's `position`, kept equal to it by the sync (`account_rows`): the ways to save
    # break ties on savings by it, read from the index below without joining the accounts.
    account_position = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=64, blank=True)
    monthly_savings = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    short_description = models.CharField(max_length=500, blank=True)
    detailed_description = models.TextField(blank=True)
    button_title = models.CharField(max_length=200, blank=True)

    class Meta:
        # In the ways to save's order: their first page is the index's first entries, not a
        # sort of every suggestion of the person's (many save the same).
        indexes = [
            NullsLastIndex(
                F("snapshot"),
                F("monthly_savings").desc(nulls_last=True),
                F("account_position"),
                F("position"),
                name="suggestion_rank",
            )
        ]

    def __str__(self) -> str:
        return self.short_description or self.category


class Payment(models.Model):
    """A past payment with a date and an amount: what the spending by month totals."""

    snapshot = models.ForeignKey(AccountSnapshot, on_delete=models.CASCADE, related_name="payments")
    account = models.ForeignKey(LinkedAccount, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(max_length=32, blank=True)
    paid_at = models.DateTimeField()
    # The first day of the month it was paid in, in the person's time zone, so the spending by
    # month is a plain GROUP BY (`rows_rezone` when the zone changes).
    paid_month = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.amount} on {self.paid_at}"


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
        verbose_name = "SDK event"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["profile", "created_at"], name="sdkevent_profile_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()


class WorkerHeartbeat(models.Model):
    """A task worker's sign of life (`manage.py paylink_db_worker` writes one every
    PAYLINK_WORKER_HEARTBEAT_SECONDS), so recovery tells a dead worker's task from a live one's
    long task within a minute or two instead of waiting out a fixed deadline."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"worker {self.worker_id} (last seen {self.beat_at:%Y-%m-%d %H:%M:%S})"


class OperationTally(models.Model):
    """How many of one kind of operation ended one way within one hour, and their total time.

    What the operations page shows over the last 24 hours and no other table keeps: calls to
    Atomic by endpoint and outcome, accounts syncs by outcome. Counted by every process as the
    operation ends (`paylink.observability.tallies`); kept as long as task results.
    """

    hour = models.DateTimeField()
    # "atomic" (name: the client method) or "sync" (name: "accounts").
    kind = models.CharField(max_length=16)
    name = models.CharField(max_length=64)
    outcome = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name_plural = "operation tallies"
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "kind", "name", "outcome"], name="operationtally_unique_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} {self.outcome} at {self.hour:%Y-%m-%d %H}:00"
