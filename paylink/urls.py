from __future__ import annotations

from django.urls import path

from paylink import views
from paylink.views import account, calendar, hub, reminders

app_name = "paylink"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.dashboard_refresh, name="dashboard-refresh"),
    path("hub/", hub.hub, name="hub"),
    path("hub/token/", hub.token, name="token"),
    path("hub/events/", hub.sdk_event, name="sdk-event"),
    path("hub/tasks/<str:task_id>/", hub.task_status, name="task"),
    path("settings/reminders/", reminders.reminder_settings, name="reminder-settings"),
    path(
        "settings/reminders/calendar-link/",
        reminders.calendar_link_renew,
        name="calendar-link-renew",
    ),
    path("reminders/unsubscribe/<str:token>/", reminders.unsubscribe, name="unsubscribe"),
    path("calendar/", calendar.calendar_month, name="calendar-month"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
    path("webhooks/atomic/", views.atomic_webhook, name="atomic-webhook"),
    path("account/", account.account, name="account"),
    path("account/export/", account.account_export, name="account-export"),
    path("account/delete/", account.account_delete_view, name="account-delete"),
]
