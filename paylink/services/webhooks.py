"""Atomic's webhooks: verified on the raw bytes, stored, claimed, then processed by a task.

`webhook_receive` is the one way a request becomes a `WebhookEvent`. A signed event is stored
whole before it is processed, so nothing Atomic sent is lost and processing can be re-run from
the admin; a refused request keeps a small record of fixed size (a few named headers, cut
short, its size and digest), so nobody can fill the database with bodies or headers. Every
published shape of an event is read by `webhook_shapes.webhook_facts`. An event's state moves
forward only, and so does a task's status (`task_record`): a retried, replayed, late or
out-of-order event cannot undo newer news.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import re
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from paylink import tasks
from paylink.atomic_values import account_numbers_masked
from paylink.lib.queued_insert import row_insert_queued, savepoint_if_nested
from paylink.lib.vendor_json import JsonRejected, dig, json_object_parse, text, when
from paylink.models import (
    WEBHOOK_CLAIMING_STATES,
    Profile,
    Task,
    WebhookEvent,
    WebhookState,
)
from paylink.observability.log_context import job_row_fields, log_context
from paylink.observability.metrics import webhook_processed
from paylink.services.accounts import accounts_sync_request, accounts_syncs_request
from paylink.services.tasks import (
    TaskChange,
    TaskOwnershipError,
    TasksRecording,
    task_record,
    task_told,
    tasks_told,
)
from paylink.services.webhook_shapes import (
    WebhookFacts,
    signature_digest,
    signature_encoding,
    webhook_facts,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HMAC-Signature-Sha-256"

# Header names that may carry a credential of the sender or of a proxy in front of the host.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
_SECRET_WORDS = ("secret", "token", "password", "cookie", "auth", "api-key", "apikey", "session")
_MAX_HEADERS = 40
_MAX_HEADER_CHARS = 500
# What a refused request keeps: these headers only, each cut short, so its record has a fixed
# maximum size (under 1 KB) whatever the sender puts in its headers.
_REFUSED_HEADERS = (
    "ce-id",
    "ce-type",
    "ce-source",
    "ce-time",
    "ce-specversion",
    "content-type",
    "user-agent",
    "x-forwarded-for",
)
_REFUSED_HEADER_CHARS = 64
# What a PostgreSQL JSONB or text column cannot hold.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Status news carries a time; older news than what a task already holds is stale.
_STATUS_TYPES = frozenset({"task-status-updated", "task-status-patched"})
_KNOWN_TYPES = _STATUS_TYPES | {
    "task-authentication-status-updated",
    "pay-link-accounts-updated",
    "task-workflow-finished",
}

# Seconds before each automatic re-run of a failed event; after the last one it stays failed
# for staff to re-run from the admin once the cause is fixed.
RETRY_DELAYS = (60, 300, 1500)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


class WebhookOutcome(enum.StrEnum):
    """What became of a request, for the view to answer."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    INVALID = "invalid"
    REJECTED = "rejected"


@dataclass(frozen=True)
class WebhookReceipt:
    outcome: WebhookOutcome
    # A sentence fit to send back to the caller.
    message: str
    # None when a refused request was over the per-minute cap and only logged.
    event: WebhookEvent | None


def _clean(value: str, limit: int) -> str:
    return _UNSTORABLE.sub("\ufffd", value[:limit])


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's headers minus any that may carry a credential, bounded and storable."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = _clean(name.lower(), 100)
        if lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_WORDS):
            continue
        kept[lower] = _clean(str(value), _MAX_HEADER_CHARS)
        if len(kept) >= _MAX_HEADERS:
            break
    return kept


def webhook_signature_valid(*, body: bytes, signature: str | None) -> bool:
    """Whether `signature` (hex or base64) is the HMAC-SHA256 of the raw body under the API
    secret, or under the previous one while it is being rotated out (ATOMIC_API_SECRET_PREVIOUS).
    Every configured secret is compared, in constant time, whichever matches."""
    given = signature_digest(signature)
    if given is None:
        return False
    secrets = [settings.ATOMIC_API_SECRET, settings.ATOMIC_API_SECRET_PREVIOUS]
    matches = [
        hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).digest(), given)
        for secret in secrets
        if secret
    ]
    return any(matches)


