"""Reads behind the dashboard: the user's snapshot and the view-model built from it.

Nothing here calls Atomic: the dashboard is drawn from the last snapshot the sync stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import pgettext, pgettext_lazy

from paylink.models import AccountSnapshot, SnapshotAccount
from paylink.payloads import (
    Account,
    AccountBrief,
    Action,
    HistoryEntry,
    PaymentMethod,
    Suggestion,
    account_brief_from_record,
    account_parse,
    accounts_brief_parse,
    accounts_parse_at,
)

ZERO = Decimal("0")
_CENT = Decimal("0.01")
HISTORY_MONTHS = 6
DUE_SOON_DAYS = 7
DUE_WINDOW_DAYS = 30
# A first screenful of each list; the rest loads a page at a time on request.
BILLS_PER_PAGE = 6
SUGGESTIONS_PER_PAGE = 3
CARDS_PER_PAGE = 6
# The spending trend covers at most this many months, the latest ones with payments.
SPENDING_MONTHS = 12

# How many payments of each billing cycle fall in a month. Unknown cycles count as monthly.
_CYCLE_PER_MONTH: dict[str, Decimal] = {
    "daily": Decimal(365) / Decimal(12),
    "weekly": Decimal(52) / Decimal(12),
    "biweekly": Decimal(26) / Decimal(12),
    "semimonthly": Decimal(2),
    "monthly": Decimal(1),
    "bimonthly": Decimal(1) / Decimal(2),
    "quarterly": Decimal(1) / Decimal(3),
    "semiannual": Decimal(1) / Decimal(6),
    "semiannually": Decimal(1) / Decimal(6),
    "annual": Decimal(1) / Decimal(12),
    "annually": Decimal(1) / Decimal(12),
    "yearly": Decimal(1) / Decimal(12),
}

# Lazy: read in the language of the request that shows them, not of the import.
CATEGORY_LABELS: dict[str, Promise] = {
    "change-plan": pgettext_lazy("suggestion category", "Change plan"),
    "cancel-plan": pgettext_lazy("suggestion category", "Cancel plan"),
    "downgrade-plan": pgettext_lazy("suggestion category", "Downgrade plan"),
    "remove-service": pgettext_lazy("suggestion category", "Remove a service"),
    "common-cancellation": pgettext_lazy("suggestion category", "Commonly cancelled"),
    "redundant-services": pgettext_lazy("suggestion category", "Redundant services"),
    "costly-feature": pgettext_lazy("suggestion category", "Costly feature"),
    "alternative-service": pgettext_lazy("suggestion category", "Alternative service"),
    "underutilization": pgettext_lazy("suggestion category", "Underused"),
    "high-interest-rate": pgettext_lazy("suggestion category", "High interest rate"),
}

# Which action type carries out a suggestion of each category, when the account offers it.
_CATEGORY_ACTION: dict[str, str] = {
    "change-plan": "change-plan",
    "downgrade-plan": "change-plan",
    "remove-service": "change-plan",
    "costly-feature": "change-plan",
    "underutilization": "change-plan",
    "cancel-plan": "cancel-plan",
    "common-cancellation": "cancel-plan",
    "redundant-services": "cancel-plan",
}

_SAFE_DOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DueState(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    LATER = "later"
    UNKNOWN = "unknown"


class BillSort(StrEnum):
    DATE = "date"
    AMOUNT = "amount"


# An account type as Atomic writes it; anything else in the address bar is ignored, which
# also keeps the render cache from filling with made-up keys.
_ACCOUNT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Filters:
    """Which accounts the lists show (by type and by the state of their bill) and how the
    bills are ordered; read from the query string, so every choice is a link."""

    type: str = ""
    status: str = ""
    sort: BillSort = BillSort.DATE

    @property
    def active(self) -> bool:
        return bool(self.type or self.status)

    @property
    def query(self) -> str:
        """The choices as query parameters to append to a list's page links ("&type=...")."""
        pairs = {"type": self.type, "status": self.status}
        if self.sort != BillSort.DATE:
            pairs["sort"] = self.sort.value
        encoded = urlencode({k: v for k, v in pairs.items() if v})
        return f"&{encoded}" if encoded else ""

    @property
    def key(self) -> str:
        return f"{self.type}|{self.status}|{self.sort.value}"


def filters_from_query(*, type: str, status: str, sort: str) -> Filters:
    """Filters from untrusted query values: unknown values mean "no filter", not an error."""
    type = type.strip().lower()
    return Filters(
        type=type if _ACCOUNT_TYPE.match(type) else "",
        status=status if status in DueState._value2member_map_ else "",
        sort=BillSort(sort) if sort in BillSort._value2member_map_ else BillSort.DATE,
    )


