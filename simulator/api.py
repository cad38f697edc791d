"""Atomic's server API as the simulator answers it: same paths, shapes, auth and errors.

Every answer is JSON, errors included (`{"message", "code"}`), whatever the input.
"""

from __future__ import annotations

import functools
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from simulator import faults, tasks
from simulator.catalogue import biller_by_id
from simulator.errors import SimulatorError
from simulator.models import (
    PublicToken,
    SimTask,
    SimUser,
    TaskStatus,
    accounts_routes,
    fail_reason_key,
    iso_ms,
)

TOKEN_LIFETIME_DEFAULT = 24 * 3600
TOKEN_LIFETIME_MIN = 30 * 60
TOKEN_LIFETIME_MAX = 30 * 24 * 3600
IDENTIFIER_MAX = 255
# The identifier travels in URL paths, so it may not hold a slash, spaces or control characters.
_IDENTIFIER_BAD = re.compile(r"[/\s\x00-\x1f\x7f]")

View = Callable[..., HttpResponse]


def error_response(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "code": status}, status=status)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise SimulatorError("The request body is not valid JSON.", status=400) from None
    if not isinstance(body, dict):
        raise SimulatorError("The request body must be a JSON object.", status=400)
    return body


def _identifier(raw: Any) -> str:
    if raw is None:
        raise SimulatorError("identifier is required.", status=422)
    if not isinstance(raw, str):
        raise SimulatorError("identifier must be a string.", status=400)
    if not raw.strip():
        raise SimulatorError("identifier may not be empty.", status=422)
    if len(raw) > IDENTIFIER_MAX:
        raise SimulatorError(f"identifier may be at most {IDENTIFIER_MAX} characters.", status=422)
    if _IDENTIFIER_BAD.search(raw):
        raise SimulatorError(
            "identifier may not contain '/', spaces or control characters.", status=422
        )
    return raw


def _authorized(request: HttpRequest) -> bool:
    key = request.headers.get("x-api-key", "")
    secret = request.headers.get("x-api-secret", "")
    # Both compared in full, in constant time, so timing tells nothing about either.
    key_ok = hmac.compare_digest(key.encode(), settings.ATOMIC_API_KEY.encode())
    secret_ok = hmac.compare_digest(secret.encode(), settings.ATOMIC_API_SECRET.encode())
    return key_ok and secret_ok


