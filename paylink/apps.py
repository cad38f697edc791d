from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        from django.conf import settings

        # Registers the system checks (paylink/checks.py), the sign-in hook that applies a
        # person's saved language (paylink/language.py) and the hooks that forget a changed
        # user's cached row (paylink/auth_backend.py).
        from paylink import auth_backend, checks, language  # noqa: F401

        # Jobs carry the log context of whoever enqueued them; errors go to Sentry if set.
        from paylink.observability import errors, jobs

        jobs.connect()
        errors.sentry_init(
            dsn=settings.SENTRY_DSN,
            environment=settings.SENTRY_ENVIRONMENT,
            release=settings.SENTRY_RELEASE,
            traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        )
