from __future__ import annotations

from django.urls import path

from simulator.transact import endpoints, views

app_name = "transact"

urlpatterns = [
    # The SDK's base64 may contain "/", so the config is a path.
    path("initialize/<path:config>", views.initialize_view, name="initialize"),
    path("sdk/transact.js", views.sdk_view, name="sdk"),
    path("transact/api/session", endpoints.session_view, name="session"),
    path("transact/api/companies", endpoints.companies_view, name="companies"),
    path("transact/api/companies/<str:company_id>", endpoints.company_view, name="company"),
    path("transact/api/login", endpoints.login_view, name="login"),
    path("transact/api/mfa", endpoints.mfa_view, name="mfa"),
    path("transact/api/tasks/<str:task_id>", endpoints.task_view, name="task"),
    path("transact/api/actions/<str:action_id>", endpoints.action_view, name="action"),
    path("transact/api/hub", endpoints.hub_view, name="hub"),
]
