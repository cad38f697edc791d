"""What the reconcile sweep leaves for others to read."""

from __future__ import annotations

from django.core.cache import cache

# When the scheduler's reconcile last finished cleanly (ISO 8601), in the shared cache: /readyz
# and /metrics report it, so a scheduler or worker that stopped long ago shows.
RECONCILE_SUCCEEDED_AT_KEY = "paylink:reconcile:succeeded-at"


def reconcile_succeeded_at() -> str | None:
    """When the last reconcile finished cleanly (ISO 8601), or None if none has yet."""
    return cache.get(RECONCILE_SUCCEEDED_AT_KEY)
