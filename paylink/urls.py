from __future__ import annotations

from django.urls import path, register_converter

from paylink import time_zone, views
from paylink.atomic_values import ATOMIC_ID
from paylink.views import account, account_settings, hub


class AtomicIdConverter:
    """Only Atomic's id shape reaches a view: anything else is a 404 before any query."""

    regex = ATOMIC_ID.pattern

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AtomicIdConverter, "atomic_id")

app_name = "paylink"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.dashboard_refresh, name="dashboard-refresh"),
    path("dashboard/poll/", views.dashboard_poll, name="dashboard-poll"),
    path("dashboard/bills/", views.dashboard_bills, name="dashboard-bills"),
    path("dashboard/suggestions/", views.dashboard_suggestions, name="dashboard-suggestions"),
    path("dashboard/accounts/", views.dashboard_cards, name="dashboard-cards"),
    path("time-zone/", time_zone.time_zone_report, name="time-zone"),
    path("hub/", hub.hub, name="hub"),
    path("hub/token/", hub.token, name="token"),
    path("hub/events/", hub.sdk_event, name="sdk-event"),
    path("hub/tasks/<atomic_id:task_id>/", hub.task_status, name="task"),
    path("hub/tasks/<atomic_id:task_id>/outcome/", hub.task_outcome, name="task-outcome"),
    path("webhooks/atomic/", views.atomic_webhook, name="atomic-webhook"),
    path("settings/account/", account_settings.account_settings, name="account-settings"),
    path("settings/account/email/", account_settings.email_change, name="email-change"),
    path(
        "settings/account/email/<str:token>/",
        account_settings.email_confirm,
        name="email-confirm",
    ),
    path("account/", account.account, name="account"),
    path("account/export/", account.account_export, name="account-export"),
    path("account/delete/", account.account_delete_view, name="account-delete"),
]
