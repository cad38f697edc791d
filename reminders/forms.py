"""The reminder settings form: the three choices a person makes about reminder emails."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from paylink.lib.whole_numbers import WholeNumberField
from reminders.models import REMINDER_DAYS_MAX, ReminderPreferences


class ReminderPreferencesForm(forms.ModelForm):
    days_before = WholeNumberField(
        label=_("Days before the due date"),
        min_value=0,
        max_value=REMINDER_DAYS_MAX,
        help_text=_("From 0 (on the day) to 30."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    class Meta:
        model = ReminderPreferences
        fields = ["email_reminders", "days_before", "weekly_summary"]
        labels = {
            "email_reminders": _("Email me before each due date"),
            "weekly_summary": _("Email me a weekly summary"),
        }
        help_texts = {
            "weekly_summary": _(
                "On Mondays: what is due this week, what is overdue, savings found."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Checkboxes come before their labels on the page, where a trailing colon reads wrongly.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