def webhook_signature_readable(signature: str | None) -> bool:
    """Whether a signature header could be a signature at all (checked before reading a body)."""
    return signature_digest(signature) is not None


def webhook_refuse(*, headers: Mapping[str, str], size: int, digest: str = "") -> WebhookReceipt:
    """Refuse a request whose signature is missing or wrong: a fixed-size record, nothing more.

    `digest` is empty when the body was never read (no readable signature to check it against).
    """
    signature = headers.get(SIGNATURE_HEADER)
    event = _rejection_record(
        headers=_refused_headers(headers),
        size=size,
        digest=digest,
        encoding=signature_encoding(signature),
    )
    return WebhookReceipt(WebhookOutcome.REJECTED, "Invalid signature.", event)


def webhook_receive(*, body: bytes, headers: Mapping[str, str]) -> WebhookReceipt:
    """Verify, store, claim and enqueue one webhook request; say what became of it.

    The signature is checked on the raw bytes before anything is parsed or stored. A signed
    event is parsed within bounds, stored whole and claims its ce-id and body digest (a later
    copy under either is a duplicate); one older than the task's news is stale. An accepted
    event is stored with the job that processes it, together or not at all: in one statement
    on PostgreSQL with the database queue (paylink/lib/queued_insert.py), so a 200 means both
    are committed.
    """
    digest = hashlib.sha256(body).hexdigest()
    if not webhook_signature_valid(body=body, signature=headers.get(SIGNATURE_HEADER)):
        return webhook_refuse(headers=headers, size=len(body), digest=digest)
    kept = _kept_headers(headers)

    try:
        payload: dict[str, Any] | None = json_object_parse(body)
        reason = ""
    except JsonRejected as error:
        payload, reason = None, str(error)
    event_type = dig(payload, "eventType") or kept.get("ce-type", "").removeprefix("com.atomicfi.")
    fields = {
        "ce_id": kept.get("ce-id", "")[:200],
        "event_type": text(event_type, 100),
        "event_time": _event_time(payload),
        "identifier": text(dig(payload, "user", "identifier"), 64),
        "task_atomic_id": webhook_facts(payload).task_id,
        "body": _stored_body(body, payload),
        "body_size": len(body),
        "body_sha256": digest,
        "headers": kept,
    }
    # The event claims its ce-id and body digest as it is stored: the database's partial unique
    # constraints decide, so two deliveries racing each other still produce exactly one
    # received event, and a copy stores nothing else.
    event = WebhookEvent(state=WebhookState.RECEIVED, **fields)
    try:
        return _judged_and_stored(event, payload=payload, reason=reason)
    except IntegrityError:
        if event.pk is not None:
            raise
    event = _duplicate_record(**fields)
    original = event.duplicate_of
    if original is not None and original.state == WebhookState.RECEIVED:
        # Its processing may never have been queued (the first answer failed after the
        # commit, which is why Atomic retries): queue it again; a second run is a no-op.
        _enqueue(original.pk)
    return WebhookReceipt(WebhookOutcome.DUPLICATE, "Already received.", event)


def _judged_and_stored(
    event: WebhookEvent, *, payload: dict[str, Any] | None, reason: str
) -> WebhookReceipt:
    """A new event stored closed, as unreadable or stale, or stored with its processing queued:
    in one statement on PostgreSQL (paylink/lib/queued_insert.py)."""
    if payload is None:
        _stored_closed(event, WebhookState.INVALID, reason)
        return WebhookReceipt(WebhookOutcome.INVALID, reason, event)
    newer = _newer_news(event)
    if newer is not None:
        _stored_closed(event, WebhookState.STALE, _stale_note(newer))
        return WebhookReceipt(WebhookOutcome.STALE, "Older than news already received.", event)
    row_insert_queued(event, tasks.webhook_event_process)
    return WebhookReceipt(WebhookOutcome.ACCEPTED, "Received.", event)


def _stored_closed(event: WebhookEvent, state: WebhookState, note: str) -> None:
    event.state = state
    event.note = note
    event.processed_at = timezone.now()
    with savepoint_if_nested():
        event.save(force_insert=True)


