"""The formatting module's functions as template filters, and the geometry of the dashboard's
small charts. Markup stays in the templates; the words and numbers come from
`paylink.formatting`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import template
from django.core.paginator import Page
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from paylink import formatting
from paylink.formatting import day, money, month, words_for
from paylink.payloads import Autopay, HistoryEntry, Identity, PendingChange
from paylink.selectors.dashboard import Spending

register = template.Library()

__all__ = ["money"]

for _name in (
    "money",
    "day",
    "short_day",
    "month",
    "ago",
    "clock",
    "last_four",
    "mask_name",
    "mask_email",
    "mask_phone",
    "humanise",
    "account_type",
):
    register.filter(_name, getattr(formatting, _name))


@register.filter
def words(value: str | None, kind: str) -> str:
    """`{{ plan.status|words:"plan status" }}`: Atomic's value in the reader's words."""
    return words_for(kind, value)


@register.simple_tag
def action_label(action_type: str, bill_name: str = "") -> str:
    """An action's label, by its bill where the account names its bills."""
    return formatting.words_for_action(action_type=action_type, bill_name=bill_name)


@register.filter
def cycle_words(cycle: str | None) -> str:
    return formatting.cycle_words(cycle or "")


@register.filter
def autopay_words(autopay: Autopay | None) -> str:
    """`{{ billing.autopay|autopay_words }}`: On or Off where Atomic says so plainly, its own
    status in words where it says something else, a dash where it says nothing."""
    if autopay is None:
        return formatting.MISSING
    enabled = autopay.enabled
    if enabled is None:
        return words_for("autopay", autopay.status)
    return pgettext("autopay", "On") if enabled else pgettext("autopay", "Off")


@register.filter
def pending_change(change: PendingChange) -> str:
    """`{{ plan.pending_change|pending_change }}`: what the change does and when, in words."""
    return formatting.pending_change_words(
        type=change.type,
        status=change.status,
        title=change.title,
        amount=change.amount,
        start=change.start_date,
        end=change.end_date,
    )


@register.filter
def masked_holder(identity: Identity) -> str:
    """`{{ identity|masked_holder }}`: an account holder's name, email and phone, masked."""
    return formatting.masked_holder(
        first_name=identity.first_name,
        last_name=identity.last_name,
        email=identity.email,
        phone=identity.phone,
    )


_WIDTH = 240
_HEIGHT = 72
_BAR_GAP = 8
_LABEL_SPACE = 14
_MAX_BAR_WIDTH = 28


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    centre: str
    label: str


@dataclass(frozen=True)
class Chart:
    """A few bars (and for the spending, a line through their tops), a title and a description
    for screen readers; `_chart.html` draws it, its ids after `id`."""

    id: str
    title: str
    bars: tuple[Bar, ...]
    points: str
    desc: str
    # A card's payments as lines of text, for the list beside its chart.
    lines: tuple[str, ...] = ()
    # Drawn as they are: text, not numbers for the template to localise.
    width: str = str(_WIDTH)
    height: str = str(_HEIGHT)
    label_y: str = str(_HEIGHT - 2)


def _bars(amounts: list[Decimal], labels: list[str], headroom: int) -> tuple[Bar, ...]:
    top = max(amounts) or Decimal(1)
    slot = _WIDTH / len(amounts)
    bar_width = min(max(slot - _BAR_GAP, 4), _MAX_BAR_WIDTH)
    plot = _HEIGHT - _LABEL_SPACE
    bars = []
    for index, (amount, label) in enumerate(zip(amounts, labels, strict=True)):
        height = max(float(amount / top) * (plot - headroom), 1.0)
        x = index * slot + (slot - bar_width) / 2
        bars.append(
            Bar(
                x=f"{x:.1f}",
                y=f"{plot - height:.1f}",
                width=f"{bar_width:.1f}",
                height=f"{height:.1f}",
                centre=f"{x + bar_width / 2:.1f}",
                label=label,
            )
        )
    return tuple(bars)


@register.simple_tag
def history_chart(history: tuple[HistoryEntry, ...], company: str, dom_id: str) -> Chart | None:
    """A card's recent payments as bars, described in words; its ids after the card's."""
    if not history:
        return None
    amounts = [h.amount or Decimal(0) for h in history]
    labels = [formatting.month_abbr(timezone.localtime(h.date).date()) for h in history]
    first, last = history[0].date, history[-1].date
    if len(history) == 1:
        desc = gettext("One payment, on %(day)s, of %(amount)s.") % {
            "day": day(first),
            "amount": money(amounts[0]),
        }
    else:
        desc = gettext(
            "%(count)s payments from %(first)s to %(last)s, between %(low)s and %(high)s."
        ) % {
            "count": len(history),
            "first": day(first),
            "last": day(last),
            "low": money(min(amounts)),
            "high": money(max(amounts)),
        }
    return Chart(
        id=f"{dom_id}-chart",
        title=gettext("%(company)s payments") % {"company": company},
        bars=_bars(amounts, labels, 2),
        points="",
        desc=desc,
        lines=tuple(f"{day(h.date)}: {money(h.amount)}" for h in history),
    )


@register.simple_tag
def spending_chart(spending: Spending) -> Chart | None:
    """The monthly totals as bars with a line through their tops, described by the first,
    last and highest month; the table beside it holds every figure."""
    months = spending.months
    if not months:
        return None
    totals = [m.total for m in months]
    labels = [formatting.month_abbr(m.month) for m in months]
    bars = _bars(totals, labels, 4)
    points = " ".join(f"{b.centre},{b.y}" for b in bars) if len(bars) > 1 else ""
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
    return Chart(
        id="spending-chart", title=gettext("Spending trend"), bars=bars, points=points, desc=desc
    )


@register.filter
def month_of(value: date) -> str:
    return month(value)


# Each list that loads a page at a time: the URL of its items alone, and the heading the
# dashboard's own link to its next page returns to.
_LISTS = {
    "bills": ("paylink:dashboard-bills", "bills-title"),
    "suggestions": ("paylink:dashboard-suggestions", "savings-title"),
    "cards": ("paylink:dashboard-cards", "accounts-title"),
}


@dataclass(frozen=True)
class More:
    """What a list's "show more" link says: how many the next page shows, how many remain;
    and where it leads: the dashboard at that page (`href`), or that page's items alone for
    htmx to append (`items_url`)."""

    target: str
    number: int
    size: int
    remaining: int
    href: str
    items_url: str


@register.simple_tag
def more_after(page: Page | None, name: str, query: str = "") -> More | None:
    """Under list `name`'s page, what its next page holds; None on the last page. `query` is
    the filters' part of the links (`Filters.query`). A list of another page than the
    dashboard (the month's bills) gets no links: its template writes its own."""
    if page is None or not page.has_next():
        return None
    number = page.next_page_number()
    remaining = page.paginator.count - page.end_index()
    href = items_url = ""
    if name in _LISTS:
        items, heading = _LISTS[name]
        where = f"?{name}={number}{query}"
        href = f"{reverse('paylink:dashboard')}{where}#{heading}"
        items_url = f"{reverse(items)}{where}"
    return More(
        target=f"{name}-more-{number}",
        number=number,
        size=min(page.paginator.per_page, remaining),
        remaining=remaining,
        href=href,
        items_url=items_url,
    )
