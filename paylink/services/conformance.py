"""A conformance run for QA: does the configured Atomic answer, and send, what the host assumes?

`conformance_endpoints` calls every endpoint the host uses, for a throw-away identifier, and
checks that each answer parses as the client reads it. `conformance_shapes` reads what Atomic
actually sent so far (stored webhook events, SDK events, account snapshots) and compares each
aspect with `CONVENTIONS`, the table the README repeats: what the host first assumed, and what
it accepts. Nothing here changes a person's data; only the throw-away user is written to.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast

from paylink import client
from paylink.lib.vendor_json import JsonRejected, as_dict, as_list, json_object_parse, text
from paylink.models import (
    WEBHOOK_CLAIMING_STATES,
    AccountSnapshot,
    SdkEvent,
    SdkEventKind,
    Task,
    WebhookEvent,
)
from paylink.services.webhook_shapes import (
    REASON_KEYS,
    SIGNATURE_ENCODINGS,
    TASK_ID_PLACES,
    signature_encoding,
    webhook_facts,
)
from paylink.services.webhooks import SIGNATURE_HEADER

# Stored rows read per source: enough to see every shape, bounded however long the host ran.
ROWS_READ = 2000

WEBHOOK_TYPES = (
    "task-status-updated",
    "task-authentication-status-updated",
    "task-status-patched",
    "pay-link-accounts-updated",
    "task-workflow-finished",
)
CLOSE_KEYS = (
    "unknown",
    "dismissed",
    "task-pending",
    "zero-search-results",
    "manual-fallback",
    "handoff:exit-prompt",
    "handoff:high-latency",
    # The host's own: recorded when the SDK throws instead of opening Transact.
    "sdk-refused",
)


@dataclass(frozen=True)
class Convention:
    """One aspect of Atomic's shapes: what the host assumed first, and everything it reads."""

    key: str
    label: str
    assumed: tuple[str, ...]
    # None: the host accepts any value (stored or shown, never acted on by value).
    accepted: tuple[str, ...] | None
    source: str


CONVENTIONS = (
    Convention(
        "webhook_event_types",
        "Webhook event types",
        WEBHOOK_TYPES,
        None,
        "Atomic's webhook reference; other types are kept and ignored with a note",
    ),
    Convention(
        "task_id_placement",
        "Webhook task id placement",
        ("data.taskId",),
        TASK_ID_PLACES,
        "ours (data.taskId); Atomic's older docs put it in a top-level task",
    ),
    Convention(
        "signature_encoding",
        "Webhook signature encoding",
        ("hex",),
        SIGNATURE_ENCODINGS,
        "Atomic's older docs (hexdigest); its current page shows only code",
    ),
    Convention(
        "reason_key",
        "Failure reason key (webhooks)",
        ("failReason",),
        REASON_KEYS,
        "ours (failReason, the API reference's); PayLink webhooks may say reason",
    ),
    Convention(
        "webhook_metadata",
        "Webhook metadata",
        ("present",),
        None,
        "@atomicfi/transact-javascript config: metadata echoed in webhooks",
    ),
    Convention(
        "accounts_updated_data",
        "pay-link-accounts-updated data keys",
        ("accountIds",),
        None,
        "ours: a nudge; the accounts are always fetched from the API",
    ),
    Convention(
        "close_reasons",
        "Transact close reasons (SDK)",
        ("unknown", "task-pending", "zero-search-results", "manual-fallback"),
        CLOSE_KEYS,
        "@atomicfi/transact-javascript 3.2.0; dismissed (iOS SDK), handoffs (Atomic's docs)",
    ),
    Convention(
        "interaction_names",
        "Transact interaction names (SDK)",
        (
            "Initialized Transact",
            "Viewed Action Confirmation Page",
            "Viewed Login Page",
            "Viewed MFA Page",
            "Viewed Payments Hub",
            "Viewed Search By Company Page",
            "Viewed Task Completed Page",
            "Viewed Task Failed Page",
            "Viewed Task Progress Page",
        ),
        None,
        "Atomic names two (Initialized Transact, Viewed Task Completed Page); the rest ours",
    ),
    Convention(
        "account_action_id_key",
        "Account action id key",
        ("id",),
        ("id", "actionId"),
        "the API reference's Hulu example (id); newer apps say actionId",
    ),
    Convention(
        "account_bill_lists",
        "Where an account lists its bills",
        ("none",),
        ("none", "bills", "expenses"),
        "the API reference's Hulu example (none); Atomic's glossary: bills per account",
    ),
    Convention(
        "bill_names",
        "Bills named",
        ("named",),
        ("named", "unnamed"),
        "Atomic's glossary (an Apple account with Apple TV+ and NY Times bills)",
    ),
)