@dataclass(frozen=True)
class BillRow:
    account: Account
    dom_id: str
    amount: Decimal | None
    due_date: datetime | None
    due_state: DueState
    autopay: bool | None
    payment_method: PaymentMethod | None


@dataclass(frozen=True)
class SuggestionRow:
    account: Account
    dom_id: str
    suggestion: Suggestion
    category_label: str
    action: Action | None


@dataclass(frozen=True)
class AccountCard:
    account: Account
    dom_id: str
    monthly_equivalent: Decimal | None
    history: tuple[HistoryEntry, ...]
    due_state: DueState


@dataclass(frozen=True)
class Summary:
    connected: int
    due_soon_total: Decimal
    due_soon_count: int
    overdue_total: Decimal
    overdue_count: int
    monthly_spend: Decimal
    monthly_savings: Decimal

    @property
    def yearly_savings(self) -> Decimal:
        return self.monthly_savings * 12


@dataclass(frozen=True)
class Page[T]:
    """One page of a list: its items, and where it stands in the whole (`total` items)."""

    items: tuple[T, ...]
    number: int
    size: int
    total: int

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def remaining(self) -> int:
        """How many items come after this page."""
        return max(self.total - self.number * self.size, 0)

    @property
    def next_size(self) -> int:
        return min(self.size, self.remaining)


@dataclass(frozen=True)
class Pages:
    """Which page of each list to show, counted from 1."""

    bills: int = 1
    suggestions: int = 1
    cards: int = 1


@dataclass(frozen=True)
class SpendingMonth:
    month: date  # its first day
    by_type: tuple[Decimal, ...]  # in the order of Spending.types
    total: Decimal


@dataclass(frozen=True)
class Spending:
    """What was paid each month, per account type, from the accounts' payment history."""

    types: tuple[str, ...]
    months: tuple[SpendingMonth, ...]

    @property
    def type_totals(self) -> tuple[Decimal, ...]:
        return tuple(sum((m.by_type[i] for m in self.months), ZERO) for i in range(len(self.types)))

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.months), ZERO)


@dataclass(frozen=True)
class Dashboard:
    summary: Summary
    bills: Page[BillRow]
    cards: Page[AccountCard]
    suggestions: Page[SuggestionRow]
    filters: Filters = Filters()
    # Every account type among the accounts, for the filter's choices.
    types: tuple[str, ...] = ()
    spending: Spending | None = None


@dataclass(frozen=True)
class Freshness:
    version: int
    fetched_at: datetime | None
    error: str
    error_at: datetime | None

    @property
    def failing(self) -> bool:
        """The last sync failed after the last success: old data stays, with a banner."""
        if self.error_at is None:
            return False
        return self.fetched_at is None or self.error_at > self.fetched_at


def snapshot_for_user(*, user: AbstractBaseUser) -> AccountSnapshot | None:
    """The user's snapshot without its payload, in one query, or None before the first sync.

    The payload (megabytes at a thousand accounts) is only needed when nothing rendered from
    this version is cached: `dashboard_for_snapshot` reads what it needs of it then.
    """
    # One snapshot per profile, so no ORDER BY (which first() adds, for a quarter of the cost).
    found = AccountSnapshot.objects.filter(profile__user=user).only(
        "profile_id", "version", "payload_sha256", "fetched_at", "last_error", "last_error_at"
    )[:1]
    return next(iter(found), None)


def snapshot_payload(*, snapshot: AccountSnapshot) -> tuple[int, object]:
    """The stored payload and the version it is, read together so they always match."""
    row = AccountSnapshot.objects.filter(pk=snapshot.pk).values_list("version", "payload").first()
    return row if row is not None else (snapshot.version, {})


def freshness_for_snapshot(*, snapshot: AccountSnapshot | None) -> Freshness:
    if snapshot is None:
        return Freshness(version=0, fetched_at=None, error="", error_at=None)
    return Freshness(
        version=snapshot.version,
        fetched_at=snapshot.fetched_at,
        error=snapshot.last_error,
        error_at=snapshot.last_error_at,
    )


def account_dom_id(*, account: Account, index: int) -> str:
    """An id safe for HTML and CSS selectors, stable across snapshots for the same account."""
    if _SAFE_DOM_ID.match(account.id):
        return f"account-{account.id}"
    if account.id:
        return f"account-h{hashlib.sha256(account.id.encode()).hexdigest()[:16]}"
    return f"account-n{index}"


