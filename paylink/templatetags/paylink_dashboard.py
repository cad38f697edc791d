"""Presentation of dashboard values: money, dates, masking and the billing-history chart."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django import template
from django.utils import formats, timezone
from django.utils.safestring import SafeData, SafeString
from django.utils.timesince import timesince
from django.utils.translation import get_language

from paylink.payloads import HistoryEntry, Identity, Plan
from paylink.selectors.dashboard import AccountCard

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
    return _day_text(timezone.localtime(value).date(), get_language())


@lru_cache(maxsize=1024)
def _day_text(local_day: date, language: str | None) -> str:
    # Formatting is slow next to a lookup, and a page shows the same few days many times over.
    return formats.date_format(local_day, "M j, Y")


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


def _escaped(value: object) -> str:
    # Django's escape() and conditional_escape() are this, behind wrappers that cost more than
    # the escaping when a card has a hundred values.
    return value.__html__() if isinstance(value, SafeData) else html.escape(str(value))


def _html(template: str, *args: object) -> SafeString:
    """format_html() for the card and the chart: each argument escaped unless already safe."""
    return SafeString(template.format(*(_escaped(a) for a in args)))


def _html_join(separator: str, template: str, rows: Iterable[tuple[object, ...]]) -> SafeString:
    return SafeString(separator.join(_html(template, *row) for row in rows))


_CHART_WIDTH = 240
_CHART_HEIGHT = 72
_BAR_GAP = 8
_LABEL_SPACE = 14
_MAX_BAR_WIDTH = 28


class _Days:
    """day() for one render: the language and time zone looked up once, not for every date."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.language = get_language()

    def __call__(self, value: datetime | None) -> str:
        if value is None:
            return MISSING
        return _day_text(value.astimezone(self.zone).date(), self.language)

    def month(self, value: datetime) -> str:
        return value.astimezone(self.zone).strftime("%b")


@register.simple_tag
def history_chart(history: tuple[HistoryEntry, ...], title: str, chart_id: str) -> SafeString:
    """A small bar chart of past payments as inline SVG, with a title and description.

    Screen readers get the same numbers from the list rendered beside it; the SVG is
    described, not relied on.
    """
    return _history_chart(history, title, chart_id, _Days())


def _history_chart(
    history: tuple[HistoryEntry, ...], title: str, chart_id: str, days: _Days
) -> SafeString:
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
        label = html.escape(days.month(entry.date)) if entry.date else ""
        # Numbers formatted here and an escaped label: nothing left to escape.
        bars.append(
            f'<rect class="history-chart__bar" x="{x:.1f}" y="{plot_height - height:.1f}"'
            f' width="{bar_width:.1f}" height="{height:.1f}" rx="2"></rect>'
            f'<text class="history-chart__label" x="{x + bar_width / 2:.1f}"'
            f' y="{_CHART_HEIGHT - 2}" text-anchor="middle">{label}</text>'
        )
    first, last = history[0].date, history[-1].date
    desc = (
        f"{len(history)} payments from {days(first)} to {days(last)}, "
        f"between {money(min(amounts))} and {money(max(amounts))}."
    )
    return _html(
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
        SafeString("".join(bars)),
    )


# The account card is drawn here rather than by a template: a page shows many, and each has
# about a hundred values, where the template engine spent most of a cold render.


