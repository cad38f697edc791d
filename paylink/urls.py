from __future__ import annotations

from django.urls import path, register_converter

from paylink import views
from paylink.vendor_json import ATOMIC_ID
from paylink.views import hub


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
    path("hub/", hub.hub, name="hub"),
    path("hub/token/", hub.token, name="token"),
    path("hub/events/", hub.sdk_event, name="sdk-event"),
    path("hub/tasks/<atomic_id:task_id>/", hub.task_status, name="task"),
    path("webhooks/atomic/", views.atomic_webhook, name="atomic-webhook"),
]
