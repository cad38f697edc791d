"""Presentation of dashboard values: money, dates, masking and the billing-history chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from paylink.payloads import HistoryEntry

register = template.Library()

MISSING = "—"
MASK = "••••"
_CENT = Decimal("0.01")


@register.filter
def money(value: Decimal | None) -> str:
    """US dollars with thousands separators; a missing amount is a dash, not $0.00."""
    if value is None:
        return MISSING
    amount = Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def day(value: datetime | None) -> str:
    if value is None:
        return MISSING
    return formats.date_format(timezone.localtime(value), "M j, Y")


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" under a minute, else Django's "N minutes ago" wording."""
    if value is None:
        return MISSING
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def last_four(value: str | None) -> str:
    """An account number as its last four digits only: the full number never reaches a page."""
    text = (value or "").strip()
    if not text:
        return MISSING
    return f"{MASK} {text[-4:]}" if len(text) > 4 else MASK


@register.filter
def mask_name(value: str | None) -> str:
    """The first letter and a mask: enough to recognise, not enough to copy."""
    text = (value or "").strip()
    return f"{text[0]}•••" if text else ""


@register.filter
def mask_email(value: str | None) -> str:
    text = (value or "").strip()
    local, at, domain = text.partition("@")
    if not at:
        return mask_name(text)
    return f"{local[:1]}•••@{domain}"


@register.filter
def mask_phone(value: str | None) -> str:
    digits = "".join(c for c in (value or "") if c.isdigit())
    return f"{MASK} {digits[-4:]}" if len(digits) > 4 else (MASK if digits else "")


@register.filter
def humanise(value: str | None) -> str:
    """An enum value from Atomic as words; unknown values stay readable instead of failing."""
    text = (value or "").strip().replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:] if text else MISSING


_CHART_WIDTH = 240
_CHART_HEIGHT = 72
_BAR_GAP = 8
_LABEL_SPACE = 14
_MAX_BAR_WIDTH = 28


@register.simple_tag
def history_chart(history: tuple[HistoryEntry, ...], title: str, chart_id: str) -> SafeString:
    """A small bar chart of past payments as inline SVG, with a title and description.

    Screen readers get the same numbers from the list rendered beside it; the SVG is
    described, not relied on.
    """
    if not history:
        return SafeString("")
    amounts = [h.amount or Decimal(0) for h in history]
    top = max(amounts) or Decimal(1)
    slot = _CHART_WIDTH / len(history)
    # A few payments should still look like bars, not slabs.
    bar_width = min(max(slot - _BAR_GAP, 4), _MAX_BAR_WIDTH)
    plot_height = _CHART_HEIGHT - _LABEL_SPACE
    bars = []
    for index, (entry, amount) in enumerate(zip(history, amounts, strict=True)):
        height = max(float(amount / top) * (plot_height - 2), 1.0)
        x = index * slot + (slot - bar_width) / 2
        label = timezone.localtime(entry.date).strftime("%b") if entry.date else ""
        bars.append(
            (
                f"{x:.1f}",
                f"{plot_height - height:.1f}",
                f"{bar_width:.1f}",
                f"{height:.1f}",
                f"{x + bar_width / 2:.1f}",
                str(_CHART_HEIGHT - 2),
                label,
            )
        )
    first, last = history[0].date, history[-1].date
    desc = (
        f"{len(history)} payments from {day(first)} to {day(last)}, "
        f"between {money(min(amounts))} and {money(max(amounts))}."
    )
    return format_html(
        '<svg class="history-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d"'
        ' focusable="false"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        _CHART_WIDTH,
        _CHART_HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        format_html_join(
            "",
            '<rect class="history-chart__bar" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
            '<text class="history-chart__label" x="{}" y="{}" text-anchor="middle">{}</text>',
            bars,
        ),
    )
