from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reminders.models import ReminderDelivery


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(admin.ModelAdmin):
    """Which reminder emails went out. Deleting a row lets that email be sent again; a row is
    never added or edited by hand (it is the record of a mail that left)."""

    list_display = ["sent_at", "profile", "kind", "account_id", "due_date"]
    list_filter = ["kind"]
    search_fields = ["profile__user__username", "account_id"]
    list_select_related = ["profile__user"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
