"""Presentation of dashboard values: money, dates, masking and the billing-history chart."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django import template
from django.utils import formats, timezone
from django.utils.safestring import SafeData, SafeString
from django.utils.timesince import timesince
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy

from paylink.payloads import HistoryEntry, Identity, Plan
from paylink.selectors.dashboard import AccountCard, Spending

register = template.Library()

MISSING = "—"
MASK = "••••"
_CENT = Decimal("0.01")


@register.filter
def money(value: Decimal | None) -> str:
    """US dollars in the active language's number format ("$1,234.56", "1 234,56 US$"); a
    missing amount is a dash, not $0.00."""
    if value is None:
        return MISSING
    return _money_text(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP), get_language())


@lru_cache(maxsize=4096)
def _money_text(amount: Decimal, language: str | None) -> str:
    # Cached for the same reason as _day_text; the language is part of the key because
    # both the separators and the place of the symbol follow it.
    number = formats.number_format(abs(amount), 2, use_l10n=True, force_grouping=True)
    return pgettext(
        # Translators: an amount in US dollars. Spanish puts the symbol after the number.
        "money",
        "%(sign)s$%(amount)s",
    ) % {"sign": "-" if amount < 0 else "", "amount": number}


@register.filter
def day(value: datetime | None) -> str:
    if value is None:
        return MISSING
    return _day_text(timezone.localtime(value).date(), get_language())


@lru_cache(maxsize=1024)
def _day_text(local_day: date, language: str | None) -> str:
    # Formatting is slow next to a lookup, and a page shows the same few days many times over.
    # The format is the catalogue's, so each language orders day and month its own way.
    return formats.date_format(local_day, pgettext("date format of a bill's day", "M j, Y"))


@lru_cache(maxsize=256)
def _month_text(local_day: date, language: str | None) -> str:
    return formats.date_format(local_day, "M")


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" under a minute, else Django's "N minutes ago" wording."""
    if value is None:
        return MISSING
    if timezone.now() - value < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(value)}


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


# Atomic's values that the dashboard names, in the reader's language; a value not listed
# (Atomic's lists are open) is shown as humanise() reads it.
_WORDS = {
    ("account type", "subscription"): pgettext_lazy("account type", "Subscription"),
    ("account type", "telecom"): pgettext_lazy("account type", "Phone and internet"),
    ("account type", "policy"): pgettext_lazy("account type", "Insurance policy"),
    ("account type", "insurance"): pgettext_lazy("account type", "Insurance"),
    ("account type", "loan"): pgettext_lazy("account type", "Loan"),
    ("account type", "utility"): pgettext_lazy("account type", "Utility"),
    ("account type", "credit-card"): pgettext_lazy("account type", "Credit card"),
    ("action", "change-plan"): pgettext_lazy("action", "Change plan"),
    ("action", "cancel-plan"): pgettext_lazy("action", "Cancel plan"),
    ("action", "pause-plan"): pgettext_lazy("action", "Pause plan"),
    ("action", "view-account"): pgettext_lazy("action", "View account"),
    ("action", "refresh"): pgettext_lazy("action", "Refresh"),
    ("action", "connect-account"): pgettext_lazy("action", "Connect account"),
    ("action", "disconnect-account"): pgettext_lazy("action", "Disconnect account"),
    ("action", "switch"): pgettext_lazy("action", "Switch payment method"),
    ("plan status", "active"): pgettext_lazy("plan status", "Active"),
    ("plan status", "paused"): pgettext_lazy("plan status", "Paused"),
    ("plan status", "cancelled"): pgettext_lazy("plan status", "Cancelled"),
    ("plan status", "canceled"): pgettext_lazy("plan status", "Cancelled"),
    ("plan status", "pending"): pgettext_lazy("plan status", "Pending"),
    ("plan status", "trial"): pgettext_lazy("plan status", "Trial"),
    ("autopay", "enabled"): pgettext_lazy("autopay", "On"),
    ("autopay", "disabled"): pgettext_lazy("autopay", "Off"),
    ("cycle", "daily"): pgettext_lazy("billing cycle", "daily"),
    ("cycle", "weekly"): pgettext_lazy("billing cycle", "weekly"),
    ("cycle", "biweekly"): pgettext_lazy("billing cycle", "every two weeks"),
    ("cycle", "semimonthly"): pgettext_lazy("billing cycle", "twice a month"),
    ("cycle", "monthly"): pgettext_lazy("billing cycle", "monthly"),
    ("cycle", "bimonthly"): pgettext_lazy("billing cycle", "every two months"),
    ("cycle", "quarterly"): pgettext_lazy("billing cycle", "quarterly"),
    ("cycle", "semiannual"): pgettext_lazy("billing cycle", "twice a year"),
    ("cycle", "semiannually"): pgettext_lazy("billing cycle", "twice a year"),
    ("cycle", "annual"): pgettext_lazy("billing cycle", "yearly"),
    ("cycle", "annually"): pgettext_lazy("billing cycle", "yearly"),
    ("cycle", "yearly"): pgettext_lazy("billing cycle", "yearly"),
    ("change", "status-update"): pgettext_lazy("pending change", "Status change"),
    ("change", "plan-change"): pgettext_lazy("pending change", "Plan change"),
    ("change", "price-change"): pgettext_lazy("pending change", "Price change"),
    ("change", "cancellation"): pgettext_lazy("pending change", "Cancellation"),
}


