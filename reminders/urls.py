"""The reminders app's pages, at the addresses they had under `paylink` (only the URL names'
namespace changed: `reminders:unsubscribe`)."""

from __future__ import annotations

from django.urls import path

from reminders.views import calendar, preferences

app_name = "reminders"

urlpatterns = [
    path("settings/reminders/", preferences.reminder_settings, name="reminder-settings"),
    path(
        "settings/reminders/calendar-link/",
        preferences.calendar_link_renew,
        name="calendar-link-renew",
    ),
    path("reminders/unsubscribe/<str:token>/", preferences.unsubscribe, name="unsubscribe"),
    path("calendar/", calendar.calendar_month, name="calendar-month"),
    path("calendar/bills/", calendar.calendar_month_bills, name="calendar-month-bills"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
]