def due_state_for(*, due_date: datetime | None, today: date) -> DueState:
    if due_date is None:
        return DueState.UNKNOWN
    due_day = timezone.localtime(due_date).date()
    if due_day < today:
        return DueState.OVERDUE
    if due_day <= today + timedelta(days=DUE_SOON_DAYS):
        return DueState.SOON
    return DueState.LATER


def monthly_equivalent_for(*, account: Account) -> Decimal | None:
    """The bill as a monthly cost: by the autopay cycle, else a plan's cycle, else as billed."""
    billing = account.billing
    if billing is None:
        return None
    cycle = billing.autopay.cycle if billing.autopay else ""
    if not cycle:
        cycle = next((p.cycle for p in account.plans if p.cycle), "")
    return _per_month(amount=billing.amount, cycle=cycle)


def _per_month(*, amount: Decimal | None, cycle: str) -> Decimal | None:
    if amount is None:
        return None
    factor = _cycle_factor(cycle)
    return (amount if factor is None else amount * factor).quantize(_CENT)


@lru_cache(maxsize=256)
def _cycle_factor(cycle: str) -> Decimal | None:
    """Payments per month for a billing cycle; None for monthly or unknown (counted as billed)."""
    factor = _CYCLE_PER_MONTH.get(cycle.lower().replace("-", "").replace(" ", ""))
    return None if factor is None or factor == 1 else factor


def category_label_for(*, category: str) -> str:
    label = CATEGORY_LABELS.get(category)
    if label is not None:
        return str(label)
    return category or pgettext("suggestion category", "Suggestion")


def suggestion_action_for(*, account: Account, category: str) -> Action | None:
    wanted = _CATEGORY_ACTION.get(category, category)
    return next((a for a in account.actions if a.type == wanted), None)


def _recent_history(*, account: Account) -> tuple[HistoryEntry, ...]:
    if account.billing is None:
        return ()
    dated = [h for h in account.billing.history if h.date is not None and h.amount is not None]
    dated.sort(key=lambda h: h.date)  # type: ignore[arg-type,return-value]
    return tuple(dated[-HISTORY_MONTHS:])


def _has_bill(brief: AccountBrief) -> bool:
    return brief.billing and (brief.amount is not None or brief.due_date is not None)