@register.filter
def account_type(value: str | None) -> str:
    return words_for("account type", value)


@register.filter
def month(value: date | None) -> str:
    """A month and its year ("October 2024", "octubre de 2024")."""
    if value is None:
        return MISSING
    return _year_month_text(value, get_language())


@lru_cache(maxsize=256)
def _year_month_text(first_day: date, language: str | None) -> str:
    return formats.date_format(first_day, "YEAR_MONTH_FORMAT")


def words_for(kind: str, value: str | None) -> str:
    """An Atomic value of `kind` ("account type", "action", ...) as the reader's words."""
    return _words_text(kind, value or "", get_language())


@lru_cache(maxsize=1024)
def _words_text(kind: str, value: str, language: str | None) -> str:
    # A card names several of these; the catalogue lookup behind each lazy string costs more
    # than the rest of the card's words.
    known = _WORDS.get((kind, value.strip().lower()))
    return str(known) if known is not None else humanise(value)


def _escaped(value: object) -> str:
    # Django's escape() and conditional_escape() are this, behind wrappers that cost more than
    # the escaping when a card has a hundred values.
    return value.__html__() if isinstance(value, SafeData) else html.escape(str(value))


def _html(template: str, *args: object) -> SafeString:
    """format_html() for the card and the chart: each argument escaped unless already safe."""
    return SafeString(template.format(*(_escaped(a) for a in args)))


def _chart_svg(
    css_class: str, chart_id: str, title: str, desc: str, shapes: SafeString
) -> SafeString:
    """A chart as an image with its own title and description for screen readers."""
    return _html(
        '<svg class="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d"'
        ' focusable="false"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        css_class,
        _CHART_WIDTH,
        _CHART_HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        shapes,
    )


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
        return _month_text(value.astimezone(self.zone).date(), self.language)


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
    if len(history) == 1:
        desc = gettext("One payment, on %(day)s, of %(amount)s.") % {
            "day": days(first),
            "amount": money(amounts[0]),
        }
    else:
        # Two or more: the plural in every language the host speaks.
        desc = gettext(
            "%(count)s payments from %(first)s to %(last)s, between %(low)s and %(high)s."
        ) % {
            "count": len(history),
            "first": days(first),
            "last": days(last),
            "low": money(min(amounts)),
            "high": money(max(amounts)),
        }
    return _chart_svg("history-chart", chart_id, title, desc, SafeString("".join(bars)))


