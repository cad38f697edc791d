"""QA's window into the simulated Atomic: the root page, faults, runtime config, state, reset.

For local QA only, so no auth; JSON bodies only (a cross-site page cannot send those without a
CORS preflight, which is never granted), or form posts from the root page with its CSRF token.
Bad input is a 4xx JSON `{message, code}` (422 for values that make no sense).

    POST /_sim/faults          {endpoint, kind, times?, retry_after?, delay?}
    POST /_sim/webhook-faults  {mode: drop|duplicate|reorder|fail, times?}
    POST /_sim/config          {webhook_url?, webhook_retry_delay?, task_step_seconds?,
                                action_lifetime_seconds?, and any of models.CHOICES:
                                fail_reason_key?, account_shape?, accounts_routes?,
                                webhook_task_id?, webhook_signature?, webhook_metadata?,
                                accounts_webhook_data?, close_reason?}
                               (null: back to the setting)
    POST /_sim/tasks/patch     {taskId, status, reason?}: correct a final task's status and send
                               task-status-patched
    POST /_sim/reset           {all?}   faults, config, unsent webhooks (all: every record)
    POST /_sim/tasks           {identifier, company, username?, metadata?} or
                               {identifier, actionId, metadata?}: start a task without Transact
    POST /_sim/tokens/expire   {publicToken}
    GET  /_sim/state           users, masked tokens, tasks, deliveries, faults, config
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from simulator import conventions, faults, tasks, webhooks
from simulator.api import error_response
from simulator.catalogue import BILLERS, biller_by_id, biller_by_slug
from simulator.errors import SimulatorError
from simulator.models import (
    ApiFault,
    ConfigOverride,
    DeliveryState,
    PublicToken,
    SimTask,
    SimUser,
    WebhookDelivery,
    WebhookFault,
    choice,
    iso_ms,
)
from simulator.variants import CHOICES

LIST_LIMIT = 200
_NUMBER_FIELDS = ("times", "retry_after", "delay", "webhook_retry_delay", "task_step_seconds")
_CONFIG_LIMITS = {
    "webhook_retry_delay": (0.0, 3600.0),
    "task_step_seconds": (0.0, 600.0),
    "action_lifetime_seconds": (0.0, 86400.0),
}


def _form_value(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def _control_input(request: HttpRequest) -> tuple[dict[str, Any], bool]:
    """The request's payload and whether it came from the root page's form."""
    if request.content_type == "application/json":
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise SimulatorError("The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise SimulatorError("The request body must be a JSON object.")
        return payload, False
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):

        def view(_: HttpRequest) -> HttpResponse:  # never called: CSRF reads its csrf_exempt
            return HttpResponse()

        rejected = CsrfViewMiddleware(view).process_view(request, view, (), {})
        if rejected is not None:
            raise SimulatorError("The form's CSRF token is missing or wrong.", status=403)
        payload = {
            key: _form_value(str(value)) if key in _NUMBER_FIELDS else value
            for key, value in request.POST.items()
            if value != "" and key != "csrfmiddlewaretoken"
        }
        return payload, True
    raise SimulatorError("Send JSON (content-type: application/json).", status=415)


def _control(handler: Any) -> Any:
    """POST only, parsed input, 4xx JSON for bad input, a redirect home for form posts."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            answer = error_response(405, "Use POST for this endpoint.")
            answer["Allow"] = "POST"
            return answer
        try:
            payload, from_form = _control_input(request)
            result = handler(payload)
        except SimulatorError as exc:
            return error_response(exc.status, exc.message)
        if from_form:
            return redirect("index")
        return JsonResponse(result)

    view.__name__ = handler.__name__
    return view


@_control
def faults_view(payload: dict[str, Any]) -> dict[str, Any]:
    fault = faults.api_fault_add(payload=payload)
    return {"fault": _api_fault_json(fault)}


@_control
def webhook_faults_view(payload: dict[str, Any]) -> dict[str, Any]:
    fault = faults.webhook_fault_add(payload=payload)
    return {"fault": {"id": fault.pk, "mode": fault.mode, "remaining": fault.remaining}}


