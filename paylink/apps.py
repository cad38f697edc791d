from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import LazySettings


def local_folders_make(settings: LazySettings) -> None:
    """Make the folders of local state the settings name (collected static files, a SQLite
    database's folder) at start-up: importing the settings makes none."""
    folders = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    for database in settings.DATABASES.values():
        if database["ENGINE"] == "django.db.backends.sqlite3" and database["NAME"] != ":memory:":
            folders.append(Path(database["NAME"]).parent)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        from django.conf import settings

        local_folders_make(settings)

        # Registers the system checks (paylink/checks.py), the sign-in hook that applies a
        # person's saved language (paylink/language.py) and the hooks that forget a changed
        # user's cached row (paylink/lib/auth_backend.py).
        from paylink import checks, language  # noqa: F401
        from paylink.lib import auth_backend, health  # noqa: F401

        # /readyz tells when the scheduler's reconcile last finished cleanly.
        from paylink.selectors.reconcile import RECONCILE_SUCCEEDED_AT_KEY

        # In every process (the worker's syncs too): a write to a snapshot retires the kept
        # dashboard page, which the session's read then brings (paylink/views/dashboard_page.py).
        from paylink.views import dashboard_page  # noqa: F401

        health.CACHED_FACTS["reconcile_succeeded_at"] = RECONCILE_SUCCEEDED_AT_KEY

        # Jobs carry the log context of whoever enqueued them; errors go to Sentry if set.
        from paylink.observability import errors, jobs

        jobs.connect()
        errors.sentry_init(
            dsn=settings.SENTRY_DSN,
            environment=settings.SENTRY_ENVIRONMENT,
            release=settings.SENTRY_RELEASE,
            traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        )
