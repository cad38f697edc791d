from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        from django.conf import settings

        # Registers the system checks (paylink/checks.py) and the sign-in hook that applies a
        # person's saved language (paylink/language.py).
        from paylink import checks, language  # noqa: F401
        from paylink.lib import health

        # /readyz tells when the scheduler's reconcile last finished cleanly.
        from paylink.tasks import RECONCILE_SUCCEEDED_AT_KEY

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