@register.simple_tag
def spending_chart(spending: Spending, chart_id: str) -> SafeString:
    """The monthly totals as a small line of points over bars, in inline SVG.

    It is described (first, last and highest month) for screen readers; the table beside it
    holds every figure.
    """
    months = spending.months
    if not months:
        return SafeString("")
    totals = [m.total for m in months]
    top = max(totals) or Decimal(1)
    slot = _CHART_WIDTH / len(months)
    bar_width = min(max(slot - _BAR_GAP, 4), _MAX_BAR_WIDTH)
    plot_height = _CHART_HEIGHT - _LABEL_SPACE
    language = get_language()
    bars, points = [], []
    for index, (entry, total) in enumerate(zip(months, totals, strict=True)):
        height = max(float(total / top) * (plot_height - 4), 1.0)
        x = index * slot + (slot - bar_width) / 2
        label = html.escape(_month_text(entry.month, language))
        bars.append(
            f'<rect class="spending-chart__bar" x="{x:.1f}" y="{plot_height - height:.1f}"'
            f' width="{bar_width:.1f}" height="{height:.1f}" rx="2"></rect>'
            f'<text class="history-chart__label" x="{x + bar_width / 2:.1f}"'
            f' y="{_CHART_HEIGHT - 2}" text-anchor="middle">{label}</text>'
        )
        points.append(f"{x + bar_width / 2:.1f},{plot_height - height:.1f}")
    line = (
        f'<polyline class="spending-chart__line" points="{" ".join(points)}"></polyline>'
        if len(points) > 1
        else ""
    )
    highest = max(months, key=lambda m: m.total)
    if len(months) == 1:
        desc = gettext("%(month)s: %(amount)s paid.") % {
            "month": month(months[0].month),
            "amount": money(totals[0]),
        }
    else:
        desc = gettext(
            "Paid each month from %(first)s (%(first_amount)s) to %(last)s"
            " (%(last_amount)s); the most in %(top)s (%(top_amount)s)."
        ) % {
            "first": month(months[0].month),
            "first_amount": money(totals[0]),
            "last": month(months[-1].month),
            "last_amount": money(totals[-1]),
            "top": month(highest.month),
            "top_amount": money(highest.total),
        }
    return _chart_svg(
        "spending-chart",
        chart_id,
        gettext("Spending trend"),
        desc,
        SafeString("".join(bars) + line),
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
            '<img class="account-card__logo" src="{}" alt="" width="40" height="40"'
            ' loading="lazy" referrerpolicy="no-referrer">',
            # Decorative: the heading beside it names the company.
            company.logo_url,
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
        _html(
            ' · {} <span class="nowrap">{}</span>',
            pgettext("account number", "Account"),
            last_four(billing.account_number),
        )
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
            words_for("account type", account.type),
            number,
        )
    )
    parts.append(_card_facts(card, days))
    parts.extend(_card_plan(plan, days) for plan in account.plans)
    if billing and billing.items:
        item = pgettext("billing item without a description", "Item")
        parts.append(
            _html(
                '<details class="account-card__more"><summary>{}</summary>'
                '<ul class="items">{}</ul></details>',
                gettext("Billing items (%(count)s)") % {"count": len(billing.items)},
                _html_join(
                    "",
                    '<li><span>{}</span> <span class="num">{}</span></li>',
                    ((i.description or item, money(i.amount)) for i in billing.items),
                ),
            )
        )
    if card.history:
        parts.append(
            _html(
                '<figure class="history">{}<figcaption class="muted">{}</figcaption>'
                '<ul class="visually-hidden">{}</ul></figure>',
                _history_chart(
                    card.history,
                    gettext("%(company)s payments") % {"company": company.name},
                    f"{dom_id}-chart",
                    days,
                ),
                gettext("Recent payments"),
                _html_join(
                    "", "<li>{}: {}</li>", ((days(h.date), money(h.amount)) for h in card.history)
                ),
            )
        )
    if account.identities:
        parts.append(
            _html(
                '<p class="account-card__identity muted">{} {}</p>',
                gettext("Account holder:"),
                SafeString("; ").join(_identity(i) for i in account.identities),
            )
        )
    if account.actions:
        for_company = gettext("for %(company)s") % {"company": company.name}
        automated = _html(
            '<span class="account-card__automated"> · {}</span>', gettext("done for you")
        )
        parts.append(
            _html(
                '<div class="account-card__actions">{}</div>',
                _html_join(
                    "",
                    '<button type="button" class="button button--secondary button--small"'
                    ' data-transact-launch data-action-id="{}" data-action-type="{}"'
                    ' data-account-id="{}" data-task-target="#{}-task">{}'
                    '<span class="visually-hidden"> {}</span>{}</button>',
                    (
                        (
                            a.id,
                            a.type,
                            account.id,
                            dom_id,
                            words_for("action", a.type),
                            for_company,
                            # Atomic carries these out without another sign-in at the company.
                            automated if a.automated else "",
                        )
                        for a in account.actions
                    ),
                ),
            )
        )
    parts.append(
        _html(
            # Where an action started from this card shows its outcome (hub.js keeps it there
            # through redraws; paylink/_card_outcome.html). announce.js speaks its changes.
            '<div id="{}-task" class="account-card__task" data-outcome-slot></div></article>',
            dom_id,
        )
    )
    return SafeString("".join(parts))


