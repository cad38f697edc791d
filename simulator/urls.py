from __future__ import annotations

from django.urls import include, path, re_path

from simulator import api, control

handler404 = "simulator.api.not_found_view"
handler500 = "simulator.api.server_error_view"

urlpatterns = [
    path("", control.index_view, name="index"),
    path("logos/<slug:slug>.svg", control.logo_view, name="logo"),
    path("_sim/faults", control.faults_view, name="faults"),
    path("_sim/webhook-faults", control.webhook_faults_view, name="webhook-faults"),
    path("_sim/config", control.config_view, name="config"),
    path("_sim/reset", control.reset_view, name="reset"),
    path("_sim/state", control.state_view, name="state"),
    path("_sim/tasks", control.task_create_view, name="task-create"),
    path("_sim/tasks/patch", control.task_patch_view, name="task-patch"),
    path("_sim/tokens/expire", control.token_expire_view, name="token-expire"),
    # Atomic's server API.
    path("access-token", api.access_token_view, name="access-token"),
    path("task/<str:task_id>/status", api.task_status_view, name="task-status"),
    path("task/<str:task_id>/details", api.task_details_view, name="task-details"),
    path("user", api.user_update_view, name="user-update"),
    path("user/<str:identifier>/tasks", api.user_tasks_view, name="user-tasks"),
    path("user/<str:identifier>/end-monitoring", api.end_monitoring_view, name="end-monitoring"),
    path("pay-link/accounts", api.accounts_v2_view, name="accounts-v2"),
    path("<str:identifier>/pay-link/accounts", api.accounts_view, name="accounts"),
    # The Transact iframe, its JSON calls and the SDK script.
    path("", include("simulator.transact.urls")),
    # Anything else under this origin is a JSON 404, with DEBUG on or off.
    re_path(r"^.*$", api.not_found_view),
]
