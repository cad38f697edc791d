from __future__ import annotations

from django.urls import path

from paylink import views

app_name = "paylink"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