def _config_value(key: str, raw: Any) -> Any:
    if key in CHOICES:
        values = CHOICES[key][0]
        if raw not in values:
            raise SimulatorError(f"{key} must be one of: {', '.join(values)}.", status=422)
        return raw
    if key == "webhook_url":
        if not isinstance(raw, str) or len(raw) > 500:
            raise SimulatorError("webhook_url must be an http(s) URL.", status=422)
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SimulatorError("webhook_url must be an http(s) URL.", status=422)
        return raw
    low, high = _CONFIG_LIMITS[key]
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
        raise SimulatorError(f"{key} must be a number from {low:g} to {high:g}.", status=422)
    return raw


def config_current() -> dict[str, Any]:
    return {
        "webhook_url": webhooks.webhook_url(),
        "webhook_retry_delay": webhooks.retry_delay(),
        "task_step_seconds": tasks.step_seconds(),
        "action_lifetime_seconds": ConfigOverride.current("action_lifetime_seconds", 3600),
    } | {key: choice(key) for key in CHOICES}


@_control
def config_view(payload: dict[str, Any]) -> dict[str, Any]:
    known = ("webhook_url", *CHOICES, *_CONFIG_LIMITS)
    unknown = sorted(set(payload) - set(known))
    if unknown:
        raise SimulatorError(f"Unknown settings: {', '.join(unknown)}.", status=422)
    # Validate everything before storing anything.
    values = {key: None if raw is None else _config_value(key, raw) for key, raw in payload.items()}
    with transaction.atomic():
        for key, value in values.items():
            if value is None:
                ConfigOverride.objects.filter(key=key).delete()
            else:
                ConfigOverride.objects.update_or_create(key=key, defaults={"value": value})
    return {"config": config_current()}


@_control
def reset_view(payload: dict[str, Any]) -> dict[str, Any]:
    """Clear faults, runtime config and unsent webhooks; `{"all": true}` also wipes all data."""
    wipe_all = payload.get("all") in (True, "true", "on", "1", 1)
    with transaction.atomic():
        faults.faults_clear()
        ConfigOverride.objects.all().delete()
        WebhookDelivery.objects.filter(
            state__in=(DeliveryState.PENDING, DeliveryState.HELD)
        ).update(state=DeliveryState.DROPPED, next_attempt_at=None)
        if wipe_all:
            WebhookDelivery.objects.all().delete()
            SimUser.objects.all().delete()
    return {"reset": "all" if wipe_all else "faults"}


@_control
def token_expire_view(payload: dict[str, Any]) -> dict[str, Any]:
    """Age a public token past its expiry, since even the shortest lifetime is 30 minutes."""
    token = payload.get("publicToken")
    if not isinstance(token, str) or not token:
        raise SimulatorError("publicToken is required.", status=422)
    updated = PublicToken.objects.filter(token=token).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    if not updated:
        raise SimulatorError("No such public token.", status=404)
    return {"expired": True}


@_control
def task_create_view(payload: dict[str, Any]) -> dict[str, Any]:
    """Start a task without the Transact UI, for tests and QA.

    `{"identifier", "company": id or slug, "username"?}` starts a connect task (default
    username `test-good`); `{"identifier", "actionId"}` starts an action task.
    """
    identifier = payload.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise SimulatorError("identifier is required.", status=422)
    user = SimUser.objects.filter(identifier=identifier).first()
    if user is None:
        raise SimulatorError(
            "No user has that identifier; create an access token first.", status=404
        )
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise SimulatorError("metadata must be an object.", status=422)
    if "actionId" in payload:
        task = tasks.action_task_start(
            user=user, action_id=str(payload["actionId"]), metadata=metadata
        )
    else:
        company = str(payload.get("company", ""))
        biller = biller_by_slug(company)
        username = payload.get("username", "test-good")
        if not isinstance(username, str):
            raise SimulatorError("username must be a string.", status=422)
        task = tasks.task_start(
            user=user,
            company_id=biller.id if biller else company,
            username=username,
            metadata=metadata,
        )
    return {"taskId": task.task_id, "status": task.status}


@_control
def task_patch_view(payload: dict[str, Any]) -> dict[str, Any]:
    """Correct a final task's status: `{"taskId", "status", "reason"?}`; sends
    task-status-patched, as Atomic does for a rare correction."""
    task_id, status = payload.get("taskId"), payload.get("status")
    reason = payload.get("reason", "")
    if not isinstance(task_id, str) or not isinstance(status, str) or not isinstance(reason, str):
        raise SimulatorError("taskId and status are required strings.", status=422)
    task = tasks.task_patch(task_id=task_id, status=status, reason=reason)
    return {"taskId": task.task_id, "status": task.status, "failReason": task.fail_reason}