def _stored_body(body: bytes, payload: dict[str, Any] | None) -> str:
    """The body as kept: as received, except that account numbers keep their last four only
    (processing never needs more); signed bytes that are not UTF-8 (so invalid) are kept as
    near as text allows."""
    if payload is not None:
        masked = account_numbers_masked(payload)
        if masked != payload:
            return json.dumps(masked, ensure_ascii=False)
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _event_time(payload: dict[str, Any] | None) -> datetime | None:
    moment = when(dig(payload, "eventTime"))
    try:
        # Stored in UTC: an offset at the edge of the calendar cannot be, so it reads as none.
        return moment.astimezone(UTC) if moment is not None else None
    except OverflowError:
        return None


def _refused_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lower = {str(name).lower(): value for name, value in headers.items()}
    return {
        name: _clean(str(lower[name]), _REFUSED_HEADER_CHARS)
        for name in _REFUSED_HEADERS
        if name in lower
    }


def _rejection_record(
    *, headers: dict[str, str], size: int, digest: str, encoding: str
) -> WebhookEvent | None:
    """Record a refused request without its body, up to the per-minute cap; beyond, a log line."""
    cap = settings.PAYLINK_WEBHOOK_REJECTS_PER_MINUTE
    recent = WebhookEvent.objects.filter(
        state=WebhookState.REJECTED_SIGNATURE,
        received_at__gte=timezone.now() - timedelta(minutes=1),
    )
    # Counting at most `cap` rows keeps this cheap however hard the endpoint is hit.
    if recent[:cap].count() >= cap:
        logger.warning(
            "Webhook with a missing or wrong signature not recorded (over %s a minute): "
            "%s bytes, sha256 %s",
            cap,
            size,
            digest or "not read",
        )
        return None
    return WebhookEvent.objects.create(
        state=WebhookState.REJECTED_SIGNATURE,
        ce_id=headers.get("ce-id", ""),
        event_type=headers.get("ce-type", "").removeprefix("com.atomicfi."),
        body_size=size,
        body_sha256=digest,
        headers=headers,
        processed_at=timezone.now(),
        note=f"Signature missing or wrong ({encoding}): not processed, body not kept.",
    )


def _duplicate_record(**fields: Any) -> WebhookEvent:
    """Store a signed event whose ce-id or body an earlier one claimed, as its duplicate."""
    same = Q(body_sha256=fields["body_sha256"])
    if fields["ce_id"]:
        same |= Q(ce_id=fields["ce_id"])
    original = (
        WebhookEvent.objects.filter(same, state__in=WEBHOOK_CLAIMING_STATES).order_by("pk").first()
    )
    if original is not None and original.body_sha256 == fields["body_sha256"]:
        note = f"Same body as event {original.pk}: a retry or a replay."
        # The original holds these bytes; replaying a captured body must not fill the database.
        fields["body"] = ""
    elif original is not None:
        note = f"Same ce-id as event {original.pk}: a retry; not applied again."
    else:
        note = "A copy of an event already received."
    return WebhookEvent.objects.create(
        state=WebhookState.DUPLICATE,
        duplicate_of=original,
        processed_at=timezone.now(),
        note=note,
        **fields,
    )


def _may_be_stale(event: WebhookEvent) -> bool:
    """Whether newer news could make `event` stale: status news about a task, with its time."""
    return (
        event.event_type in _STATUS_TYPES
        and bool(event.task_atomic_id)
        and event.event_time is not None
    )


def _newer_news(event: WebhookEvent) -> WebhookEvent | None:
    """An applied status event for the same task with a later eventTime, if any."""
    if not _may_be_stale(event):
        return None
    return (
        WebhookEvent.objects.filter(
            task_atomic_id=event.task_atomic_id,
            event_type__in=_STATUS_TYPES,
            state=WebhookState.PROCESSED,
            event_time__gt=event.event_time,
        )
        .order_by("-event_time")
        .first()
    )


def _stale_note(newer: WebhookEvent) -> str:
    assert newer.event_time is not None
    return _stale_note_of(newer.pk, newer.event_time)


def _stale_note_of(pk: int, event_time: datetime) -> str:
    return f"Older than event {pk} ({event_time.isoformat()}) for this task; ignored."


