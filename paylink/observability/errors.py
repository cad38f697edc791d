"""Error reports to Sentry (or any service speaking its protocol), when SENTRY_DSN is set.

The SDK's defaults send no user, cookies or personal headers, and request bodies are turned off
here; then every event and breadcrumb passes through the one scrubbing rule before it leaves:
secret settings, credentials under any key, inline tokens and whole account numbers are hidden,
in messages, exception values, request data and each frame's variables alike.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from sentry_sdk.types import Event, Hint

from paylink.observability.log_context import current
from paylink.observability.scrub import value_scrubbed

logger = logging.getLogger(__name__)


def event_scrubbed(sentry_event: Event, hint: Hint | None = None) -> Event:
    """Sentry's `before_send`: the event as it may leave the process, with the log context's
    request id and ce-id as tags so a report can be matched with its log lines."""
    # Sentry's Event type describes the plain dict it hands over; it is read as one.
    event = cast(dict[str, Any], sentry_event)
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if "vars" in frame:
                frame["vars"] = value_scrubbed(frame["vars"], numbers=True)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            if "vars" in frame:
                frame["vars"] = value_scrubbed(frame["vars"], numbers=True)
    scrubbed: dict[str, Any] = value_scrubbed(event)
    tags = scrubbed.setdefault("tags", {})
    if isinstance(tags, dict):
        tags.update(
            {key: value for key, value in current().items() if key in ("request_id", "ce_id")}
        )
    return cast(Event, scrubbed)


def breadcrumb_scrubbed(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = value_scrubbed(crumb)
    return result


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start Sentry's SDK when `dsn` is set; whether it was started."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration()],
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=event_scrubbed,
        before_send_transaction=event_scrubbed,
        before_breadcrumb=breadcrumb_scrubbed,
    )
    return True