def _card_facts(card: AccountCard, days: _Days) -> SafeString:
    billing = card.account.billing
    if billing is None:
        return _html('<p class="muted">{}</p>', gettext("No billing details yet."))
    autopay = billing.autopay
    cycle = (
        _html(' <span class="muted">{}</span>', _cycle_words(autopay.cycle))
        if autopay and autopay.cycle
        else ""
    )
    words = _facts_words(days.language)
    match card.due_state:
        case "overdue":
            badge = words.overdue
        case "soon":
            badge = words.due_soon
        case _:
            badge = ""
    if autopay is None:
        autopay_text = MISSING
    elif autopay.enabled is None:
        autopay_text = words_for("autopay", autopay.status)
    else:
        autopay_text = words.on if autopay.enabled else words.off
    return _html(
        words.template,
        money(billing.amount),
        cycle,
        days(billing.due_date),
        badge,
        money(card.monthly_equivalent),
        autopay_text,
    )


@dataclass(frozen=True)
class _FactsWords:
    template: str
    overdue: SafeString
    due_soon: SafeString
    on: str
    off: str


@lru_cache(maxsize=8)
def _facts_words(language: str | None) -> _FactsWords:
    """The words every card's facts share, looked up once per language, not once per card."""

    # The labels become part of a format template: escaped, and braces doubled.
    bill, due, per_month, autopay = (
        html.escape(text).replace("{", "{{").replace("}", "}}")
        for text in (
            gettext("Bill"),
            pgettext("due date", "Due"),
            gettext("Per month"),
            gettext("Autopay"),
        )
    )
    return _FactsWords(
        template=(
            f'<dl class="account-card__facts"><div><dt>{bill}</dt><dd>{{}}{{}}</dd></div>'
            f"<div><dt>{due}</dt><dd>{{}}{{}}</dd></div>"
            f"<div><dt>{per_month}</dt><dd>{{}}</dd></div>"
            f"<div><dt>{autopay}</dt><dd>{{}}</dd></div></dl>"
        ),
        overdue=_html(' <span class="badge badge--bad">{}</span>', pgettext("bill", "Overdue")),
        due_soon=_html(' <span class="badge badge--warn">{}</span>', gettext("Due soon")),
        on=pgettext("autopay", "On"),
        off=pgettext("autopay", "Off"),
    )


def _cycle_words(cycle: str) -> str:
    known = _WORDS.get(("cycle", cycle.strip().lower().replace("-", "").replace(" ", "")))
    return str(known) if known is not None else humanise(cycle).lower()


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
            words_for("plan status", plan.status),
        )
        if plan.status
        else ""
    )
    trial = (
        _html(' <span class="badge">{}</span>', gettext("Free trial")) if plan.free_trial else ""
    )
    description = (
        _html('<p class="plan__desc muted">{}</p>', plan.description)
        if plan.description and plan.description != plan.title
        else ""
    )
    return _html(
        '<div class="plan"><p class="plan__title"><strong>{}</strong>{}{}</p>{}{}</div>',
        plan.title or gettext("Plan"),
        status,
        trial,
        description,
        _pending_change(plan, days),
    )


def _pending_change(plan: Plan, days: _Days) -> SafeString | str:
    change = plan.pending_change
    if change is None:
        return ""
    what = (
        words_for("plan status", change.status)
        if change.status
        else words_for("change", change.type)
    )
    detail = ""
    if change.title or change.amount is not None:
        shown = [change.title] if change.title else []
        if change.amount is not None:
            shown.append(money(change.amount))
        detail = f" ({', '.join(shown)})"
    since = (
        " " + gettext("from %(day)s") % {"day": days(change.start_date)}
        if change.start_date
        else ""
    )
    until = (
        " " + gettext("until %(day)s") % {"day": days(change.end_date)} if change.end_date else ""
    )
    return _html(
        '<p class="plan__pending">{} {}{}{}{}</p>',
        gettext("Pending change:"),
        what,
        detail,
        since,
        until,
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
