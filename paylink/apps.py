from django.apps import AppConfig


class PaylinkConfig(AppConfig):
    name = "paylink"
    verbose_name = "PayLink"
