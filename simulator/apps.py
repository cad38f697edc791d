from __future__ import annotations

from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "simulator"
    label = "simulator"
    verbose_name = "Atomic simulator"
    default_auto_field = "django.db.models.BigAutoField"