def spending_for_briefs(*, briefs: tuple[AccountBrief, ...]) -> Spending:
    """Payments per month and account type, over the latest SPENDING_MONTHS months that have
    any (months in between with none count as zero). The briefs are read `with_history`."""
    zone = timezone.get_current_timezone()
    # Months as a running count (year * 12 + month - 1): cheaper to key and step than dates.
    paid: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for brief in briefs:
        kind = brief.type.lower()
        for entry in brief.history:
            local = entry.date.astimezone(zone)  # type: ignore[union-attr]
            paid[(local.year * 12 + local.month - 1, kind)] += entry.amount  # type: ignore[operator]
    if not paid:
        return Spending(types=(), months=())
    last = max(index for index, _ in paid)
    first = max(min(index for index, _ in paid), last - SPENDING_MONTHS + 1)
    types = tuple(sorted({kind for index, kind in paid if index >= first}))
    months = []
    for index in range(first, last + 1):
        by_type = tuple(paid.get((index, kind), ZERO) for kind in types)
        months.append(
            SpendingMonth(
                month=date(index // 12, index % 12 + 1, 1),
                by_type=by_type,
                total=sum(by_type, ZERO),
            )
        )
    return Spending(types=types, months=tuple(months))


def _due_state_of(brief: AccountBrief, *, today: date, zone: tzinfo) -> DueState:
    if not _has_bill(brief) or brief.due_date is None:
        return DueState.UNKNOWN
    due_day = brief.due_date.astimezone(zone).date()
    if due_day < today:
        return DueState.OVERDUE
    if due_day <= today + timedelta(days=DUE_SOON_DAYS):
        return DueState.SOON
    return DueState.LATER


def _matching(*, briefs: tuple[AccountBrief, ...], filters: Filters, today: date) -> list[int]:
    """The positions of the accounts the filters keep, in payload order."""
    if not filters.active:
        return list(range(len(briefs)))
    zone = timezone.get_current_timezone()
    return [
        position
        for position, brief in enumerate(briefs)
        if (not filters.type or brief.type.lower() == filters.type)
        and (not filters.status or _due_state_of(brief, today=today, zone=zone) == filters.status)
    ]


def _bill_order(*, briefs: tuple[AccountBrief, ...], kept: list[int], sort: BillSort) -> list[int]:
    order = [p for p in kept if _has_bill(briefs[p])]
    if sort == BillSort.AMOUNT:
        # The largest first; bills without an amount last, then by date as usual.
        order.sort(
            key=lambda p: (
                briefs[p].amount is None,
                -(briefs[p].amount or ZERO),
                briefs[p].due_date is None,
                briefs[p].due_date,
                briefs[p].company_name.lower(),
            )
        )
    else:
        # Bills without a date go last; ties break on the company name for a stable order.
        order.sort(
            key=lambda p: (
                briefs[p].due_date is None,
                briefs[p].due_date,
                briefs[p].company_name.lower(),
            )
        )
    return order


def _page_bounds(*, number: int, size: int, total: int) -> tuple[int, int, int]:
    """The page number (past the end means the last page), its first and its end index."""
    last = max((total + size - 1) // size, 1)
    number = min(max(number, 1), last)
    return number, (number - 1) * size, min(number * size, total)


def _summary(*, briefs: tuple[AccountBrief, ...], today: date) -> Summary:
    due_soon_total = overdue_total = monthly_spend = monthly_savings = ZERO
    due_soon_count = overdue_count = 0
    # The same rules as due_state_for, with the time zone looked up once for every account.
    zone = timezone.get_current_timezone()
    soon_end = today + timedelta(days=DUE_SOON_DAYS)
    window_end = today + timedelta(days=DUE_WINDOW_DAYS)
    for brief in briefs:
        for saving in brief.suggestion_savings:
            if saving is not None:
                monthly_savings += saving
        if not brief.billing:
            continue
        monthly = _per_month(amount=brief.amount, cycle=brief.cycle)
        if monthly is not None:
            monthly_spend += monthly
        if not _has_bill(brief) or brief.due_date is None:
            continue
        amount = brief.amount or ZERO
        due_day = brief.due_date.astimezone(zone).date()
        if due_day < today:
            overdue_total += amount
            overdue_count += 1
        elif due_day <= max(soon_end, window_end):
            due_soon_total += amount
            due_soon_count += 1
    return Summary(
        connected=len(briefs),
        due_soon_total=due_soon_total,
        due_soon_count=due_soon_count,
        overdue_total=overdue_total,
        overdue_count=overdue_count,
        monthly_spend=monthly_spend,
        monthly_savings=monthly_savings,
    )


def _bill_row(*, account: Account, dom_id: str, today: date) -> BillRow:
    billing = account.billing
    assert billing is not None  # only accounts with a bill are listed
    return BillRow(
        account=account,
        dom_id=dom_id,
        amount=billing.amount,
        due_date=billing.due_date,
        due_state=due_state_for(due_date=billing.due_date, today=today),
        autopay=billing.autopay.enabled if billing.autopay else None,
        payment_method=billing.primary_payment_method,
    )


def _card(*, account: Account, dom_id: str, today: date) -> AccountCard:
    due_date = account.billing.due_date if account.billing else None
    return AccountCard(
        account=account,
        dom_id=dom_id,
        monthly_equivalent=monthly_equivalent_for(account=account),
        history=_recent_history(account=account),
        due_state=due_state_for(due_date=due_date, today=today),
    )


def _suggestion_row(*, account: Account, dom_id: str, index: int) -> SuggestionRow:
    suggestion = account.suggestions[index]
    return SuggestionRow(
        account=account,
        dom_id=dom_id,
        suggestion=suggestion,
        category_label=category_label_for(category=suggestion.category),
        action=suggestion_action_for(account=account, category=suggestion.category),
    )


def dashboard_for_payload(
    *,
    payload: object,
    today: date,
    pages: Pages | None = None,
    filters: Filters | None = None,
    with_spending: bool = False,
) -> Dashboard:
    """The view-model of the dashboard, from a raw accounts payload and today's date.

    Totals and orderings take every account, read briefly; only the accounts on the requested
    `pages` are parsed in full, so the cost of a page grows little with the number of accounts.
    Without `pages`, every list comes whole, on one page. `filters` narrow the bills, ways to
    save and cards (the summary and the spending stay whole); the spending by month is only
    worked out `with_spending`.
    """
    return _dashboard(
        briefs=accounts_brief_parse(payload, with_history=with_spending),
        accounts_at=lambda positions: accounts_parse_at(payload, positions),
        today=today,
        pages=pages,
        filters=filters,
        with_spending=with_spending,
    )


def dashboard_for_snapshot(
    *,
    snapshot: AccountSnapshot,
    today: date,
    pages: Pages,
    filters: Filters,
    with_spending: bool = False,
) -> tuple[int, Dashboard]:
    """The view-model as `dashboard_for_payload` makes it, from what is stored for `snapshot`
    (as `snapshot_for_user` reads it), and the version of the accounts it shows.

    A snapshot stored by `accounts_store` has its accounts in rows: every account's brief is
    read, and only the accounts shown in full, so the payload is never decoded whole. One
    stored otherwise (or before the rows existed) is read from its payload.
    """
    choice = {"today": today, "pages": pages, "filters": filters, "with_spending": with_spending}
    if snapshot.payload_sha256:
        dashboard = _dashboard_from_rows(snapshot=snapshot, **choice)
        if dashboard is not None:
            return snapshot.version, dashboard
    version, payload = snapshot_payload(snapshot=snapshot)
    return version, dashboard_for_payload(payload=payload, **choice)


class _AccountsReplaced(Exception):
    """A sync replaced the stored accounts while a render was reading them."""


def _dashboard_from_rows(
    *, snapshot: AccountSnapshot, today: date, pages: Pages, filters: Filters, with_spending: bool
) -> Dashboard | None:
    """None when no rows hold the snapshot's payload, or a sync replaced them meanwhile (the
    payload then says what it stored, and under which version)."""
    rows = SnapshotAccount.objects.filter(
        snapshot_id=snapshot.pk, payload_sha256=snapshot.payload_sha256
    )
    # The briefs as text, decoded in one go: one JSON array, not a decode per row.
    texts = rows.order_by("position").values_list(Cast("brief", TextField()), flat=True)
    records = json.loads(f"[{','.join(texts)}]")
    if not records:
        return None

    def accounts_at(positions: set[int]) -> dict[int, Account]:
        found = rows.filter(position__in=positions).values_list("position", "payload")
        accounts = {position: account_parse(raw) for position, raw in found}
        if len(accounts) != len(positions):
            raise _AccountsReplaced
        return accounts

    briefs = tuple(account_brief_from_record(r, with_history=with_spending) for r in records)
    try:
        return _dashboard(
            briefs=briefs,
            accounts_at=accounts_at,
            today=today,
            pages=pages,
            filters=filters,
            with_spending=with_spending,
        )
    except _AccountsReplaced:
        return None


def _dashboard(
    *,
    briefs: tuple[AccountBrief, ...],
    accounts_at: Callable[[set[int]], dict[int, Account]],
    today: date,
    pages: Pages | None,
    filters: Filters | None,
    with_spending: bool,
) -> Dashboard:
    filters = filters or Filters()
    kept = _matching(briefs=briefs, filters=filters, today=today)
    bill_order = _bill_order(briefs=briefs, kept=kept, sort=filters.sort)
    savings = [
        (saving or ZERO, position, index)
        for position in kept
        for index, saving in enumerate(briefs[position].suggestion_savings)
    ]
    savings.sort(key=lambda entry: entry[0], reverse=True)

    def bounds(number: int, per_page: int, total: int) -> tuple[int, int, int, int]:
        size = per_page if pages is not None else max(total, 1)
        return (*_page_bounds(number=number, size=size, total=total), size)

    wanted = pages or Pages()
    bills_at = bounds(wanted.bills, BILLS_PER_PAGE, len(bill_order))
    suggestions_at = bounds(wanted.suggestions, SUGGESTIONS_PER_PAGE, len(savings))
    cards_at = bounds(wanted.cards, CARDS_PER_PAGE, len(kept))
    bill_positions = bill_order[bills_at[1] : bills_at[2]]
    shown_savings = savings[suggestions_at[1] : suggestions_at[2]]
    card_positions = kept[cards_at[1] : cards_at[2]]
    shown = {*bill_positions, *(p for _, p, _ in shown_savings), *card_positions}
    accounts = accounts_at(shown) if shown else {}
    dom_ids = {p: account_dom_id(account=a, index=p) for p, a in accounts.items()}

    def page[T](items: list[T], at: tuple[int, int, int, int], total: int) -> Page[T]:
        return Page(items=tuple(items), number=at[0], size=at[3], total=total)

    return Dashboard(
        summary=_summary(briefs=briefs, today=today),
        bills=page(
            [
                _bill_row(account=accounts[p], dom_id=dom_ids[p], today=today)
                for p in bill_positions
            ],
            bills_at,
            len(bill_order),
        ),
        cards=page(
            [_card(account=accounts[p], dom_id=dom_ids[p], today=today) for p in card_positions],
            cards_at,
            len(kept),
        ),
        suggestions=page(
            [
                _suggestion_row(account=accounts[p], dom_id=dom_ids[p], index=i)
                for _, p, i in shown_savings
            ],
            suggestions_at,
            len(savings),
        ),
        filters=filters,
        types=tuple(sorted({b.type.lower() for b in briefs if b.type})),
        spending=spending_for_briefs(briefs=briefs) if with_spending else None,
    )
