"""The JSON calls the Transact page makes, authenticated by `x-public-token` as Atomic's are.

They use no cookies, so they are CSRF-exempt; every failure is a JSON `{message, code}` with a
4xx status the page can turn into a screen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from simulator import logins, reads, tasks
from simulator.catalogue import Company
from simulator.errors import SimulatorError
from simulator.transact.hub import hub_for

logger = logging.getLogger(__name__)

_MAX_BODY = 8 * 1024
_MAX_FIELD = 200
IDENTITY_FIELDS = ("identity.firstName", "identity.lastName", "identity.email")

Handler = Callable[..., JsonResponse]


def _error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"message": message, "code": status}, status=status)


def with_token(view: Handler) -> Handler:
    """Resolve `x-public-token` to the user, and turn known errors into JSON answers."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        token = request.headers.get("x-public-token", "").strip()
        try:
            user = reads.token_resolve(token)
            return view(request, user, *args, **kwargs)
        except SimulatorError as exc:
            return _error(exc.message, status=exc.status)

    return wrapped


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > _MAX_BODY:
        raise SimulatorError("The request is too large.")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise SimulatorError("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise SimulatorError("The request body must be a JSON object.")
    return data


def _field(data: dict[str, Any], name: str, *, label: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SimulatorError(f"{label} is required.")
    if len(value) > _MAX_FIELD:
        raise SimulatorError(f"{label} is too long.")
    return value.strip()


def _metadata(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("metadata") or {}
    if not isinstance(value, dict):
        raise SimulatorError("metadata must be an object of strings.")
    return {str(key)[:_MAX_FIELD]: str(item)[:_MAX_FIELD] for key, item in value.items()}


def company_json(company: Company) -> dict[str, str]:
    return {
        "id": company.id,
        "slug": company.slug,
        "name": company.name,
        "accountType": company.account_type,
        "color": company.color,
        "logoUrl": company.logo_url,
        "loginHint": company.login_hint,
    }


def task_json(task: Any) -> dict[str, Any]:
    return {
        "taskId": task.task_id,
        "status": task.status,
        "failReason": task.fail_reason or None,
        "authenticated": bool(task.authenticated),
        "companyId": task.company_id,
    }


def _identity_missing(user: Any) -> list[str]:
    """The identity fields the host has not given Atomic yet."""
    identity = reads.user_data(identifier=user.identifier).get("identity")
    stored = identity if isinstance(identity, dict) else {}
    return [name for name in IDENTITY_FIELDS if not stored.get(name.removeprefix("identity."))]


@require_GET
@with_token
def session_view(request: HttpRequest, user: Any) -> JsonResponse:
    return JsonResponse({"identifier": user.identifier, "userId": user.atomic_id})


@require_GET
@with_token
def companies_view(request: HttpRequest, user: Any) -> JsonResponse:
    query = request.GET.get("q", "").strip()[:_MAX_FIELD]
    companies = reads.companies_list(query=query)
    return JsonResponse({"companies": [company_json(company) for company in companies]})


@require_GET
@with_token
def company_view(request: HttpRequest, user: Any, company_id: str) -> JsonResponse:
    return JsonResponse({"company": company_json(reads.company_get(company_id))})


@require_POST
@with_token
def login_view(request: HttpRequest, user: Any) -> JsonResponse:
    """Check the credentials' shape; start the connect task, or ask for MFA first."""
    data = _body(request)
    company = reads.company_get(_field(data, "companyId", label="The company"))
    username = _field(data, "username", label="Username")
    _field(data, "password", label="Password")
    match logins.login_step(username):
        case "mfa-code":
            return JsonResponse({"step": "mfa-code"})
        case "mfa-question":
            return JsonResponse({"step": "mfa-question", "question": logins.MFA_QUESTION})
    return _connect(user, company=company, username=username, metadata=_metadata(data))


@require_POST
@with_token
def mfa_view(request: HttpRequest, user: Any) -> JsonResponse:
    """Any non-empty answer passes, as in Atomic's sandbox."""
    data = _body(request)
    company = reads.company_get(_field(data, "companyId", label="The company"))
    username = _field(data, "username", label="Username")
    _field(data, "answer", label="The answer")
    if logins.login_step(username) == "ok":
        raise SimulatorError("This login does not ask for a second step.")
    return _connect(user, company=company, username=username, metadata=_metadata(data))


def _connect(
    user: Any, *, company: Company, username: str, metadata: dict[str, str]
) -> JsonResponse:
    task = tasks.task_start(user=user, company_id=company.id, username=username, metadata=metadata)
    # The page forwards this to the host, which answers from its server with PUT /user.
    fields = _identity_missing(user)
    return JsonResponse({"step": "task", "task": task_json(task), "dataRequestFields": fields})


@require_GET
@with_token
def task_view(request: HttpRequest, user: Any, task_id: str) -> JsonResponse:
    return JsonResponse({"task": task_json(tasks.task_get(user=user, task_id=task_id))})


@require_http_methods(["GET", "POST"])
@with_token
def action_view(request: HttpRequest, user: Any, action_id: str) -> JsonResponse:
    """GET describes the action for the confirmation screen; POST confirms it."""
    if request.method == "POST":
        data = _body(request)
        task = tasks.action_task_start(user=user, action_id=action_id, metadata=_metadata(data))
        return JsonResponse({"task": task_json(task)})
    info = reads.action_describe(user=user, action_id=action_id)
    return JsonResponse(
        {
            "action": {
                "actionId": action_id,
                "actionType": info.action_type,
                "accountId": info.account_id,
                "company": company_json(info.company),
                "planTitle": info.plan_title,
            }
        }
    )


@require_GET
@with_token
def hub_view(request: HttpRequest, user: Any) -> JsonResponse:
    return JsonResponse(hub_for(identifier=user.identifier))
