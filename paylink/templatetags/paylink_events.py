"""`{% browser_event "taskFinished" %}`: an event's name from paylink/browser_events.py, so a
template never spells one (an unknown key fails the page, not silently the listener)."""

from __future__ import annotations

from django import template

from paylink.browser_events import EVENTS

register = template.Library()


@register.simple_tag
def browser_event(key: str) -> str:
    try:
        return EVENTS[key]
    except KeyError:
        raise template.TemplateSyntaxError(
            f"No browser event {key!r} in paylink/browser_events.py: {sorted(EVENTS)}"
        ) from None