@register.simple_tag
def account_card(card: AccountCard) -> SafeString:
    """One account's card: who, what it costs, its plans, history, holder and actions."""
    account, company, billing = card.account, card.account.company, card.account.billing
    dom_id = card.dom_id
    days = _Days()
    parts = [
        _html(
            '<article class="card account-card" id="{}" aria-labelledby="{}-name">',
            dom_id,
            dom_id,
        )
    ]
    if company.color:
        parts.append(
            _html(
                '<svg class="account-card__stripe" viewBox="0 0 100 4" preserveAspectRatio="none"'
                ' aria-hidden="true" focusable="false"><rect width="100" height="4" fill="{}">'
                "</rect></svg>",
                company.color,
            )
        )
    if company.logo_url:
        logo = _html(
            '<img class="account-card__logo" src="{}" alt="{} logo" width="40" height="40"'
            ' loading="lazy" referrerpolicy="no-referrer">',
            company.logo_url,
            company.name,
        )
    else:
        logo = _html(
            '<svg class="account-card__logo" viewBox="0 0 40 40" aria-hidden="true"'
            ' focusable="false"><circle cx="20" cy="20" r="20" fill="{}"></circle>'
            '<text x="20" y="26" text-anchor="middle" fill="#ffffff">{}</text></svg>',
            company.color or "#4a5568",
            company.name[:1].upper(),
        )
    number = (
        _html(' · Account <span class="nowrap">{}</span>', last_four(billing.account_number))
        if billing and billing.account_number
        else ""
    )
    parts.append(
        _html(
            '<header class="account-card__head">{}<div><h3 class="account-card__name" id="{}-name">'
            '{}</h3><p class="account-card__type muted">{}{}</p></div></header>',
            logo,
            dom_id,
            company.name,
            humanise(account.type),
            number,
        )
    )
    parts.append(_card_facts(card, days))
    parts.extend(_card_plan(plan, days) for plan in account.plans)
    if billing and billing.items:
        parts.append(
            _html(
                '<details class="account-card__more"><summary>Billing items ({})</summary>'
                '<ul class="items">{}</ul></details>',
                len(billing.items),
                _html_join(
                    "",
                    '<li><span>{}</span> <span class="num">{}</span></li>',
                    ((i.description or "Item", money(i.amount)) for i in billing.items),
                ),
            )
        )
    if card.history:
        parts.append(
            _html(
                '<figure class="history">{}<figcaption class="muted">Recent payments</figcaption>'
                '<ul class="visually-hidden">{}</ul></figure>',
                _history_chart(card.history, f"{company.name} payments", f"{dom_id}-chart", days),
                _html_join(
                    "", "<li>{}: {}</li>", ((days(h.date), money(h.amount)) for h in card.history)
                ),
            )
        )
    if account.identities:
        parts.append(
            _html(
                '<p class="account-card__identity muted">Account holder: {}</p>',
                SafeString("; ").join(_identity(i) for i in account.identities),
            )
        )
    if account.actions:
        parts.append(
            _html(
                '<div class="account-card__actions">{}</div>',
                _html_join(
                    "",
                    '<button type="button" class="button button--secondary button--small"'
                    ' data-transact-launch data-action-id="{}" data-action-type="{}"'
                    ' data-account-id="{}" data-task-target="#{}-task">{}'
                    '<span class="visually-hidden"> for {}</span></button>',
                    (
                        (a.id, a.type, account.id, dom_id, humanise(a.type), company.name)
                        for a in account.actions
                    ),
                ),
            )
        )
    parts.append(
        _html(
            '<div id="{}-task" class="account-card__task" aria-live="polite"></div></article>',
            dom_id,
        )
    )
    return SafeString("".join(parts))


def _card_facts(card: AccountCard, days: _Days) -> SafeString:
    billing = card.account.billing
    if billing is None:
        return SafeString('<p class="muted">No billing details yet.</p>')
    autopay = billing.autopay
    cycle = (
        _html(' <span class="muted">{}</span>', humanise(autopay.cycle).lower())
        if autopay and autopay.cycle
        else ""
    )
    badge = {
        "overdue": ' <span class="badge badge--bad">Overdue</span>',
        "soon": ' <span class="badge badge--warn">Due soon</span>',
    }.get(card.due_state, "")
    if autopay is None:
        autopay_text = MISSING
    elif autopay.enabled is None:
        autopay_text = humanise(autopay.status)
    else:
        autopay_text = "On" if autopay.enabled else "Off"
    return _html(
        '<dl class="account-card__facts"><div><dt>Bill</dt><dd>{}{}</dd></div>'
        "<div><dt>Due</dt><dd>{}{}</dd></div>"
        "<div><dt>Per month</dt><dd>{}</dd></div>"
        "<div><dt>Autopay</dt><dd>{}</dd></div></dl>",
        money(billing.amount),
        cycle,
        days(billing.due_date),
        SafeString(badge),
        money(card.monthly_equivalent),
        autopay_text,
    )


_PLAN_STATUS_BADGE = {
    "active": " badge--ok",
    "paused": " badge--warn",
    "cancelled": " badge--warn",
    "canceled": " badge--warn",
}


def _card_plan(plan: Plan, days: _Days) -> SafeString:
    status = (
        _html(
            ' <span class="badge{}" data-plan-status="{}">{}</span>',
            _PLAN_STATUS_BADGE.get(plan.status, ""),
            plan.status,
            humanise(plan.status),
        )
        if plan.status
        else ""
    )
    trial = SafeString(' <span class="badge">Free trial</span>') if plan.free_trial else ""
    description = (
        _html('<p class="plan__desc muted">{}</p>', plan.description)
        if plan.description and plan.description != plan.title
        else ""
    )
    return _html(
        '<div class="plan"><p class="plan__title"><strong>{}</strong>{}{}</p>{}{}</div>',
        plan.title or "Plan",
        status,
        trial,
        description,
        _pending_change(plan, days),
    )


def _pending_change(plan: Plan, days: _Days) -> SafeString | str:
    change = plan.pending_change
    if change is None:
        return ""
    what = humanise(change.status) if change.status else humanise(change.type)
    detail = ""
    if change.title or change.amount is not None:
        shown = [change.title] if change.title else []
        if change.amount is not None:
            shown.append(money(change.amount))
        detail = f" ({', '.join(shown)})"
    since = f" from {days(change.start_date)}" if change.start_date else ""
    until = f" until {days(change.end_date)}" if change.end_date else ""
    return _html(
        '<p class="plan__pending">Pending change: {}{}{}{}</p>', what, detail, since, until
    )


def _identity(identity: Identity) -> SafeString:
    parts = []
    if identity.first_name or identity.last_name:
        parts.append(f"{mask_name(identity.first_name)} {mask_name(identity.last_name)}")
    if identity.email:
        parts.append(mask_email(identity.email))
    if identity.phone:
        parts.append(mask_phone(identity.phone))
    return _html("{}", " · ".join(parts))
