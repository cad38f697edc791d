"""Atomic's webhooks: stored raw first, then verified, then processed (re-runnable).

Processing leans on `task_record`, which only moves a task forward, so running an event twice,
or late, or out of order, cannot undo newer news.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from paylink.models import Profile, WebhookEvent
from paylink.services.accounts import accounts_sync_request
from paylink.services.tasks import TaskOwnershipError, task_record
from paylink.vendor_json import JsonRejected, dig, fail_reason, json_object_parse, text

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-HMAC-Signature-Sha-256"
# What is kept of the request's headers: enough to audit and replay, nothing of the host's.
_KEPT_HEADERS = frozenset({"content-type", "user-agent", SIGNATURE_HEADER.lower()})


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _KEPT_HEADERS or lower.startswith("ce-"):
            kept[lower] = value[:500]
    return kept


def _body_json(body: str) -> dict[str, Any] | None:
    try:
        return json_object_parse(body)
    except JsonRejected:
        return None


def webhook_event_store(*, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Store the request as received, before any check, so nothing Atomic sent is lost.

    The searchable columns are filled from the (still unverified) body on a best-effort basis.
    """
    # NUL cannot be stored in a PostgreSQL text column; it has no place in JSON anyway.
    stored = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    kept = _kept_headers(headers)
    payload = _body_json(stored)
    ce_type = kept.get("ce-type", "")
    event_type = dig(payload, "eventType") or ce_type.removeprefix("com.atomicfi.")
    return WebhookEvent.objects.create(
        ce_id=kept.get("ce-id", "")[:200],
        event_type=text(event_type, 100),
        identifier=text(dig(payload, "user", "identifier"), 64),
        task_atomic_id=text(dig(payload, "data", "taskId"), 64),
        body=stored,
        headers=kept,
    )


def webhook_signature_valid(*, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the hex HMAC-SHA256 of the raw body under the API secret."""
    secret = settings.ATOMIC_API_SECRET
    if not signature or not secret:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def webhook_event_unverified(*, event: WebhookEvent) -> None:
    """Note on an event that its signature was missing or wrong; it is never processed."""
    event.error = "Signature missing or wrong; not processed."
    event.save(update_fields=["error"])


def webhook_event_claim(*, event: WebhookEvent) -> bool:
    """Mark a verified event valid; False when a valid event with its ce-id came before.

    The database's partial unique constraint decides, so two deliveries racing each other
    still produce exactly one valid event.
    """
    try:
        with transaction.atomic():
            WebhookEvent.objects.filter(pk=event.pk).update(signature_valid=True)
    except IntegrityError:
        WebhookEvent.objects.filter(pk=event.pk).update(
            processed_at=timezone.now(), error="Duplicate delivery of an event already received."
        )
        return False
    event.signature_valid = True
    return True


def webhook_event_reject(*, event: WebhookEvent, reason: str) -> None:
    """Close an event that will not be processed, saying why."""
    event.error = reason
    event.processed_at = timezone.now()
    event.save(update_fields=["error", "processed_at"])


def webhook_event_process(*, event: WebhookEvent) -> None:
    """Apply a valid event to the host's records. Safe to run again on the same event."""
    if not event.signature_valid:
        return
    payload = _body_json(event.body)
    note = _apply(payload) if payload is not None else "Body is not a JSON object."
    event.error = note
    event.processed_at = timezone.now()
    event.save(update_fields=["error", "processed_at"])


_KNOWN_TYPES = frozenset(
    {
        "task-status-updated",
        "task-status-patched",
        "task-authentication-status-updated",
        "pay-link-accounts-updated",
        "task-workflow-finished",
    }
)


def _apply(payload: dict[str, Any]) -> str:
    """Act on one event; the note to keep ("" when all went as expected)."""
    event_type = payload.get("eventType")
    identifier = dig(payload, "user", "identifier")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    if not isinstance(event_type, str) or event_type not in _KNOWN_TYPES:
        return f"Ignored event type {str(event_type)[:100]!r}."
    profile = None
    if isinstance(identifier, str) and identifier:
        profile = Profile.objects.filter(identifier=identifier).first()
    if profile is None:
        return "Unknown user: no profile has this identifier."
    match event_type:
        case "task-status-updated" | "task-status-patched":
            return _task_status(
                profile=profile, data=data, patched=event_type == "task-status-patched"
            )
        case "task-authentication-status-updated":
            return _task_authentication(profile=profile, data=data)
        case "pay-link-accounts-updated":
            # A nudge only: the accounts themselves are always fetched from the API.
            accounts_sync_request(profile=profile)
    # task-workflow-finished: kept on record, nothing to change.
    return ""


def _task_status(*, profile: Profile, data: dict[str, Any], patched: bool) -> str:
    task_id, status = data.get("taskId"), data.get("status")
    if not isinstance(task_id, str) or not task_id or not isinstance(status, str):
        return "Missing data.taskId or data.status."
    company = data.get("company") if isinstance(data.get("company"), dict) else {}
    try:
        change = task_record(
            profile=profile,
            atomic_id=task_id[:64],
            status=status[:32],
            fail_reason=fail_reason(data) or None,
            patched=patched,
            company_id=text(company.get("_id"), 64),
            company_name=text(company.get("name"), 200),
            product=text(data.get("product"), 32),
        )
    except TaskOwnershipError:
        return "Task belongs to another user; not changed."
    if change.completed_now:
        accounts_sync_request(profile=profile)
    return ""


def _task_authentication(*, profile: Profile, data: dict[str, Any]) -> str:
    task_id, authenticated = data.get("taskId"), data.get("authenticated")
    if not isinstance(task_id, str) or not task_id or not isinstance(authenticated, bool):
        return "Missing data.taskId or data.authenticated."
    try:
        task_record(profile=profile, atomic_id=task_id[:64], authenticated=authenticated)
    except TaskOwnershipError:
        return "Task belongs to another user; not changed."
    return ""
