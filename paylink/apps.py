from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        # Registers the system checks (paylink/checks.py) and the sign-in hook that applies a
        # person's saved language (paylink/language.py).
        from paylink import checks, language  # noqa: F401
