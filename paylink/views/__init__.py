"""Views of the host. One module per area; this package re-exports what urls.py routes to."""

from paylink.views.dashboard import dashboard, dashboard_refresh

__all__ = ["dashboard", "dashboard_refresh"]
