from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class SimulatorConfig(AppConfig):
    name = "simulator"
    label = "simulator"
    verbose_name = "Atomic simulator"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Its SQLite database's folder (var/), made at start-up: importing the settings makes none.
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
