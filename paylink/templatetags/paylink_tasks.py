"""Task status wording and the Transact launch configuration, for any template."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.translation import pgettext_lazy

from paylink.fail_reasons import fail_reason_sentence
from paylink.models import Task, TaskStatus
from paylink.services.tasks import TaskPoll, task_poll

register = template.Library()

_STATUS_LABELS = {
    TaskStatus.QUEUED: (pgettext_lazy("task status", "Queued"), "badge--warn"),
    TaskStatus.PROCESSING: (pgettext_lazy("task status", "In progress"), "badge--warn"),
    TaskStatus.COMPLETED: (pgettext_lazy("task status", "Completed"), "badge--ok"),
    TaskStatus.FAILED: (pgettext_lazy("task status", "Failed"), "badge--bad"),
}
_TRANSACT_LANGUAGES = ("en", "es")


@register.filter
def htmx_interval(seconds: float) -> str:
    """`seconds` as htmx reads a time: "2s", or "250ms" for part of a second (a float printed by
    the template would carry the language's decimal comma: "0,25s")."""
    milliseconds = round(seconds * 1000)
    return f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"


@register.simple_tag
def poll_first_interval() -> str:
    """How soon a waiting page asks again, at first (PAYLINK_POLL_SECONDS), as htmx reads it."""
    return htmx_interval(settings.PAYLINK_POLL_SECONDS)


@register.filter
def task_status_label(status: str) -> str:
    # An unknown status from Atomic is shown as it came rather than hidden.
    return str(_STATUS_LABELS.get(status, (status.replace("-", " ").capitalize(), ""))[0])


@register.simple_tag
def task_poll_for(task: Task) -> TaskPoll:
    """`{% task_poll_for task as poll %}`: how often the status partial polls, if at all."""
    return task_poll(task=task)


@register.filter
def task_status_badge(status: str) -> str:
    return _STATUS_LABELS.get(status, ("", ""))[1]


@register.filter
def task_fail_sentence(reason: str) -> str:
    return fail_reason_sentence(reason)


@register.simple_tag(takes_context=True)
def transact_config(context: template.Context) -> dict[str, Any]:
    """What hub.js needs to launch Transact; the publicToken is fetched only on click."""
    request = context.get("request")
    # Set by LocaleMiddleware, and by paylink/language.py for a signed-in person's saved choice.
    language = getattr(request, "LANGUAGE_CODE", "en") or "en"
    config: dict[str, Any] = {
        "scope": "pay-link",
        "tasks": [{"operation": "manage", "apps": list(settings.PAYLINK_HUB_APPS)}],
        "language": language if language in _TRANSACT_LANGUAGES else "en",
        "theme": {"brandColor": "#0b5cad", "overlayColor": "rgba(20, 33, 61, 0.72)"},
        # A browser integration has no native payment-method callbacks: with "api", Transact
        # asks for what it lacks through onDataRequest, which the host answers from its server
        # with PUT /user (Atomic names this the route for web integrations).
        "deferredPaymentMethodStrategy": "api",
    }
    launch: dict[str, Any] = {
        "config": config,
        "tokenUrl": reverse("paylink:token"),
        "eventsUrl": reverse("paylink:sdk-event"),
    }
    if settings.ATOMIC_TRANSACT_ORIGIN:
        launch["environmentOverride"] = settings.ATOMIC_TRANSACT_ORIGIN
    return launch


@register.simple_tag
def transact_sdk() -> dict[str, str]:
    return {
        "url": settings.ATOMIC_TRANSACT_SDK_URL,
        "integrity": settings.ATOMIC_TRANSACT_SDK_INTEGRITY,
    }
