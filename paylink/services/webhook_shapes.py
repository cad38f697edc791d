"""Every shape Atomic has published for a webhook, read in one place.

Atomic's pages do not agree, so each fact is looked for wherever one of its examples put it:

- the task id: `data.taskId` (the PayLink reference's convention), a top-level `task` (the
  older developer docs' examples: a string), or `data.task` (a string, or the task object
  with its `_id`, as one description of the status endpoint wraps it). An empty string
  (Atomic's Flutter plugin fills a missing one with `""`) means no task.
- status, `previousStatus`, `authenticated` and the failure reason (`failReason` or `reason`):
  in `data`, else in the task object under `data.task`, else at the top level.
- company and product: in `data`, else at the top level (the older docs put them there).
- the signature: the HMAC-SHA256 of the raw body as hex (any case) or as base64 (standard or
  URL-safe, padded or not): the older docs say "hexdigest", the current page shows only code.

Where a fact was found is kept too (`task_id_at`, `reason_key`), for the conformance report.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from paylink.atomic_values import atomic_id
from paylink.lib.vendor_json import as_dict, flag, text

# Where the task id was found, in the order it is looked for.
TASK_ID_PLACES = ("data.taskId", "task", "task._id", "data.task", "data.task._id")
REASON_KEYS = ("failReason", "reason")
SIGNATURE_ENCODINGS = ("hex", "base64")

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_DIGEST_BYTES = 32


@dataclass(frozen=True)
class WebhookFacts:
    """What one webhook says, whichever published shape it came in."""

    task_id: str
    # One of TASK_ID_PLACES, or "" when the event names no task.
    task_id_at: str
    status: str
    previous_status: str
    authenticated: bool | None
    fail_reason: str
    # The key the reason came under (one of REASON_KEYS), or "".
    reason_key: str
    company_id: str
    company_name: str
    product: str


def _task_id(value: object, place: str) -> tuple[str, str]:
    if isinstance(value, dict):
        found = atomic_id(text(value.get("_id")))
        return (found, f"{place}._id") if found else ("", "")
    found = atomic_id(text(value))
    return (found, place) if found else ("", "")


def _first(places: list[dict[str, Any]], key: str) -> Any:
    for place in places:
        if key in place and place[key] is not None:
            return place[key]
    return None


def webhook_facts(payload: object) -> WebhookFacts:
    """The facts of one parsed webhook body; empty values for whatever it does not say."""
    body = as_dict(payload)
    data = as_dict(body.get("data"))
    task_object = as_dict(data.get("task"))
    task_id, task_id_at = "", ""
    for value, path in ((data.get("taskId"), "data.taskId"), (body.get("task"), "task")):
        task_id, task_id_at = _task_id(value, path)
        if task_id:
            break
    if not task_id:
        task_id, task_id_at = _task_id(data.get("task"), "data.task")
    # The facts of the task: the event's data first, then a task object inside it, then the top.
    places = [data, task_object, body]
    reason, reason_key = "", ""
    for place in places:
        for key in REASON_KEYS:
            reason = text(place.get(key), 100)
            if reason:
                reason_key = key
                break
        if reason:
            break
    company = as_dict(_first([data, task_object, body], "company"))
    return WebhookFacts(
        task_id=task_id,
        task_id_at=task_id_at,
        status=text(_first(places, "status"), 32),
        previous_status=text(_first(places, "previousStatus"), 32),
        authenticated=flag(_first(places, "authenticated")),
        fail_reason=reason,
        reason_key=reason_key,
        company_id=text(company.get("_id"), 64),
        company_name=text(company.get("name"), 200),
        product=text(_first([data, task_object, body], "product"), 32),
    )


def signature_digest(signature: str | None) -> bytes | None:
    """The 32 bytes a signature header carries, hex or base64; None when it carries none."""
    if not signature or not signature.isascii():
        return None
    given = signature.strip()
    if _HEX_DIGEST.fullmatch(given):
        return bytes.fromhex(given)
    # URL-safe letters read as standard ones, and missing padding restored.
    normal = given.replace("-", "+").replace("_", "/")
    normal += "=" * (-len(normal) % 4)
    if len(normal) != 44:
        return None
    try:
        digest = base64.b64decode(normal, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == _DIGEST_BYTES else None


def signature_encoding(signature: str | None) -> str:
    """ "hex", "base64", "none" (no header) or "unreadable": how a signature was written."""
    if not signature:
        return "none"
    if signature_digest(signature) is None:
        return "unreadable"
    return "hex" if _HEX_DIGEST.fullmatch(signature.strip()) else "base64"
