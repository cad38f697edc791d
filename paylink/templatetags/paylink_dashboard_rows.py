"""The dashboard's bill rows, ways to save and monthly spending table, drawn in Python.

Like the account card (`paylink_dashboard.account_card`), these repeat for every item on a
page and each holds a dozen values; through the template engine they cost most of a cold
render. The markup and the words are the ones the template had, character for character.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext, pgettext

from paylink.selectors.dashboard import BillRow, Filters, Page, Spending, SuggestionRow
from paylink.templatetags.paylink_dashboard import (
    _escaped,
    _html,
    account_type,
    day,
    money,
    month,
)

register = template.Library()


@dataclass(frozen=True)
class _RowWords:
    """The words every row of a page shares, escaped once per language, not once per row."""

    overdue: str
    due_soon: str
    autopay_on: str
    autopay_off: str
    autopay_unknown: str
    card: str
    per_month: str
    per_month_short: str
    take_action: str
    # Each bill cell's column heading (data-label), shown beside it where the rows stack.
    amount: str
    due: str
    autopay: str
    paid_with: str


@lru_cache(maxsize=8)
def _row_words(language: str | None) -> _RowWords:
    return _RowWords(
        overdue=_html('<span class="badge badge--bad">{}</span>', pgettext("bill", "Overdue")),
        due_soon=_html('<span class="badge badge--warn">{}</span>', gettext("Due within 7 days")),
        autopay_on=_html('<span class="badge badge--ok">{}</span>', pgettext("autopay", "On")),
        autopay_off=_html('<span class="badge">{}</span>', pgettext("autopay", "Off")),
        autopay_unknown=_html('<span class="muted">{}</span>', pgettext("autopay", "Unknown")),
        card=gettext("Card"),
        per_month=_escaped(gettext("per month")),
        per_month_short=_escaped(pgettext("per month", "/mo")),
        take_action=gettext("Take action"),
        amount=_escaped(gettext("Amount")),
        due=_escaped(pgettext("due date", "Due")),
        autopay=_escaped(gettext("Autopay")),
        paid_with=_escaped(gettext("Paid with")),
    )


@register.simple_tag
def bill_row(bill: BillRow) -> SafeString:
    """One row of the upcoming bills table."""
    words = _row_words(get_language())
    match bill.due_state:
        case "overdue":
            badge = words.overdue
        case "soon":
            badge = words.due_soon
        case _:
            badge = ""
    if bill.autopay is True:
        autopay = words.autopay_on
    elif bill.autopay is False:
        autopay = words.autopay_off
    else:
        autopay = words.autopay_unknown
    method = bill.payment_method
    if method:
        paid_with = _escaped(method.brand or method.type or words.card)
        if method.last_four:
            paid_with += _html(' <span class="nowrap">•••• {}</span>', method.last_four)
    else:
        paid_with = '<span class="muted">—</span>'
    return _html(
        '<tr class="bill bill--{}">\n'
        '      <th scope="row"><a href="#{}">{}</a></th>\n'
        '      <td class="num" data-label="{}">{}</td>\n'
        '      <td data-label="{}">{}\n'
        "        {}</td>\n"
        '      <td data-label="{}">{}</td>\n'
        '      <td data-label="{}">{}</td>\n'
        "    </tr>",
        bill.due_state,
        bill.dom_id,
        bill.account.company.name,
        SafeString(words.amount),
        money(bill.amount),
        SafeString(words.due),
        day(bill.due_date),
        SafeString(badge),
        SafeString(words.autopay),
        SafeString(autopay),
        SafeString(words.paid_with),
        SafeString(paid_with),
    )


@register.simple_tag
def suggestion_item(row: SuggestionRow) -> SafeString:
    """One way to save: what it is, what it saves, and the action that carries it out."""
    words = _row_words(get_language())
    suggestion, company = row.suggestion, row.account.company.name
    detail = (
        _html('<p class="suggestion__detail">{}</p>', suggestion.detailed_description)
        if suggestion.detailed_description
        else ""
    )
    if row.action:
        side = _html(
            "\n        "
            '<button type="button" class="button button--small" data-transact-launch'
            ' data-action-id="{}" data-action-type="{}" data-account-id="{}"'
            ' data-task-target="#{}-task">{}<span class="visually-hidden"> {}</span></button>'
            "\n        ",
            row.action.id,
            row.action.type,
            row.account.id,
            row.dom_id,
            suggestion.button_title or words.take_action,
            # A translation is markup as written; only the value put into it is escaped.
            SafeString(gettext("for %(company)s") % {"company": _escaped(company)}),
        )
    elif suggestion.button_title:
        side = _html(
            '\n        <p class="suggestion__cta muted">{}</p>\n        ',
            SafeString(
                gettext("Suggested: %(title)s") % {"title": _escaped(suggestion.button_title)}
            ),
        )
    else:
        side = ""
    return _html(
        '<li class="suggestion">\n'
        '      <div class="suggestion__main">\n'
        '        <p class="suggestion__meta"><span class="suggestion__company">{}</span> · '
        '<span class="badge">{}</span></p>\n'
        '        <h3 class="suggestion__title">{}</h3>\n'
        "        {}\n"
        "      </div>\n"
        '      <div class="suggestion__side">\n'
        '        <p class="suggestion__saving">{}<abbr class="summary-tile__unit" title="{}">{}'
        "</abbr></p>\n"
        "        {}\n"
        "      </div>\n"
        "    </li>",
        company,
        row.category_label,
        suggestion.short_description or row.category_label,
        SafeString(detail),
        SafeString(
            gettext("Save %(amount)s") % {"amount": _escaped(money(suggestion.monthly_savings))}
        ),
        SafeString(words.per_month),
        SafeString(words.per_month_short),
        SafeString(side),
    )


@register.simple_tag
def spending_rows(spending: Spending) -> SafeString:
    """The spending table's head, one row per month and the totals row. Each cell carries its
    column heading (data-label), shown beside it where the rows stack on phones."""
    labels = [_escaped(account_type(kind)) for kind in spending.types]
    total = _escaped(gettext("Total"))
    types = "".join(
        _html('<th scope="col" class="num">{}</th>', SafeString(label)) for label in labels
    )
    months = "".join(
        _html(
            '<tr><th scope="row">{}</th>{}<td class="num" data-label="{}">{}</td></tr>\n    ',
            month(row.month),
            SafeString("".join(map(_amount_cell, labels, row.by_type))),
            SafeString(total),
            money(row.total),
        )
        for row in spending.months
    )
    totals = "".join(map(_amount_cell, labels, spending.type_totals))
    return _html(
        '<thead><tr><th scope="col">{}</th>{}<th scope="col" class="num">{}</th></tr></thead>\n'
        "    <tbody>\n"
        "    {}\n    </tbody>\n"
        '    <tfoot><tr><th scope="row">{}</th>{}<td class="num" data-label="{}">{}</td></tr>'
        "</tfoot>",
        gettext("Month"),
        SafeString(types),
        SafeString(total),
        SafeString(months),
        SafeString(total),
        SafeString(totals),
        SafeString(total),
        money(spending.total),
    )


def _amount_cell(label: str, amount: object) -> str:
    return _html(
        '<td class="num" data-label="{}">{}</td>',
        SafeString(label),
        money(amount),  # type: ignore[arg-type]
    )


# Each list's "show more" link: the element it sits in, and the heading a plain link returns to.
_MORE = {
    "bills": ('<tr class="more-row" id="{}"><td colspan="5">', "</td></tr>", "bills-title"),
    "suggestions": ('<li class="more-row" id="{}">', "</li>", "savings-title"),
    "cards": ('<p class="more-row account-grid__more" id="{}">', "</p>", "accounts-title"),
}


@register.simple_tag
def more_link(page: Page, name: str, filters: Filters) -> SafeString:
    """Under list `name` ("bills", "suggestions", "cards"), the link to its next page: a real
    link, which htmx turns into appending that page in its place. Empty on the last page."""
    if not page.has_next:
        return SafeString("")
    opening, closing, heading = _MORE[name]
    number, size, remaining = (
        localize(n) for n in (page.next_number, page.next_size, page.remaining)
    )
    match name:
        case "bills":
            label = ngettext("Show %(size)s more bill", "Show %(size)s more bills", page.next_size)
        case "suggestions":
            label = ngettext(
                "Show %(size)s more way to save", "Show %(size)s more ways to save", page.next_size
            )
        case _:
            label = ngettext(
                "Show %(size)s more account", "Show %(size)s more accounts", page.next_size
            )
    not_shown = ngettext("(%(remaining)s not shown)", "(%(remaining)s not shown)", page.remaining)
    target = f"{name}-more-{number}"
    url = reverse("paylink:dashboard")
    return _html(
        opening + '<a class="more-link" href="{}?{}={}{}#{}" hx-get="{}?partial={}&amp;{}={}{}"'
        ' hx-target="#{}" hx-swap="outerHTML">{}<span class="muted"> {}</span></a>' + closing,
        target,
        url,
        name,
        number,
        filters.query,
        heading,
        url,
        name,
        name,
        number,
        filters.query,
        target,
        # A translation is markup as written; only the number put into it is escaped.
        SafeString(label % {"size": _escaped(size)}),
        SafeString(not_shown % {"remaining": _escaped(remaining)}),
    )