@dataclass(frozen=True)
class EndpointResult:
    name: str
    call: str
    ok: bool
    detail: str
    milliseconds: int


@dataclass
class AspectResult:
    key: str
    label: str
    assumed: list[str]
    accepted: list[str] | None
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if not self.seen:
            return "not seen yet"
        values = set(self.seen)
        if values <= set(self.assumed):
            return "as assumed"
        if self.accepted is None or values <= set(self.accepted):
            return "differs, read"
        return "NOT READ: " + ", ".join(sorted(values - set(self.accepted)))


def _timed(name: str, call: str, probe: Callable[[], str]) -> EndpointResult:
    started = time.monotonic()
    try:
        detail, ok = probe(), True
    except client.AtomicError as error:
        detail, ok = str(error), False
    return EndpointResult(name, call, ok, detail, int((time.monotonic() - started) * 1000))


def conformance_endpoints(*, identifier: str = "", task_id: str = "") -> list[EndpointResult]:
    """Call every endpoint the host uses, for a throw-away identifier; one result each.

    `task_id` names a task to ask about (default: the newest the host knows); with none, an
    unknown id is asked about and a 404 with Atomic's error shape counts as the right answer.
    """
    atomic = client.atomic_client()
    identifier = identifier or f"conformance-{secrets.token_hex(6)}"
    known = (
        task_id or Task.objects.order_by("-created_at").values_list("atomic_id", flat=True).first()
    )
    asked = known or f"conformance{secrets.token_hex(8)}"
    results = [
        _timed(
            "access token",
            "POST /access-token",
            lambda: (
                "a publicToken (not shown)"
                if atomic.access_token_create(identifier=identifier)
                else ""
            ),
        ),
        _timed(
            "accounts (v1)",
            f"GET /{identifier}/pay-link/accounts",
            lambda: _count(atomic.accounts_v1_get(identifier=identifier)["accounts"], "account"),
        ),
        _timed(
            "accounts (v2)",
            "GET /pay-link/accounts (x-api-version: v2)",
            lambda: _count(atomic.accounts_v2_get(identifier=identifier)["accounts"], "account"),
        ),
        _timed(
            "task list",
            f"GET /user/{identifier}/tasks",
            lambda: _count(atomic.user_tasks_list(identifier=identifier), "task"),
        ),
        _timed(
            "task status",
            f"GET /task/{asked}/status",
            lambda: _task_probe(lambda: atomic.task_status_get(task_id=asked).status, known),
        ),
        _timed(
            "task details",
            f"GET /task/{asked}/details",
            lambda: _task_probe(lambda: atomic.task_details_get(task_id=asked).status, known),
        ),
        _timed(
            "user data",
            "PUT /user",
            lambda: (
                atomic.user_update(
                    identifier=identifier, data={"identity": {"firstName": "Conformance"}}
                )
                or "accepted"
            ),
        ),
        _timed(
            "end monitoring",
            f"PUT /user/{identifier}/end-monitoring",
            lambda: atomic.user_end_monitoring(identifier=identifier) or "accepted",
        ),
    ]
    return results


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}, parsed"


def _task_probe(ask: Callable[[], str], known: str | None) -> str:
    if known:
        return f"status {ask()}, parsed"
    try:
        ask()
    except client.AtomicError as error:
        if error.status == 404:
            return "no task known: an unknown id answers 404 with Atomic's error shape"
        raise
    raise client.AtomicError("An unknown task id did not answer 404.")