def _enqueue(event_id: int, *, delay: int = 0) -> None:
    def enqueue() -> None:
        task = tasks.webhook_event_process
        if delay and task.get_backend().supports_defer:
            task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
        task.enqueue(event_id)

    if isinstance(tasks.webhook_event_process.get_backend(), DatabaseBackend):
        # The job is a row of this database: written in the event's own transaction, it commits
        # with the event or not at all, in one commit instead of two.
        enqueue()
    else:
        # Another backend (tests' immediate one) runs the job as it is enqueued: after the
        # commit, as a worker would find it.
        transaction.on_commit(enqueue)


def webhook_event_process(*, event_id: int, retry: bool = True) -> WebhookState | None:
    """Apply a received or failed event to the host's records and return its new state (None
    when the event is gone).

    Runs in one transaction, so a failure leaves no half-applied change: the event is marked
    failed with the error and traceback, and with `retry` it is run again after a delay, up to
    MAX_ATTEMPTS in all. Any other state is final and left alone. Every line its processing
    writes, and every job it enqueues, carries the event's ce-id.
    """
    event: WebhookEvent | None = None
    with ExitStack() as context:
        try:
            with transaction.atomic():
                # Locked and read at once: a second run waits here, then finds it final.
                event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
                if event is None:
                    logger.warning("webhook event %s is gone; not processed", event_id)
                    return None
                if event.state not in (WebhookState.RECEIVED, WebhookState.FAILED):
                    # Another run finished it first, or it was never to be processed.
                    return WebhookState(event.state)
                # Until the jobs it enqueues on commit are enqueued.
                context.enter_context(log_context(ce_id=event.ce_id))
                state = _event_apply(event)
        except Exception as error:  # Any failure is kept on the event, never lost.
            _failure_record(event_id=event_id, error=error, retry=retry)
            state = WebhookState.FAILED
    webhook_processed(
        state=state,
        event_time=event.event_time if event else None,
        processed_at=timezone.now(),
    )
    return state


def _event_apply(event: WebhookEvent) -> WebhookState:
    """Within the caller's transaction, with `event` locked: apply it, record its new state."""
    if _may_be_stale(event):
        # One event at a time per task, so the staleness check below holds.
        list(Task.objects.select_for_update().filter(atomic_id=event.task_atomic_id))
    newer = _newer_news(event)
    if newer is not None:
        state, note = WebhookState.STALE, _stale_note(newer)
    else:
        state, note = WebhookState.PROCESSED, _apply(json_object_parse(event.body))
    WebhookEvent.objects.filter(pk=event.pk).update(
        state=state,
        note=note,
        processed_at=timezone.now(),
        attempts=event.attempts + 1,
        error="",
        traceback="",
    )
    return state


def webhook_events_process(*, events: Sequence[tuple[int, Mapping[str, str]]]) -> None:
    """Apply the events of jobs a worker claimed together, in the order given, each under its
    job's log fields: as `webhook_event_process` would one after another, but in one
    transaction of a few statements for them all (their rows locked in one, their people read
    in one, their tasks locked in one and written in one or two, their states in one per
    outcome), where each run on its own spends a transaction of a dozen.

    Should anything fail, the whole transaction is undone and each event goes through
    `webhook_event_process` on its own instead, so a failure is kept on the event it belongs
    to and retried as ever.
    """
    try:
        with transaction.atomic():
            done = _events_apply_together(events)
    except Exception as error:  # The events are not lost: each is run on its own below.
        logger.warning(
            "%s webhook events claimed together are processed one at a time (%s)",
            len(events),
            type(error).__name__,
        )
        for event_id, fields in events:
            with log_context(**fields):
                webhook_event_process(event_id=event_id)
        return
    now = timezone.now()
    for event, state in done:
        webhook_processed(state=state, event_time=event.event_time, processed_at=now)


