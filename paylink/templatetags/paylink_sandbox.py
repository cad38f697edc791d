"""The test billers and usernames, for the empty dashboard (paylink/sandbox_guide.py)."""

from __future__ import annotations

from django import template

from paylink.sandbox_guide import sandbox_guide

register = template.Library()


@register.inclusion_tag("paylink/_sandbox_guide_body.html")
def sandbox_guide_list() -> dict[str, object]:
    return {"guide": sandbox_guide()}