def _faulty(response: HttpResponse, fault: faults.ApiFaultUse) -> HttpResponse:
    match fault.kind:
        case "429":
            answer = error_response(429, "Too many requests, please try again later.")
            answer["Retry-After"] = str(fault.retry_after)
            return answer
        case "malformed":
            # A body cut short: starts like the real answer, is not JSON.
            content = response.content
            return HttpResponse(
                content[: max(1, len(content) // 2)], content_type="application/json"
            )
        case _:
            return error_response(int(fault.kind), "An error occurred with our API (simulated).")


def api_endpoint(name: str, *, methods: tuple[str, ...]) -> Callable[[View], View]:
    """Method check, API key auth, faults in force, and JSON errors for one endpoint."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                answer = error_response(405, f"Use {' or '.join(methods)} for this endpoint.")
                answer["Allow"] = ", ".join(methods)
                return answer
            if not _authorized(request):
                return error_response(401, "Missing or invalid API key and secret.")
            fault = faults.api_fault_take(endpoint=name)
            if fault and fault.kind not in ("slow", "malformed"):
                return _faulty(HttpResponse(), fault)
            if fault and fault.kind == "slow":
                time.sleep(fault.delay)
            try:
                response = view(request, **kwargs)
            except SimulatorError as exc:
                response = error_response(exc.status, exc.message)
            if fault and fault.kind == "malformed":
                return _faulty(response, fault)
            return response

        return wrapper

    return decorator


def _user_get(identifier: str) -> SimUser:
    user = SimUser.objects.filter(identifier=identifier).first()
    if user is None:
        raise SimulatorError("No user has that identifier.", status=404)
    return user


def _task_find(task_id: str) -> SimTask:
    task = SimTask.objects.select_related("user").filter(task_id=task_id).first()
    if task is None:
        raise SimulatorError("No task has that id.", status=404)
    return tasks.task_catch_up(task)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_EXTRA_TYPES: dict[str, type] = {"cards": list, "accounts": list, "identity": dict}


@api_endpoint("access-token", methods=("POST",))
def access_token_view(request: HttpRequest) -> HttpResponse:
    body = _json_body(request)
    identifier = _identifier(body.get("identifier"))
    lifetime = body.get("tokenLifetime", TOKEN_LIFETIME_DEFAULT)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise SimulatorError("tokenLifetime must be a whole number of seconds.", status=422)
    if not TOKEN_LIFETIME_MIN <= lifetime <= TOKEN_LIFETIME_MAX:
        raise SimulatorError(
            f"tokenLifetime must be from {TOKEN_LIFETIME_MIN} to {TOKEN_LIFETIME_MAX} seconds.",
            status=422,
        )
    extras = {
        key: value for key, value in body.items() if key not in ("identifier", "tokenLifetime")
    }
    for key, kind in _EXTRA_TYPES.items():
        if key in extras and not isinstance(extras[key], kind):
            raise SimulatorError(
                f"{key} must be a JSON {'array' if kind is list else 'object'}.", status=400
            )
    with transaction.atomic():
        user, _ = SimUser.objects.get_or_create(identifier=identifier)
        if extras:
            user.data = deep_merge(user.data, extras)
            user.save(update_fields=["data"])
        token = PublicToken.objects.create(
            user=user,
            token=f"test-{uuid.uuid4()}",
            expires_at=timezone.now() + timedelta(seconds=lifetime),
        )
    return JsonResponse({"data": {"publicToken": token.token}})


@api_endpoint("accounts", methods=("GET",))
def accounts_view(request: HttpRequest, identifier: str) -> HttpResponse:
    """The seed's route, GET /{identifier}/pay-link/accounts."""
    if accounts_routes() == "v2":
        raise SimulatorError("Not found.", status=404)
    return JsonResponse({"accounts": tasks.accounts_for(identifier=identifier)})


@api_endpoint("accounts", methods=("GET",))
def accounts_v2_view(request: HttpRequest) -> HttpResponse:
    """The newer guides' route, GET /pay-link/accounts with `x-api-version: v2`; the identifier
    travels as a query parameter (our convention: Atomic's pages do not show how)."""
    if accounts_routes() == "v1" or request.headers.get("x-api-version") != "v2":
        raise SimulatorError("Not found.", status=404)
    identifier = _identifier(request.GET.get("identifier"))
    return JsonResponse({"accounts": tasks.accounts_for(identifier=identifier)})


@api_endpoint("task-status", methods=("GET",))
def task_status_view(request: HttpRequest, task_id: str) -> HttpResponse:
    return JsonResponse(_task_find(task_id).to_status_json(reason_key=fail_reason_key()))


def task_details_json(task: SimTask) -> dict[str, Any]:
    biller = biller_by_id(task.company_id)
    company = biller.company if biller else None
    branding = {"logo": {"url": company.logo_url}} if company else {}
    details: dict[str, Any] = {
        "_id": task.task_id,
        "authenticated": task.authenticated,
        "company": {
            "_id": task.company_id,
            "name": company.name if company else "",
            "branding": branding,
        },
        "connector": {
            "_id": task.company_id,
            "name": f"{company.name} connector" if company else "",
            "branding": branding,
        },
        "createdAt": iso_ms(task.created_at),
        "updatedAt": iso_ms(task.updated_at),
        "metadata": task.metadata,
        "product": "pay-link",
        "operation": task.operation,
        "status": task.status,
        "taskWorkflow": {"_id": task.workflow_id},
        "user": task.user.to_ref_json(),
    }
    if task.fail_reason:
        details[fail_reason_key()] = task.fail_reason
    if task.account_id:
        details["linkedAccount"] = task.account_id
    if task.action_type:
        details["action"] = {"type": task.action_type}
    return details


@api_endpoint("task-details", methods=("GET",))
def task_details_view(request: HttpRequest, task_id: str) -> HttpResponse:
    return JsonResponse({"data": {"task": task_details_json(_task_find(task_id))}})


@api_endpoint("user-tasks", methods=("GET",))
def user_tasks_view(request: HttpRequest, identifier: str) -> HttpResponse:
    status = request.GET.get("status", "")
    if status and status not in TaskStatus.values:
        raise SimulatorError(f"status must be one of: {', '.join(TaskStatus.values)}.", status=422)
    user = _user_get(identifier)
    listed = [tasks.task_catch_up(task) for task in user.tasks.all()]
    if status:
        listed = [task for task in listed if task.status == status]
    key = fail_reason_key()
    return JsonResponse({"data": {"tasks": [task.to_list_json(reason_key=key) for task in listed]}})


@api_endpoint("user-update", methods=("PUT",))
def user_update_view(request: HttpRequest) -> HttpResponse:
    body = _json_body(request)
    identifier = _identifier(body.get("identifier"))
    data = body.get("data")
    if data is None:
        raise SimulatorError("data is required.", status=422)
    if not isinstance(data, dict):
        raise SimulatorError("data must be a JSON object.", status=400)
    with transaction.atomic():
        user, _ = SimUser.objects.select_for_update().get_or_create(identifier=identifier)
        user.data = deep_merge(user.data, data)
        user.save(update_fields=["data"])
    return JsonResponse(
        {
            "data": {
                "_id": user.atomic_id,
                "identifier": user.identifier,
                "fields": sorted(user.data),
            }
        }
    )


@api_endpoint("end-monitoring", methods=("PUT",))
def end_monitoring_view(request: HttpRequest, identifier: str) -> HttpResponse:
    user = _user_get(identifier)
    if user.monitoring_ended_at is None:
        user.monitoring_ended_at = timezone.now()
        user.save(update_fields=["monitoring_ended_at"])
    return JsonResponse(
        {
            "data": {
                "identifier": user.identifier,
                "monitoringEndedAt": iso_ms(user.monitoring_ended_at),
            }
        }
    )


@csrf_exempt
def not_found_view(
    request: HttpRequest, exception: Exception | None = None, **_: Any
) -> HttpResponse:
    return error_response(404, "Not found.")


def server_error_view(request: HttpRequest) -> HttpResponse:
    return error_response(500, "An error occurred with the simulator.")
