from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """Due-date reminder emails, weekly summaries, the calendar feed and unsubscribing."""

    name = "reminders"
    verbose_name = "Reminders"