def _stored_webhooks() -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    rows = (
        WebhookEvent.objects.filter(state__in=WEBHOOK_CLAIMING_STATES)
        .exclude(body="")
        .order_by("-received_at")
        .values_list("body", "headers")[:ROWS_READ]
    )
    for body, headers in rows:
        try:
            yield json_object_parse(body), as_dict(headers)
        except JsonRejected:
            continue


def _account_shapes(seen: dict[str, Counter[str]]) -> None:
    # Compared as text: the column is PostgreSQL's `json`, which has no equality of its own.
    payloads = (
        AccountSnapshot.objects.annotate(payload_text=Cast("payload", TextField()))
        .exclude(payload_text="{}")
        .order_by("-fetched_at")
    )
    for payload in payloads.values_list("payload", flat=True)[:ROWS_READ]:
        for account in as_list(as_dict(payload).get("accounts")):
            account = as_dict(account)
            lists = [key for key in ("bills", "expenses") if as_list(account.get(key))]
            seen["account_bill_lists"][lists[0] if lists else "none"] += 1
            actions = list(as_list(account.get("actions")))
            for key in lists:
                for bill in as_list(account.get(key)):
                    bill = as_dict(bill)
                    named = bool(text(bill.get("name")) or text(bill.get("title")))
                    seen["bill_names"]["named" if named else "unnamed"] += 1
                    actions += as_list(bill.get("actions"))
            for action in actions:
                action = as_dict(action)
                for id_key in ("id", "actionId"):
                    if text(action.get(id_key)):
                        seen["account_action_id_key"][id_key] += 1


def conformance_shapes() -> list[AspectResult]:
    """What Atomic sent so far, aspect by aspect, against CONVENTIONS."""
    seen: dict[str, Counter[str]] = {c.key: Counter() for c in CONVENTIONS}
    for payload, headers in _stored_webhooks():
        event_type = text(payload.get("eventType"), 100)
        seen["webhook_event_types"][event_type or "(none)"] += 1
        facts = webhook_facts(payload)
        if facts.task_id_at:
            seen["task_id_placement"][facts.task_id_at] += 1
        if facts.reason_key:
            seen["reason_key"][facts.reason_key] += 1
        encoding = signature_encoding(headers.get(SIGNATURE_HEADER.lower()))
        seen["signature_encoding"][encoding] += 1
        data = as_dict(payload.get("data"))
        if event_type == "pay-link-accounts-updated":
            for key in data:
                seen["accounts_updated_data"][key] += 1
        elif event_type in WEBHOOK_TYPES:
            seen["webhook_metadata"]["present" if "metadata" in data else "absent"] += 1
    sdk = SdkEvent.objects.filter(kind__in=(SdkEventKind.CLOSE, SdkEventKind.INTERACTION))
    for kind, name, payload in sdk.order_by("-created_at").values_list("kind", "name", "payload")[
        :ROWS_READ
    ]:
        payload = as_dict(payload)
        if kind == SdkEventKind.INTERACTION:
            seen["interaction_names"][name or "(none)"] += 1
        elif text(payload.get("handoff")):
            seen["close_reasons"][f"handoff:{text(payload.get('handoff'), 50)}"] += 1
        else:
            seen["close_reasons"][text(payload.get("reason"), 50) or "unknown"] += 1
    _account_shapes(seen)
    return [
        AspectResult(
            key=c.key,
            label=c.label,
            assumed=list(c.assumed),
            accepted=list(c.accepted) if c.accepted is not None else None,
            seen=dict(seen[c.key].most_common()),
        )
        for c in CONVENTIONS
    ]


def conformance_json(
    *, endpoints: list[EndpointResult], shapes: list[AspectResult], target: str
) -> str:
    """The whole run as JSON, for QA's records."""
    return json.dumps(
        {
            "atomic": target,
            "endpoints": [asdict(result) for result in endpoints],
            "shapes": [asdict(aspect) | {"verdict": aspect.verdict} for aspect in shapes],
            "sources": {c.key: c.source for c in CONVENTIONS},
        },
        indent=2,
        ensure_ascii=False,
    )
