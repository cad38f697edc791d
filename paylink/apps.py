from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        # Registers the system checks (paylink/checks.py).
        from paylink import checks  # noqa: F401
