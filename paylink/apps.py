from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"

    def ready(self) -> None:
        # Registers the deployment checks (`manage.py check`).
        from paylink import checks  # noqa: F401