def _events_apply_together(
    events: Sequence[tuple[int, Mapping[str, str]]],
) -> list[tuple[WebhookEvent, WebhookState]]:
    """Within the caller's transaction: lock, apply and record the events; each new state."""
    fields_of: dict[int, Mapping[str, str]] = {}
    for event_id, fields in events:
        # An event queued twice (a redrive, Atomic's retry) is applied once; the second run
        # would find it final.
        fields_of.setdefault(event_id, fields)
    # In id order, as every worker locks them: two claims never wait on each other in a ring.
    locked = WebhookEvent.objects.select_for_update().filter(pk__in=list(fields_of)).order_by("pk")
    found = {event.pk: event for event in locked}
    todo = []
    for event_id, fields in fields_of.items():
        event = found.get(event_id)
        if event is None:
            with log_context(**fields):
                logger.warning("webhook event %s is gone; not processed", event_id)
        elif event.state in (WebhookState.RECEIVED, WebhookState.FAILED):
            todo.append(event)
    payloads = {event.pk: json_object_parse(event.body) for event in todo}
    # The tasks locked first, then the news about them read, as `_event_apply` does.
    records = _Together(todo, payloads)
    newest = _newest_news([event for event in todo if _may_be_stale(event)])
    done = []
    outcomes: dict[tuple[WebhookState, str], list[int]] = {}
    for event in todo:
        with _log_fields_until_commit({**fields_of[event.pk], "ce_id": event.ce_id}):
            moment = event.event_time if _may_be_stale(event) else None
            newer = newest.get(event.task_atomic_id) if moment is not None else None
            if newer is not None and moment is not None and newer[1] > moment:
                state, note = WebhookState.STALE, _stale_note_of(*newer)
            else:
                state, note = WebhookState.PROCESSED, _apply(payloads[event.pk], records)
                if moment is not None:
                    # Applied: the news a later event of this claim is judged against.
                    newest[event.task_atomic_id] = (event.pk, moment)
        outcomes.setdefault((state, note), []).append(event.pk)
        done.append((event, state))
    records.save()
    now = timezone.now()
    for (state, note), pks in outcomes.items():
        WebhookEvent.objects.filter(pk__in=pks).update(
            state=state,
            note=note,
            processed_at=now,
            attempts=F("attempts") + 1,
            error="",
            traceback="",
        )
    return done


def _newest_news(events: list[WebhookEvent]) -> dict[str, tuple[int, datetime]]:
    """For each task these (stale-checkable) events name, the applied status event with the
    latest eventTime after the earliest of theirs, as (id, time): one query for all."""
    times = [event.event_time for event in events if event.event_time is not None]
    if not times:
        return {}
    applied = WebhookEvent.objects.filter(
        task_atomic_id__in={event.task_atomic_id for event in events},
        event_type__in=_STATUS_TYPES,
        state=WebhookState.PROCESSED,
        event_time__gt=min(times),
    ).values_list("task_atomic_id", "pk", "event_time")
    newest: dict[str, tuple[int, datetime]] = {}
    for atomic_id, pk, moment in applied:
        if moment is not None and (atomic_id not in newest or moment > newest[atomic_id][1]):
            newest[atomic_id] = (pk, moment)
    return newest


@contextmanager
def _log_fields_until_commit(fields: Mapping[str, str]) -> Iterator[None]:
    """`log_context(**fields)` for the block, and for the callbacks it registers to run on
    commit (the accounts syncs it enqueues): Django runs those in the order registered, so
    they run between the two registered here around the block, which set the fields and take
    them away again."""
    on_commit = log_context(**fields)
    transaction.on_commit(on_commit.__enter__)
    with log_context(**fields):
        yield
    transaction.on_commit(lambda: on_commit.__exit__(None, None, None))


def _failure_record(*, event_id: int, error: Exception, retry: bool) -> None:
    attempts = (
        WebhookEvent.objects.filter(pk=event_id).values_list("attempts", flat=True).first() or 0
    ) + 1
    WebhookEvent.objects.filter(pk=event_id).update(
        state=WebhookState.FAILED,
        attempts=attempts,
        error=f"{type(error).__name__}: {error}"[:2000],
        traceback="".join(traceback.format_exception(error))[-20000:],
    )
    logger.warning(
        "Webhook event %s failed (attempt %s of %s): %s",
        event_id,
        attempts,
        MAX_ATTEMPTS,
        type(error).__name__,
    )
    if retry and attempts < MAX_ATTEMPTS:
        _enqueue(event_id, delay=RETRY_DELAYS[attempts - 1])


class _OneByOne:
    """An event's records as `webhook_event_process` makes them, one event at a time: a query
    for its person, `task_record` for its task, the task told and the sync asked for at once."""

    def profile(self, identifier: str) -> Profile | None:
        return Profile.objects.filter(identifier=identifier).first()

    def task(self, **news: Any) -> TaskChange:
        return task_record(**news)

    def told(self, atomic_id: str) -> None:
        task_told(atomic_id=atomic_id)

    def sync(self, profile: Profile) -> None:
        accounts_sync_request(profile=profile)


