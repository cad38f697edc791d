from __future__ import annotations

from django.urls import path

from paylink import views
from paylink.views import account, hub

app_name = "paylink"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.dashboard_refresh, name="dashboard-refresh"),
    path("hub/", hub.hub, name="hub"),
    path("hub/token/", hub.token, name="token"),
    path("hub/events/", hub.sdk_event, name="sdk-event"),
    path("hub/tasks/<str:task_id>/", hub.task_status, name="task"),
    path("webhooks/atomic/", views.atomic_webhook, name="atomic-webhook"),
    path("account/", account.account, name="account"),
    path("account/export/", account.account_export, name="account-export"),
    path("account/delete/", account.account_delete_view, name="account-delete"),
]
