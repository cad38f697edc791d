"""Views of the host. One module per area; this package re-exports what urls.py routes to."""

from paylink.views.dashboard import (
    dashboard,
    dashboard_bills,
    dashboard_cards,
    dashboard_poll,
    dashboard_refresh,
    dashboard_suggestions,
)
from paylink.views.webhooks import atomic_webhook

__all__ = [
    "atomic_webhook",
    "dashboard",
    "dashboard_bills",
    "dashboard_cards",
    "dashboard_poll",
    "dashboard_refresh",
    "dashboard_suggestions",
]