class _Together:
    """The records of many events made together (`webhook_events_process`): their people read
    in one query, their tasks locked in one and changed through one `TasksRecording`, the
    tasks told in one cache call and the syncs asked for together (`accounts_syncs_request`),
    all written by `save`."""

    def __init__(self, events: list[WebhookEvent], payloads: dict[int, dict[str, Any]]) -> None:
        identifiers = {dig(payload, "user", "identifier") for payload in payloads.values()}
        wanted = [identifier for identifier in identifiers if isinstance(identifier, str)]
        self._profiles = {
            profile.identifier: profile
            for profile in Profile.objects.filter(identifier__in=[i for i in wanted if i])
        }
        named = {webhook_facts(payload).task_id for payload in payloads.values()}
        named |= {event.task_atomic_id for event in events if _may_be_stale(event)}
        self._recording = TasksRecording(atomic_ids=[atomic_id for atomic_id in named if atomic_id])
        self._told: set[str] = set()
        self._syncs: list[tuple[Profile, dict[str, str]]] = []

    def profile(self, identifier: str) -> Profile | None:
        return self._profiles.get(identifier)

    def task(self, **news: Any) -> TaskChange:
        return self._recording.record(**news)

    def told(self, atomic_id: str) -> None:
        self._told.add(atomic_id)

    def sync(self, profile: Profile) -> None:
        # With the fields of the event asking, which its sync's job carries.
        self._syncs.append((profile, job_row_fields()))

    def save(self) -> None:
        self._recording.save()
        tasks_told(atomic_ids=self._told)
        accounts_syncs_request(requests=self._syncs)


_ONE_BY_ONE = _OneByOne()


def _apply(payload: dict[str, Any], records: _OneByOne | _Together = _ONE_BY_ONE) -> str:
    """Act on one event; the note to keep ("" when all went as expected)."""
    event_type = payload.get("eventType")
    identifier = dig(payload, "user", "identifier")
    if not isinstance(event_type, str) or event_type not in _KNOWN_TYPES:
        return f"Ignored event type {str(event_type)[:100]!r}."
    profile = None
    if isinstance(identifier, str) and identifier:
        profile = records.profile(identifier)
    if profile is None:
        return "Unknown user: no profile has this identifier."
    facts = webhook_facts(payload)
    match event_type:
        case "task-status-updated" | "task-status-patched":
            return _task_status(
                profile=profile,
                facts=facts,
                patched=event_type == "task-status-patched",
                records=records,
            )
        case "task-authentication-status-updated":
            return _task_authentication(profile=profile, facts=facts, records=records)
        case "pay-link-accounts-updated":
            # A nudge, whatever data it carries: the accounts are always fetched from the API,
            # whose answer is the record the dashboard is built from.
            records.sync(profile)
    # task-workflow-finished: kept on record (with its reason, if any), nothing to change.
    return ""


def _task_status(
    *, profile: Profile, facts: WebhookFacts, patched: bool, records: _OneByOne | _Together
) -> str:
    if not facts.task_id or not facts.status:
        return "Missing the task id (data.taskId, task or data.task) or the status."
    try:
        change = records.task(
            profile=profile,
            atomic_id=facts.task_id,
            status=facts.status,
            fail_reason=facts.fail_reason or None,
            patched=patched,
            company_id=facts.company_id,
            company_name=facts.company_name,
            product=facts.product,
        )
    except TaskOwnershipError:
        return "Task belongs to another user; not changed."
    # Told, so the task page's poll need not ask Atomic for a while.
    records.told(change.task.atomic_id)
    if change.completed_now:
        records.sync(profile)
    return ""


def _task_authentication(
    *, profile: Profile, facts: WebhookFacts, records: _OneByOne | _Together
) -> str:
    if not facts.task_id or facts.authenticated is None:
        return "Missing the task id (data.taskId, task or data.task) or authenticated."
    try:
        records.task(profile=profile, atomic_id=facts.task_id, authenticated=facts.authenticated)
    except TaskOwnershipError:
        return "Task belongs to another user; not changed."
    return ""
