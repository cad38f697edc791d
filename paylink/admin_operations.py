"""The operations page in the admin (/admin/operations/): the last 24 hours at a glance.

Webhook lag p50 and p99, Atomic's error rate by endpoint, the oldest job per queue, failed syncs
and the people affected, tasks by failure reason; each figure links to the admin list of the
rows behind it. The admin site takes `OperationsAdminMixin` (paylink/admin_site.py), which adds
the URL and an "Operations" entry to the admin's index and sidebar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from paylink.fail_reasons import FAIL_REASON_SENTENCES

# Who may open the page: staff who may read the tallies (superusers may read everything).
PERMISSION = "paylink.view_operationtally"
URL_NAME = "paylink_operations"


def _list(name: str, **filters: str) -> str:
    """The admin list `name` (e.g. "paylink_task") filtered by `filters`; "" if it has none."""
    try:
        url = reverse(f"admin:{name}_changelist")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(filters)}" if filters else url


def _admin_time(moment: datetime) -> str:
    # With its offset, so the admin's filter reads the same instant whatever its time zone.
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds")


def duration_text(seconds: float | None) -> str:
    """A short duration a person reads at a glance: 850 ms, 4.2 s, 12 min, 3.5 h."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return gettext("%(n)s ms") % {"n": round(seconds * 1000)}
    if seconds < 60:
        return gettext("%(n)s s") % {"n": f"{seconds:.1f}".rstrip("0").rstrip(".")}
    if seconds < 3600:
        return gettext("%(n)s min") % {"n": round(seconds / 60)}
    return gettext("%(n)s h") % {"n": f"{seconds / 3600:.1f}".rstrip("0").rstrip(".")}


def operations_context(request: HttpRequest) -> dict[str, Any]:
    from paylink.models import TaskStatus
    from paylink.selectors.operations import operations_day

    day = operations_day()
    since = _admin_time(day.since)
    lag = day.webhook_lag
    return {
        "day": day,
        "since": day.since,
        "lag_p50": duration_text(lag.p50_seconds),
        "lag_p99": duration_text(lag.p99_seconds),
        "lag_link": _list(
            "paylink_webhookevent", state__exact="processed", processed_at__gte=since
        ),
        "unprocessed_link": _list("paylink_webhookevent", state__in="received,failed"),
        "atomic": [
            {
                "row": row,
                "mean": duration_text(row.mean_ms / 1000),
                "link": _list(
                    "paylink_operationtally",
                    kind__exact="atomic",
                    name__exact=row.endpoint,
                    hour__gte=since,
                ),
            }
            for row in day.atomic
        ],
        "queues": [
            {
                "row": row,
                "oldest": duration_text(row.oldest_seconds) if row.waiting else "—",
                "link": _list(
                    "django_tasks_database_dbtaskresult",
                    queue_name__exact=row.queue,
                    status__exact="READY",
                ),
            }
            for row in day.queues
        ],
        "syncs_link": _list(
            "paylink_operationtally", kind__exact="sync", outcome__exact="failed", hour__gte=since
        ),
        "people_link": _list("paylink_accountsnapshot", last_error_at__gte=since),
        "people": [
            {
                "username": username,
                "when": when,
                "link": reverse("admin:paylink_accountsnapshot_change", args=[pk]),
            }
            for pk, username, when in day.syncs.people
        ],
        "fail_reasons": [
            {
                "reason": reason,
                "sentence": FAIL_REASON_SENTENCES.get(reason, ""),
                "count": count,
                "link": _list(
                    "paylink_task",
                    status__exact=TaskStatus.FAILED,
                    fail_reason__exact=reason,
                    updated_at__gte=since,
                ),
            }
            for reason, count in day.fail_reasons
        ],
    }


def operations_view(site: AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        context = {
            **site.each_context(request),
            "title": gettext("Operations: the last 24 hours"),
            **operations_context(request),
        }
        return TemplateResponse(request, "admin/paylink/operations.html", context)

    return view


class OperationsAdminMixin(AdminSite):
    """Adds the operations page to an AdminSite, and its entry to the index and sidebar."""

    def get_urls(self) -> list[URLResolver | URLPattern]:
        page = path("operations/", self.admin_view(operations_view(self)), name=URL_NAME)
        return [page, *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        apps: list[Any] = super().get_app_list(request, app_label)
        if app_label is not None or not request.user.has_perm(PERMISSION):
            return apps
        url = reverse(f"admin:{URL_NAME}")
        entry = {
            "name": gettext_lazy("Operations"),
            "app_label": "operations",
            "app_url": url,
            "has_module_perms": True,
            "models": [
                {
                    "name": gettext_lazy("The last 24 hours"),
                    "object_name": "Operations",
                    "model_name": "operations",
                    "admin_url": url,
                    "add_url": None,
                    "view_only": True,
                    "perms": {"view": True},
                }
            ],
        }
        return [entry, *apps]
