"""Faults QA can switch on: API answers (429, 5xx, slow, malformed) and webhook mishaps.

They live in the database, not in memory, and each use is taken with one conditional UPDATE,
so concurrent requests never use a fault more times than it was set for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F

from simulator.errors import SimulatorError
from simulator.models import ApiFault, WebhookFault

API_ENDPOINTS = (
    "access-token",
    "accounts",
    "task-status",
    "task-details",
    "user-tasks",
    "user-update",
    "end-monitoring",
    "*",
)
API_KINDS = ("429", "500", "502", "503", "504", "slow", "malformed")
WEBHOOK_MODES = ("drop", "duplicate", "reorder", "fail")
MAX_TIMES = 1000


@dataclass(frozen=True)
class ApiFaultUse:
    kind: str
    retry_after: int
    delay: float


def _times(raw: Any) -> int:
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_TIMES:
        raise SimulatorError(f"times must be a whole number from 1 to {MAX_TIMES}.", status=422)
    return raw


def _number(raw: Any, *, name: str, default: float, low: float, high: float) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
        raise SimulatorError(f"{name} must be a number from {low:g} to {high:g}.", status=422)
    return float(raw)


def api_fault_add(*, payload: dict[str, Any]) -> ApiFault:
    """Validate and store an API fault from a control request."""
    endpoint, kind = payload.get("endpoint", "*"), payload.get("kind")
    if endpoint not in API_ENDPOINTS:
        raise SimulatorError(f"endpoint must be one of: {', '.join(API_ENDPOINTS)}.", status=422)
    if not isinstance(kind, str) or kind not in API_KINDS:
        raise SimulatorError(f"kind must be one of: {', '.join(API_KINDS)}.", status=422)
    retry_after = _number(
        payload.get("retry_after"), name="retry_after", default=1, low=0, high=3600
    )
    delay = _number(payload.get("delay"), name="delay", default=2, low=0, high=60)
    return ApiFault.objects.create(
        endpoint=endpoint,
        kind=kind,
        remaining=_times(payload.get("times")),
        retry_after=int(retry_after),
        delay=delay,
    )


def webhook_fault_add(*, payload: dict[str, Any]) -> WebhookFault:
    mode = payload.get("mode")
    if not isinstance(mode, str) or mode not in WEBHOOK_MODES:
        raise SimulatorError(f"mode must be one of: {', '.join(WEBHOOK_MODES)}.", status=422)
    return WebhookFault.objects.create(mode=mode, remaining=_times(payload.get("times")))


def faults_clear() -> None:
    ApiFault.objects.all().delete()
    WebhookFault.objects.all().delete()


def api_fault_take(*, endpoint: str) -> ApiFaultUse | None:
    """Use up one matching API fault, if any is left."""
    for fault in ApiFault.objects.filter(endpoint__in=(endpoint, "*"), remaining__gt=0):
        taken = ApiFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            return ApiFaultUse(kind=fault.kind, retry_after=fault.retry_after, delay=fault.delay)
    return None


def webhook_fault_take() -> str | None:
    """Use up one webhook fault, if any is left; its mode."""
    for fault in WebhookFault.objects.filter(remaining__gt=0):
        taken = WebhookFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            return fault.mode
    return None