# --- reads --------------------------------------------------------------------------------


def _api_fault_json(fault: ApiFault) -> dict[str, Any]:
    return {
        "id": fault.pk,
        "endpoint": fault.endpoint,
        "kind": fault.kind,
        "remaining": fault.remaining,
        "retry_after": fault.retry_after,
        "delay": fault.delay,
    }


def _delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "ce_id": delivery.ce_id,
        "event_type": delivery.event_type,
        "identifier": delivery.user.identifier if delivery.user else None,
        "state": delivery.state,
        "created_at": iso_ms(delivery.created_at),
        "body": json.loads(delivery.body),
        "attempts": [
            {
                "url": attempt.url,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
                "at": iso_ms(attempt.created_at),
            }
            for attempt in delivery.attempts.all()
        ],
    }


def _company_name(company_id: str) -> str:
    biller = biller_by_id(company_id)
    return biller.name if biller else company_id


def state_snapshot() -> dict[str, Any]:
    now = timezone.now()
    users = SimUser.objects.prefetch_related("linked_accounts")[:LIST_LIMIT]
    return {
        "users": [
            {
                "identifier": user.identifier,
                "atomic_id": user.atomic_id,
                "data": user.data,
                "monitoring_ended_at": iso_ms(user.monitoring_ended_at),
                "linked_accounts": [
                    {"company_id": link.company_id, "account_id": link.account_id}
                    | {"overrides": link.overrides}
                    for link in user.linked_accounts.all()
                ],
            }
            for user in users
        ],
        "tokens": [
            {
                "token": token.masked,
                "identifier": token.user.identifier,
                "expires_at": iso_ms(token.expires_at),
                "expired": token.expires_at <= now,
            }
            for token in PublicToken.objects.select_related("user")[:LIST_LIMIT]
        ],
        "tasks": [
            {
                "task_id": task.task_id,
                "identifier": task.user.identifier,
                "company_id": task.company_id,
                "company_name": _company_name(task.company_id),
                "operation": task.operation,
                "action_type": task.action_type,
                "account_id": task.account_id,
                "status": task.status,
                "fail_reason": task.fail_reason,
                "authenticated": task.authenticated,
                "created_at": iso_ms(task.created_at),
            }
            for task in SimTask.objects.select_related("user")[:LIST_LIMIT]
        ],
        "deliveries": [
            _delivery_json(delivery)
            for delivery in WebhookDelivery.objects.select_related("user").prefetch_related(
                "attempts"
            )[:LIST_LIMIT]
        ],
        "faults": {
            "api": [_api_fault_json(f) for f in ApiFault.objects.filter(remaining__gt=0)],
            "webhook": [
                {"id": f.pk, "mode": f.mode, "remaining": f.remaining}
                for f in WebhookFault.objects.filter(remaining__gt=0)
            ],
        },
        "config": config_current(),
    }


@require_GET
def state_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse(state_snapshot())


@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    state = state_snapshot()
    for user in state["users"]:
        user["data_json"] = json.dumps(user["data"], indent=1, sort_keys=True)
        for link in user["linked_accounts"]:
            link["company_name"] = _company_name(link["company_id"])
    companies = [biller.company for biller in BILLERS]
    return render(
        request,
        "simulator/index.html",
        {
            "state": state,
            "companies": companies,
            "api_endpoints": faults.API_ENDPOINTS,
            "api_kinds": faults.API_KINDS,
            "choices": [
                {"key": key, "values": values, "current": state["config"][key]}
                for key, (values, _) in CHOICES.items()
            ],
            "from_atomic": conventions.FROM_ATOMIC,
            "conventions": conventions.OURS,
            "webhook_modes": faults.WEBHOOK_MODES,
            "public_url": settings.SIMULATOR_PUBLIC_URL,
        },
    )


@require_GET
def logo_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A small SVG logo in the company's colours, so no image leaves this machine."""
    biller = biller_by_slug(slug)
    if biller is None:
        return error_response(404, "No such logo.")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{escape(biller.logo_background)}"/>'
        f'<circle cx="32" cy="32" r="22" fill="{escape(biller.color)}"/>'
        '<text x="32" y="39" font-family="Helvetica, Arial, sans-serif" font-size="20" '
        f'font-weight="700" fill="#ffffff" text-anchor="middle">{escape(biller.initials)}</text>'
        "</svg>"
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
