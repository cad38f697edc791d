"""Task status wording and the Transact launch configuration, for any template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext, pgettext_lazy

from paylink.browser_events import EVENTS
from paylink.fail_reasons import fail_reason_sentence
from paylink.models import Task, TaskStatus
from paylink.payloads import Account
from paylink.selectors.tasks import TaskPoll, task_poll

register = template.Library()

_STATUS_LABELS: dict[str, tuple[str | Promise, str]] = {
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
        # The names of the page events hub.js sends and listens for (paylink/browser_events.py).
        "events": EVENTS,
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


# What a request was, as the recent list and a card's outcome name it ("Pause · Streamly").
_KINDS = {
    "change-plan": pgettext_lazy("request kind", "Change plan"),
    "pause-plan": pgettext_lazy("request kind", "Pause"),
    "cancel-plan": pgettext_lazy("request kind", "Cancel"),
}


@register.filter
def task_kind(task: Task) -> str:
    """The kind of request `task` was: a connection from the Hub, a plan action, or (for a task
    heard of only from Atomic, which does not say) a plain request."""
    if task.operation == "manage":
        return pgettext("request kind", "Connect")
    if task.operation == "action":
        known = _KINDS.get(task.action_type)
        if known is not None:
            return str(known)
        text = task.action_type.replace("-", " ").strip()
        return text[:1].upper() + text[1:] if text else pgettext("request kind", "Account action")
    return pgettext("request kind", "Request")


@dataclass(frozen=True)
class Outcome:
    """A card action's progress or result in one sentence naming the company and the change,
    and for a failure the company's reason; `company` as the title names it."""

    company: str
    sentence: str
    reason: str = ""


def _account_day(account: Account | None) -> str:
    # When a pause or cancellation ends or takes effect, if the account says.
    for plan in account.plans if account else ():
        change = plan.pending_change
        moment = change and (change.end_date or change.start_date)
        if moment:
            return formats.date_format(timezone.localtime(moment), "MONTH_DAY_FORMAT")
    return ""


def _plan_title(account: Account | None) -> str:
    return next((p.title for p in account.plans if p.title), "") if account else ""


def _plan_change_ahead(account: Account | None) -> tuple[str, str]:
    # A plan change the company takes effect later: its new plan and the day, if the account
    # says both.
    for plan in account.plans if account else ():
        change = plan.pending_change
        if change and change.title and change.start_date:
            day = formats.date_format(timezone.localtime(change.start_date), "MONTH_DAY_FORMAT")
            return change.title, day
    return "", ""


def _in_progress(kind: str, company: str) -> str:
    match kind:
        case "pause-plan":
            return gettext("Pausing %(company)s…") % {"company": company}
        case "cancel-plan":
            return gettext("Cancelling %(company)s…") % {"company": company}
        case "change-plan":
            return gettext("Changing your %(company)s plan…") % {"company": company}
    return gettext("Working on your request with %(company)s…") % {"company": company}


def _completed(kind: str, company: str, account: Account | None) -> str:
    values = {"company": company, "day": _account_day(account), "plan": _plan_title(account)}
    match kind:
        case "pause-plan" if values["day"]:
            return gettext("%(company)s is paused until %(day)s.") % values
        case "pause-plan":
            return gettext("%(company)s is paused.") % values
        case "cancel-plan" if values["day"]:
            return gettext("%(company)s is cancelled from %(day)s.") % values
        case "cancel-plan":
            return gettext("%(company)s is cancelled.") % values
        case "change-plan" if _plan_change_ahead(account)[0]:
            plan, day = _plan_change_ahead(account)
            return gettext("Your %(company)s plan changes to %(plan)s on %(day)s.") % (
                values | {"plan": plan, "day": day}
            )
        case "change-plan" if values["plan"]:
            return gettext("Your %(company)s plan is now %(plan)s.") % values
        case "change-plan":
            return gettext("Your %(company)s plan is changed.") % values
    return gettext("Done. %(company)s accepted your request.") % values


def _failed(kind: str, company: str) -> str:
    match kind:
        case "pause-plan":
            return gettext("%(company)s wasn't paused.") % {"company": company}
        case "cancel-plan":
            return gettext("%(company)s wasn't cancelled.") % {"company": company}
        case "change-plan":
            return gettext("Your %(company)s plan wasn't changed.") % {"company": company}
    return gettext("%(company)s couldn't complete your request.") % {"company": company}


@register.simple_tag
def task_outcome(task: Task, account: Account | None, company_name: str) -> Outcome:
    """`{% task_outcome task account company_name as outcome %}`: the sentence a card shows for
    the action `task` (started from it), with `account` as the stored accounts now show it, if
    known, and `company_name` as `task_company_name_for_user` found it."""
    company = company_name or (account.company.name if account else "") or gettext("the company")
    kind = task.action_type if task.operation == "action" else ""
    match task.status:
        case TaskStatus.COMPLETED:
            return Outcome(company, _completed(kind, company, account))
        case TaskStatus.FAILED:
            return Outcome(
                company, _failed(kind, company), reason=fail_reason_sentence(task.fail_reason)
            )
    return Outcome(company, _in_progress(kind, company))
