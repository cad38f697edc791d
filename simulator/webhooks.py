"""Webhook delivery, as Atomic does it: CloudEvents headers, an HMAC of the raw body, 3 retries.

Events are stored first (`webhook_emit`) and sent by one background thread in the order they
were created, so a slow or dead receiver never slows the API down, and a restart loses nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from simulator import background, faults
from simulator.models import (
    ConfigOverride,
    DeliveryAttempt,
    DeliveryState,
    SimUser,
    WebhookDelivery,
    choice,
    iso_ms,
)

MAX_TRIES = 4  # the first send and up to 3 retries
_wake = threading.Event()
_session = requests.Session()
_session.trust_env = False  # loopback receivers; never a proxy


def signature_for(body: bytes, encoding: str = "hex") -> str:
    """HMAC-SHA256 of the exact body bytes, keyed with the API secret: lowercase hex (Atomic's
    older docs: "hexdigest"), or base64 when QA picks it (webhook_signature)."""
    digest = hmac.new(settings.ATOMIC_API_SECRET.encode(), body, hashlib.sha256)
    if encoding == "base64":
        return base64.b64encode(digest.digest()).decode()
    return digest.hexdigest()


def shaped(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event's data and its top-level extras in the webhook shape QA picked: where the task
    id goes (webhook_task_id) and what metadata goes out (webhook_metadata)."""
    data = dict(data)
    top: dict[str, Any] = {}
    match choice("webhook_metadata"):
        case "empty":
            if "metadata" in data:
                data["metadata"] = {}
        case "absent":
            data.pop("metadata", None)
    task_id = data.get("taskId")
    if isinstance(task_id, str) and task_id:
        match choice("webhook_task_id"):
            case "task":
                del data["taskId"]
                top["task"] = task_id
            case "data.task":
                del data["taskId"]
                data["task"] = task_id
            case "data.task._id":
                del data["taskId"]
                data["task"] = {"_id": task_id}
    return data, top


def webhook_url() -> str:
    return str(ConfigOverride.current("webhook_url", settings.SIMULATOR_WEBHOOK_URL))


def retry_delay() -> float:
    return float(
        ConfigOverride.current("webhook_retry_delay", settings.SIMULATOR_WEBHOOK_RETRY_DELAY)
    )


def webhook_emit(*, event_type: str, user: SimUser | None, data: dict[str, Any]) -> WebhookDelivery:
    """Store one event for delivery; faults in force decide how it will go out."""
    now = timezone.now()
    event_time = iso_ms(now) or ""
    data, top = shaped(data)
    body = {
        "eventType": event_type,
        "eventTime": event_time,
        "user": user.to_ref_json() if user else None,
        **top,
        "data": data,
    }
    delivery = WebhookDelivery(
        ce_id=str(uuid.uuid4()),
        event_type=event_type,
        user=user,
        body=json.dumps(body, separators=(",", ":")),
        event_time=event_time,
        next_attempt_at=now,
    )
    match faults.webhook_fault_take():
        case "drop":
            delivery.state = DeliveryState.DROPPED
            delivery.next_attempt_at = None
        case "reorder":
            delivery.state = DeliveryState.HELD
        case "duplicate":
            delivery.duplicate = True
        case "fail":
            delivery.fail_first = True
    delivery.save()
    transaction.on_commit(_wake.set)
    return delivery


def _headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-source": "com.atomicfi",
        "ce-type": f"com.atomicfi.{delivery.event_type}",
        "ce-time": delivery.event_time,
        "ce-id": delivery.ce_id,
        "content-type": "application/json",
        "X-HMAC-Signature-Sha-256": signature_for(body, choice("webhook_signature")),
    }


def _send_once(delivery: WebhookDelivery, *, url: str) -> bool:
    """One POST, recorded; True when the receiver answered 200."""
    body = delivery.body.encode()
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    try:
        response = _session.post(
            url,
            data=body,
            headers=_headers(delivery, body),
            timeout=settings.SIMULATOR_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
        status_code = response.status_code
    except requests.RequestException as exc:
        error = type(exc).__name__
    DeliveryAttempt.objects.create(
        delivery=delivery,
        url=url[:500],
        status_code=status_code,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    return status_code == 200


def delivery_attempt(delivery: WebhookDelivery) -> None:
    """Make the delivery's next try and schedule a retry or close it."""
    url = webhook_url()
    due_at = delivery.next_attempt_at
    tries = delivery.attempts.count()
    if delivery.fail_first and tries == 0:
        # The fail fault: this try "happens" but counts as unanswered, so a retry follows.
        DeliveryAttempt.objects.create(delivery=delivery, url=url[:500], error="fault: fail")
        ok = False
    else:
        ok = _send_once(delivery, url=url)
        if ok and delivery.duplicate:
            _send_once(delivery, url=url)
    tries = delivery.attempts.count() - (1 if ok and delivery.duplicate else 0)
    if ok:
        delivery.state, delivery.next_attempt_at = DeliveryState.DELIVERED, None
    elif tries >= MAX_TRIES:
        delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
    else:
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_delay())
    # Conditional, so a delivery cancelled (reset) while this try was in flight stays cancelled.
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
        state=delivery.state, next_attempt_at=delivery.next_attempt_at
    )
    # Anything held back for reordering goes out right after this later event: due when this
    # one was, so it goes before whatever was emitted while this try was in flight (the sender
    # takes the oldest due first, and a held event is older than anything after it).
    WebhookDelivery.objects.filter(state=DeliveryState.HELD, id__lt=delivery.id).update(
        state=DeliveryState.PENDING, next_attempt_at=due_at or timezone.now()
    )


def deliveries_send_due() -> float:
    """Send everything due, oldest first; seconds until the next one is due."""
    while True:
        due = (
            WebhookDelivery.objects.filter(
                state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now()
            )
            .order_by("next_attempt_at", "id")
            .first()
        )
        if due is None:
            break
        delivery_attempt(due)
    upcoming = (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if upcoming is None:
        return 1.0
    return max(0.0, (upcoming - timezone.now()).total_seconds())


def sender_start() -> None:
    background.loop_start(name="simulator-webhooks", step=deliveries_send_due, wake=_wake)
