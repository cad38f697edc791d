"""The Payments Hub launch page, its token and SDK-event endpoints, and task status."""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HTMX_STOP_POLLING, trigger_client_event

from paylink import browser_events, client
from paylink.lib.http import AuthedHttpRequest
from paylink.lib.rate_limits import rate_limited
from paylink.lib.request_body import body_declared_too_large, body_length_unreadable, body_read
from paylink.models import SdkEventKind, Task, TaskStatus
from paylink.selectors.tasks import (
    task_account_for_user,
    task_company_name_for_user,
    task_for_user_polling,
    task_fragment_keep,
    task_poll,
    tasks_recent_for_user,
)
from paylink.services.access_tokens import access_token_issue
from paylink.services.profiles import profile_for_user
from paylink.services.sdk_events import (
    SDK_EVENT_MAX_BYTES,
    SdkEventInvalid,
    sdk_data_request_answer,
    sdk_event_parse,
    sdk_event_record,
    sdk_finish_record,
)
from paylink.services.tasks import TaskOwnershipError, TaskUnknownError, task_status_check_request
from paylink.views.dashboard_page import release

logger = logging.getLogger(__name__)


def _atomic_error_response(error: client.AtomicError, *, doing: str) -> JsonResponse:
    # The page gets our sentence, never Atomic's text (logged instead): it may name paths or ids.
    # 503 tells the page a retry may work; 502 that Atomic answered but refused.
    if error.retryable:
        sentence = gettext(
            "We couldn't %(doing)s because Atomic isn't answering right now. Try again in a moment."
        ) % {"doing": doing}
    else:
        sentence = gettext("We couldn't %(doing)s. If this keeps happening, contact support.") % {
            "doing": doing
        }
    return JsonResponse(
        {"error": sentence, "retryable": bool(error.retryable)},
        status=503 if error.retryable else 502,
    )


@require_safe
def hub(request: AuthedHttpRequest) -> HttpResponse:
    profile_for_user(user=request.user)
    # htmx asks for the recent list again whenever a task on the page finishes.
    template = "paylink/hub.html#recent" if request.htmx else "paylink/hub.html"
    return render(request, template, {"recent_tasks": tasks_recent_for_user(user=request.user)})


@require_POST
@never_cache
@rate_limited("hub_token", as_json=True)
def token(request: AuthedHttpRequest) -> JsonResponse:
    try:
        public_token = access_token_issue(user=request.user)
    except client.AtomicError as error:
        logger.warning("Atomic refused an access token: %s", error)
        return _atomic_error_response(error, doing=gettext("open the Payments Hub"))
    return JsonResponse({"publicToken": public_token})


def _json_error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
@never_cache
@rate_limited("hub_events", as_json=True)
def sdk_event(request: AuthedHttpRequest) -> JsonResponse:
    if body_length_unreadable(request):
        return _json_error(gettext("The request's length is not a whole number."), status=400)
    body = (
        None
        if body_declared_too_large(request, limit=SDK_EVENT_MAX_BYTES)
        else body_read(request, limit=SDK_EVENT_MAX_BYTES)
    )
    if body is None:
        return _json_error(gettext("The event is too large."), status=413)
    try:
        event = sdk_event_parse(body=body)
    except SdkEventInvalid as error:
        return _json_error(str(error), status=400)
    profile = profile_for_user(user=request.user)
    match event.kind:
        case SdkEventKind.FINISH:
            try:
                task = sdk_finish_record(profile=profile, event=event)
            except (TaskOwnershipError, TaskUnknownError):
                # Another user's task: the same answer as an unknown one, so ids leak nothing.
                return _json_error(gettext("No such task."), status=404)
            sdk_event_record(profile=profile, event=event)
            if task is None:
                return JsonResponse(
                    {
                        "taskId": None,
                        "statusUrl": None,
                        "message": gettext(
                            "You're done in the Payments Hub. Any change you made there will "
                            "show on your dashboard in a moment."
                        ),
                    }
                )
            return JsonResponse(
                {
                    "taskId": task.atomic_id,
                    "statusUrl": reverse("paylink:task", args=[task.atomic_id]),
                    # Where a card shows the action it started (hub.js, card launches only).
                    "outcomeUrl": reverse("paylink:task-outcome", args=[task.atomic_id]),
                }
            )
        case SdkEventKind.DATA_REQUEST:
            sdk_event_record(profile=profile, event=event)
            try:
                sent = sdk_data_request_answer(
                    user=request.user, profile=profile, payload=event.payload
                )
            except client.AtomicError as error:
                logger.warning("Atomic refused the user data update: %s", error)
                return _atomic_error_response(
                    error, doing=gettext("share your details with the company")
                )
            return JsonResponse({"recorded": True, "sent": sent})
        case _:
            sdk_event_record(profile=profile, event=event)
            return JsonResponse({"recorded": True})


def _finished_triggers(response: HttpResponse, *, task: Task) -> None:
    # A final task stops the poll, and tells the page (the recent list, the dashboard) it ended.
    response.status_code = HTMX_STOP_POLLING
    detail = {"taskId": task.atomic_id, "status": task.status, "accountId": task.account_id}
    trigger_client_event(response, browser_events.TASK_FINISHED, detail)
    if task.status == TaskStatus.COMPLETED:
        # Only a completed task changes accounts: the dashboard waits for a sync on this
        # one, and not after a failure (htmx cannot filter on the detail without eval).
        trigger_client_event(response, browser_events.TASK_COMPLETED, detail)


@require_safe
def task_status(request: AuthedHttpRequest, task_id: str) -> HttpResponse:
    # Answered from the cached row; Atomic is asked in the background, never in the request.
    polled = task_for_user_polling(user=request.user, atomic_id=task_id)
    task = polled.task
    task_status_check_request(task=task, settled=polled.check_settled)
    context = {"task": task, "check_failed": polled.check_failed}
    if not request.htmx:
        return render(request, "paylink/task.html", context)
    # All the line shows besides the row: the release, the address, the language, the check's
    # failure and how often it polls now.
    drawn_for = (
        f"{release()}|{request.path_info}|{get_language()}|{polled.check_failed}|"
        f"{task_poll(task=task)}"
    )
    html = polled.fragment(drawn_for)
    if html is None:
        html = render_to_string("paylink/task.html#status", context, request)
        task_fragment_keep(polled=polled, drawn_for=drawn_for, html=html)
    response = HttpResponse(html)
    if task.is_terminal:
        _finished_triggers(response, task=task)
    return response


@require_safe
def task_outcome(request: AuthedHttpRequest, task_id: str) -> HttpResponse:
    """A plan action's progress and result, as the card it was started from shows them: the
    whole outcome once, then (htmx polling its line) the line alone until the task ends."""
    polled = task_for_user_polling(user=request.user, atomic_id=task_id)
    task = polled.task
    task_status_check_request(task=task, settled=polled.check_settled)
    account = task_account_for_user(user=request.user, task=task) if task.is_terminal else None
    context = {
        "task": task,
        "check_failed": polled.check_failed,
        "account": account,
        "company_name": task_company_name_for_user(user=request.user, task=task),
    }
    htmx = request.htmx
    line = bool(htmx) and htmx.target == f"outcome-{task.atomic_id}-line"
    template = "paylink/_card_outcome.html#line" if line else "paylink/_card_outcome.html"
    response = render(request, template, context)
    if line and task.is_terminal:
        # The line stops polling. hub.js tells the page the task ended, once per task: this
        # line is fetched again after each redraw of the card, and must not set off another.
        response.status_code = HTMX_STOP_POLLING
    return response
