"""Views of the host. One module per area; this package re-exports what urls.py routes to."""

from paylink.views.dashboard import dashboard

__all__ = ["dashboard"]
