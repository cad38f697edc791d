"""Reads behind the dashboard, from the read model (`LinkedAccount`, `Bill`, `Suggestion`,
`Payment`): the ORM filters, sorts, pages and totals. Nothing here calls Atomic, and the
stored payload is never read: a card's plans, items and identities are on its row (`card`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.expressions import Combinable, OrderBy
from django.utils import timezone
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import get_language, pgettext, pgettext_lazy

from paylink.bill_rules import BillState, DayBounds, bill_state, bill_state_case
from paylink.formatting import short_day
from paylink.models import AccountSnapshot, Bill, LinkedAccount, Payment, Suggestion
from paylink.payloads import Account, HistoryEntry, account_parse
from paylink.selectors.snapshot_totals import (
    ZERO,
    SnapshotTotals,
    accounts_by_kind,
    cents,
    payments_by_month,
    snapshot_totals_decode,
    suggestions_count,
)

HISTORY_MONTHS = 6
DUE_WINDOW_DAYS = 30
# A first screenful of each list; the rest loads a page at a time on request.
BILLS_PER_PAGE = 6
SUGGESTIONS_PER_PAGE = 3
CARDS_PER_PAGE = 6
# The spending trend covers at most this many months, the latest ones with payments.
SPENDING_MONTHS = 12

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


class BillSort(StrEnum):
    DATE = "date"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Filters:
    """Which accounts every part of the page covers (by type and by the state of their
    bills) and how the bills are ordered; read from the query string, so every choice is a
    link. Only values from a closed set get here (`filters_from_query`)."""

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


def filters_from_query(*, type: str, status: str, sort: str, types: tuple[str, ...]) -> Filters:
    """Filters from untrusted query values: a type the person has no account of, or a state
    or order that does not exist, means "no filter", before anything is drawn or cached."""
    type = type.strip().lower()
    return Filters(
        type=type if type in types else "",
        status=status if status in BillState._value2member_map_ else "",
        sort=BillSort(sort) if sort in BillSort._value2member_map_ else BillSort.DATE,
    )


def page_number(value: str) -> int:
    """A page number from the address bar: ASCII digits only ("²" and "③" are not numbers)."""
    if value.isascii() and value.isdigit() and len(value) < 8:
        return max(int(value), 1)
    return 1


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


def snapshot_for_user(*, user: User) -> AccountSnapshot | None:
    """The user's snapshot without its payload, in one query, or None before the first sync."""
    found = AccountSnapshot.objects.filter(profile__user=user).only(
        "profile_id",
        "version",
        "payload_sha256",
        "fetched_at",
        "last_error",
        "last_error_at",
        "totals",
    )[:1]
    return next(iter(found), None)


def freshness_for_snapshot(*, snapshot: AccountSnapshot | None) -> Freshness:
    if snapshot is None:
        return Freshness(version=0, fetched_at=None, error="", error_at=None)
    return Freshness(
        version=snapshot.version,
        fetched_at=snapshot.fetched_at,
        error=snapshot.last_error,
        error_at=snapshot.last_error_at,
    )


def account_types_for(*, snapshot: AccountSnapshot | None) -> tuple[str, ...]:
    """Every account type among the person's accounts: the type filter's closed set."""
    if snapshot is None:
        return ()
    kinds = LinkedAccount.objects.filter(snapshot_id=snapshot.pk).exclude(kind="")
    return tuple(kinds.order_by("kind").values_list("kind", flat=True).distinct())


def dom_id_for(*, atomic_id: str, position: int) -> str:
    """An id safe for HTML and CSS selectors, stable across snapshots for the same account."""
    if _SAFE_DOM_ID.match(atomic_id):
        return f"account-{atomic_id}"
    if atomic_id:
        return f"account-h{hashlib.sha256(atomic_id.encode()).hexdigest()[:16]}"
    return f"account-n{position}"


def category_label_for(*, category: str) -> str:
    label = CATEGORY_LABELS.get(category)
    if label is not None:
        return str(label)
    return category or pgettext("suggestion category", "Suggestion")


def bill_note(*, bill: Bill, state: str, bounds: DayBounds) -> str:
    """What a card and a row say of a paused or ending plan: "Paused until Dec 20",
    "Ends on Jan 3", "Pauses on Nov 20"; empty for a plan billing as usual."""
    kind, start, end = bill.inactive_kind, bill.inactive_start, bill.inactive_end
    if state == BillState.PAUSED:
        if end is not None:
            return pgettext("bill", "Paused until %(day)s") % {"day": short_day(end)}
        return pgettext("bill", "Paused")
    if state == BillState.CANCELLED:
        return pgettext("bill", "Cancelled")
    if kind == "cancelled" and start is not None and start >= bounds.tomorrow:
        return pgettext("bill", "Ends on %(day)s") % {"day": short_day(start)}
    if kind == "paused" and start is not None and start >= bounds.tomorrow:
        return pgettext("bill", "Pauses on %(day)s") % {"day": short_day(start)}
    return ""


@dataclass(frozen=True)
class BillView:
    """A bill row as the page shows it: its state on the person's today and its note."""

    bill: Bill
    state: str
    note: str
    dom_id: str


@dataclass(frozen=True)
class SuggestionView:
    suggestion: Suggestion
    company_name: str
    dom_id: str
    account_atomic_id: str
    category_label: str
    action: dict[str, Any] | None
    counted: bool


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    label: str
    centre: float


@dataclass(frozen=True)
class Card:
    row: LinkedAccount
    account: Account
    dom_id: str
    bills: tuple[BillView, ...]
    suggestions: tuple[SuggestionView, ...]
    history: tuple[HistoryEntry, ...]
    # Its bills' actions, each with its bill's name where the account names several bills
    # (`_actions_by_account`), then the actions on the account itself: the card's buttons.
    actions: tuple[dict[str, Any], ...] = ()

    @property
    def state(self) -> str:
        return self.bills[0].state if self.bills else BillState.UNKNOWN.value


@dataclass(frozen=True)
class Summary:
    connected: int
    due_soon_total: Decimal
    due_soon_count: int
    overdue_total: Decimal
    overdue_count: int
    monthly_spend: Decimal
    monthly_savings: Decimal
    # Every figure covers only the filtered accounts.
    filtered: bool = False
    # Every account the person has, whatever the filters.
    accounts_total: int = 0
    # The bills the filters keep, in every state: what the bills list pages through.
    bills_total: int = 0

    @property
    def yearly_savings(self) -> Decimal:
        return self.monthly_savings * 12


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
    def rows(self) -> tuple[tuple[SpendingMonth, tuple[tuple[str, Decimal], ...]], ...]:
        """Each month with its (account type, amount) cells, for a cell that names its column."""
        return tuple((m, tuple(zip(self.types, m.by_type, strict=True))) for m in self.months)

    @property
    def type_total_cells(self) -> tuple[tuple[str, Decimal], ...]:
        return tuple(zip(self.types, self.type_totals, strict=True))

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.months), ZERO)


@dataclass(frozen=True)
class Pages:
    """Which page of each list to show, counted from 1."""

    bills: int = 1
    suggestions: int = 1
    cards: int = 1


@dataclass(frozen=True)
class Dashboard:
    summary: Summary
    bills: Page | None = None
    cards: Page | None = None
    suggestions: Page | None = None
    filters: Filters = Filters()
    types: tuple[str, ...] = ()
    spending: Spending | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DashboardReader:
    """One person's read model on one day, narrowed by the filters: each part of the page is
    a method, so a fragment reads only what it shows."""

    def __init__(self, *, snapshot: AccountSnapshot, filters: Filters, today: date) -> None:
        self.snapshot = snapshot
        self.filters = filters
        self.bounds = DayBounds.of(today, timezone.get_current_timezone())
        self._account_bills: dict[int, list[Bill]] = {}

    @cached_property
    def _stored(self) -> SnapshotTotals | None:
        """The snapshot's totals of every row, kept with the rows: what an unfiltered page
        shows. A filtered page, or a snapshot whose totals are not known (or were not loaded),
        totals in SQL instead, by the same queries."""
        if self.filters.active or "totals" in self.snapshot.get_deferred_fields():
            return None
        return snapshot_totals_decode(self.snapshot.totals)

    @cached_property
    def _state(self) -> Case:
        # Built only by the parts that ask SQL for states: the tiles and a status filter.
        return bill_state_case(self.bounds)

    # The accounts, bills and suggestions the filters keep.

    def accounts(self) -> QuerySet[LinkedAccount]:
        accounts = LinkedAccount.objects.filter(snapshot_id=self.snapshot.pk)
        if self.filters.type:
            accounts = accounts.filter(kind=self.filters.type)
        if self.filters.status:
            in_state = (
                Bill.objects.filter(account=OuterRef("pk"))
                .annotate(state=self._state)
                .filter(state=self.filters.status)
            )
            matches: Q | Combinable = Exists(in_state)
            if self.filters.status == BillState.UNKNOWN:
                # An account with no bill on file has no due date either.
                matches |= ~Exists(Bill.objects.filter(account=OuterRef("pk")))
            accounts = accounts.filter(matches)
        return accounts

    def _of_kept(self, rows: Any) -> Any:
        """`rows` (suggestions, payments) of the accounts the filters keep."""
        rows = rows.filter(snapshot_id=self.snapshot.pk)
        if self.filters.active:
            rows = rows.filter(account__in=self.accounts().values("pk"))
        return rows

    def _bills(self, *, with_state: bool = True) -> QuerySet[Bill]:
        bills = Bill.objects.filter(snapshot_id=self.snapshot.pk)
        if with_state or self.filters.status:
            bills = bills.annotate(state=self._state)
        if self.filters.type:
            bills = bills.filter(kind=self.filters.type)
        if self.filters.status:
            bills = bills.filter(state=self.filters.status)  # type: ignore[misc]  # annotated above
        return bills

    def _state_of(self, bill: Bill) -> str:
        """The state the database worked out, or for the few rows shown, the same rule here."""
        found = getattr(bill, "state", None)
        if found is not None:
            return found
        return bill_state(
            due_at=bill.due_at,
            inactive_kind=bill.inactive_kind,
            inactive_start=bill.inactive_start,
            inactive_end=bill.inactive_end,
            bounds=self.bounds,
        ).value

    @cached_property
    def _kinds(self) -> dict[str, tuple[int, Decimal]]:
        """Every account of the person's, whatever the filters, counted and its savings summed
        per type, in one grouped pass: the tiles' account count and savings (when no status
        filter narrows them), how many accounts there are in all, and the type filter's choices.
        """
        if self._stored is not None:
            return self._stored.kinds
        return accounts_by_kind(LinkedAccount.objects.filter(snapshot_id=self.snapshot.pk))

    def types(self) -> tuple[str, ...]:
        """Every account type among the person's accounts: the type filter's closed set."""
        return tuple(sorted(kind for kind in self._kinds if kind))

    def summary(self) -> Summary:
        # The accounts first, then the bills: the bills page, read next, finds the same bill
        # rows still in the database's cache.
        kinds = self._kinds
        # One pass over the bills, grouped by state (and, for bills still to come, whether
        # they fall in the window): the state is worked out once per bill, not once per total.
        window_end = self.bounds.start + timedelta(days=DUE_WINDOW_DAYS + 1)
        groups = (
            self._bills()
            .annotate(in_window=Case(When(due_at__lt=window_end, then=True), default=False))
            .values("state", "in_window")
            .annotate(total=Sum("amount"), count=Count("pk"), spend=Sum("monthly_amount"))
            .order_by()
        )
        overdue_total = soon_total = spend = ZERO
        overdue_count = soon_count = bills_total = 0
        for group in groups:
            state = group["state"]
            bills_total += group["count"]
            if state not in (BillState.PAUSED, BillState.CANCELLED):
                spend += cents(group["spend"])
            if state == BillState.OVERDUE:
                overdue_total += cents(group["total"])
                overdue_count += group["count"]
            elif state in (BillState.SOON, BillState.LATER) and group["in_window"]:
                soon_total += cents(group["total"])
                soon_count += group["count"]
        total = sum(count for count, _ in kinds.values())
        if self.filters.status:
            kept = self.accounts().aggregate(count=Count("pk"), savings=Sum("monthly_savings"))
            connected, savings = kept["count"], cents(kept["savings"])
        elif self.filters.type:
            connected, savings = kinds.get(self.filters.type, (0, ZERO))
        else:
            connected, savings = total, sum((s for _, s in kinds.values()), ZERO)
        return Summary(
            connected=connected,
            due_soon_total=soon_total,
            due_soon_count=soon_count,
            overdue_total=overdue_total,
            overdue_count=overdue_count,
            monthly_spend=spend,
            monthly_savings=savings,
            filtered=self.filters.active,
            accounts_total=total,
            bills_total=bills_total,
        )

    def bills_page(self, number: int, *, count: int | None = None) -> Page:
        """A page of bills; `count`, when the summary has already counted the bills the
        filters keep, spares the paginator counting them again."""
        # The state of the six rows shown is worked out here, not in SQL for every bill.
        order: list[str | OrderBy]
        if self.filters.sort == BillSort.AMOUNT:
            order = [
                F("amount").desc(nulls_last=True),
                F("due_at").asc(nulls_last=True),
                "company_name",
                "pk",
            ]
        else:
            order = [F("due_at").asc(nulls_last=True), "company_name", "pk"]
        # Every bill the filters keep is sorted by its ids alone; only the page's rows are read
        # whole, in the same query (a sort of whole rows costs the more, the more columns).
        ids = self._bills(with_state=False).order_by(*order).values_list("pk", flat=True)
        paginator = Paginator(ids, BILLS_PER_PAGE)
        if count is not None:
            paginator.count = count  # a cached_property: set, it is not queried
        page: Page[Any] = paginator.get_page(number)
        rows = Bill.objects.filter(pk__in=page.object_list).annotate(
            account_atomic_id=F("account__atomic_id"), account_position=F("account__position")
        )
        page.object_list = [self._bill_view(b) for b in rows.order_by(*order)]
        return page

    def _bill_view(self, bill: Bill) -> BillView:
        state = self._state_of(bill)
        return BillView(
            bill=bill,
            state=state,
            note=bill_note(bill=bill, state=state, bounds=self.bounds),
            dom_id=dom_id_for(
                atomic_id=bill.account_atomic_id,  # type: ignore[attr-defined]  # annotated
                position=bill.account_position,  # type: ignore[attr-defined]  # by bills_page
            ),
        )

    def suggestions_page(self, number: int) -> Page:
        # Ties on savings are broken by the account's position as each row stores it: the
        # first page is the first entries of the snapshot's `suggestion_rank` index, read
        # in order, with no account joined and no sort of every suggestion of the person's.
        order: list[str | OrderBy] = [
            F("monthly_savings").desc(nulls_last=True),
            "account_position",
            "position",
        ]
        kept = self._of_kept(Suggestion.objects)
        ids = kept.order_by(*order).values_list("pk", flat=True)
        paginator = Paginator(ids, SUGGESTIONS_PER_PAGE)
        stored = self._stored
        # A cached_property: set, it is not queried again.
        paginator.count = stored.suggestions if stored is not None else suggestions_count(kept)
        page: Page[Any] = paginator.get_page(number)
        rows = list(
            Suggestion.objects.filter(pk__in=page.object_list)
            .annotate(
                company_name=F("account__company_name"),
                account_atomic_id=F("account__atomic_id"),
            )
            .order_by(*order)
        )
        bills = self._bills_of({s.account_id for s in rows})
        actions = _actions_by_account(
            (b.account_id, b.actions, b.name, b.named) for own in bills.values() for b in own
        )
        page.object_list = [
            self._suggestion_view(
                s,
                company_name=s.company_name,
                atomic_id=s.account_atomic_id,
                dom_id=dom_id_for(atomic_id=s.account_atomic_id, position=s.account_position),
                actions=actions.get(s.account_id, []),
            )
            for s in rows
        ]
        return page

    def _bills_of(self, account_ids: Collection[int]) -> dict[int, list[Bill]]:
        """Each of these accounts' bills in order, read once per reader: the ways to save find
        the bills of an account whose card is drawn already (`dashboard_for_snapshot` draws the
        cards first)."""
        unread = [pk for pk in account_ids if pk not in self._account_bills]
        if unread:
            for pk in unread:
                self._account_bills[pk] = []
            for bill in Bill.objects.filter(account_id__in=unread):
                self._account_bills[bill.account_id].append(bill)
            for pk in unread:
                self._account_bills[pk].sort(key=lambda b: b.position)
        return {pk: self._account_bills[pk] for pk in account_ids}

    def _suggestion_view(
        self,
        suggestion: Suggestion,
        *,
        company_name: str,
        atomic_id: str,
        dom_id: str,
        actions: list[dict[str, Any]],
    ) -> SuggestionView:
        """`actions`: its account's (`_actions_by_account`), of which the one of the type that
        carries out the suggestion's category becomes its button."""
        wanted = _CATEGORY_ACTION.get(suggestion.category, suggestion.category)
        return SuggestionView(
            suggestion=suggestion,
            company_name=company_name,
            dom_id=dom_id,
            account_atomic_id=atomic_id,
            category_label=category_label_for(category=suggestion.category),
            action=next((a for a in actions if a.get("type") == wanted), None),
            counted=bool(suggestion.monthly_savings and suggestion.monthly_savings > 0),
        )

    def cards_page(self, number: int, *, count: int | None = None) -> Page:
        """A page of cards; `count`, when the summary has already counted the accounts the
        filters keep, spares the paginator counting them again."""
        paginator = Paginator(self.accounts().order_by("position"), CARDS_PER_PAGE)
        if count is not None:
            paginator.count = count  # a cached_property: set, it is not queried
        page: Page[Any] = paginator.get_page(number)
        rows: list[LinkedAccount] = list(page.object_list)
        ids = [r.pk for r in rows]
        bills = self._bills_of(ids)
        suggestions: dict[int, list[Suggestion]] = {}
        order: list[str | OrderBy] = [F("monthly_savings").desc(nulls_last=True), "position"]
        for suggestion in Suggestion.objects.filter(account_id__in=ids).order_by(*order):
            suggestions.setdefault(suggestion.account_id, []).append(suggestion)
        cards = []
        for row in rows:
            account = account_parse(row.card)
            dom_id = dom_id_for(atomic_id=row.atomic_id, position=row.position)
            own = bills[row.pk]
            views = tuple(
                BillView(
                    bill=b,
                    state=(state := self._state_of(b)),
                    note=bill_note(bill=b, state=state, bounds=self.bounds),
                    dom_id=dom_id,
                )
                for b in own
            )
            in_bills = {(a.get("type"), a.get("id")) for b in own for a in b.actions}
            bill_actions = _actions_by_account(
                (row.pk, b.actions, b.name, b.named) for b in own
            ).get(row.pk, [])
            cards.append(
                Card(
                    row=row,
                    account=account,
                    dom_id=dom_id,
                    bills=views,
                    suggestions=tuple(
                        self._suggestion_view(
                            s,
                            company_name=row.company_name,
                            atomic_id=row.atomic_id,
                            dom_id=dom_id,
                            actions=bill_actions,
                        )
                        for s in suggestions.get(row.pk, [])
                    ),
                    history=_recent_history(account=account),
                    actions=(
                        *bill_actions,
                        *(
                            {"type": a.type, "id": a.id, "automated": a.automated, "bill_name": ""}
                            for a in account.actions
                            if (a.type, a.id) not in in_bills
                        ),
                    ),
                )
            )
        page.object_list = cards
        return page

    def spending(self) -> Spending:
        """Payments per month and account type, over the latest SPENDING_MONTHS months that
        have any (months in between with none count as zero), for the filtered accounts."""
        stored = self._stored
        by_month = (
            stored.paid if stored is not None else payments_by_month(self._of_kept(Payment.objects))
        )
        paid: dict[tuple[int, str], Decimal] = {}
        for (month, kind), total in by_month.items():
            index = month.year * 12 + month.month - 1
            paid[(index, kind)] = paid.get((index, kind), ZERO) + total
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


def _actions_by_account(rows: Any) -> dict[int, list[dict[str, Any]]]:
    """Each account's actions from its bills' rows (account id, actions, name, named); where an
    account names several bills, each action carries its bill's name for its label."""
    by_account: dict[int, list[tuple[list[Any], str, bool]]] = {}
    for account_id, actions, name, named in rows:
        by_account.setdefault(account_id, []).append((actions, name, named))
    found: dict[int, list[dict[str, Any]]] = {}
    for account_id, bills in by_account.items():
        several = len(bills) > 1
        found[account_id] = [
            {**action, "bill_name": name if named and several else ""}
            for actions, name, named in bills
            for action in actions
            if isinstance(action, dict)
        ]
    return found


def _recent_history(*, account: Account) -> tuple[HistoryEntry, ...]:
    if account.billing is None:
        return ()
    dated = [h for h in account.billing.history if h.date is not None and h.amount is not None]
    dated.sort(key=lambda h: h.date)  # type: ignore[arg-type,return-value]  # dated ones only
    return tuple(dated[-HISTORY_MONTHS:])


def dashboard_for_snapshot(
    *,
    snapshot: AccountSnapshot | None,
    today: date,
    pages: Pages,
    filters: Filters,
    parts: tuple[str, ...] = ("summary", "bills", "suggestions", "cards", "spending"),
) -> Dashboard:
    """The parts of the dashboard asked for, from the read model."""
    if snapshot is None:
        return Dashboard(summary=_EMPTY, filters=filters)
    reader = DashboardReader(snapshot=snapshot, filters=filters, today=today)
    # Read in the order that lets each part reuse what the one before read: the bills page
    # after the tiles (the same bill rows), the cards before the ways to save (a way to save
    # for an account whose card is drawn finds that account's bills, its actions, read).
    summary = reader.summary() if "summary" in parts else None
    bills = (
        reader.bills_page(pages.bills, count=summary.bills_total if summary else None)
        if "bills" in parts
        else None
    )
    cards = (
        reader.cards_page(pages.cards, count=summary.connected if summary else None)
        if "cards" in parts
        else None
    )
    return Dashboard(
        summary=summary or _EMPTY,
        bills=bills,
        suggestions=reader.suggestions_page(pages.suggestions) if "suggestions" in parts else None,
        cards=cards,
        filters=filters,
        types=reader.types() if "summary" in parts else (),
        spending=reader.spending() if "spending" in parts else None,
    )


# The cached fragments hold action ids, which Atomic expires after about an hour.
FRAGMENT_CACHE_SECONDS = 600
# A thousand accounts make 167 pages of six cards; a later page is drawn but not cached.
MAX_CACHED_PAGE = 200


@dataclass(frozen=True)
class DashboardFragment:
    """One part of the dashboard to draw (the regions, or one list's page of items) and the
    key its template's `{% cache %}` keeps it under; blank when it is drawn but not kept.

    `dashboard` is read only when the template draws the part: a fragment found in the cache
    costs no query at all.
    """

    template: str
    dashboard: Dashboard
    key: str
    seconds: int = FRAGMENT_CACHE_SECONDS
    # A list's page alone, appended after the items already shown.
    appending: bool = False


def dashboard_fragment(
    *,
    snapshot: AccountSnapshot | None,
    template: str,
    parts: tuple[str, ...],
    pages: Pages,
    filters: Filters,
    today: date,
) -> DashboardFragment:
    """The fragment drawing `parts` of the dashboard, keyed on what changes its words.

    The key holds the snapshot's version (a sync that found new data changes it), the day
    and the time zone because overdue, due-soon and paused depend on the person's today, the
    language because the fragment carries words, and the filters and page numbers because
    they choose what is listed. Before the first sync nothing is kept.
    """
    lists = tuple(part for part in parts if part in ("bills", "suggestions", "cards"))
    numbers = tuple(getattr(pages, part) for part in lists)
    dashboard = SimpleLazyObject(
        lambda: dashboard_for_snapshot(
            snapshot=snapshot, today=today, pages=pages, filters=filters, parts=parts
        )
    )
    key = ""
    if snapshot is not None and max(numbers, default=1) <= MAX_CACHED_PAGE:
        # Page numbers come from the address bar: only the pages a list can have are kept.
        key = (
            f"{snapshot.profile_id}:{snapshot.version}:{get_language()}:"
            f"{timezone.get_current_timezone_name()}:{today.isoformat()}:{template}:"
            f"{'.'.join(map(str, numbers))}:{filters.key}"
        )
    return DashboardFragment(
        template=template,
        dashboard=dashboard,  # type: ignore[arg-type]  # lazy: the Dashboard built on first use
        key=key,
        appending=parts == lists and len(lists) == 1,
    )


_EMPTY = Summary(
    connected=0,
    due_soon_total=ZERO,
    due_soon_count=0,
    overdue_total=ZERO,
    overdue_count=0,
    monthly_spend=ZERO,
    monthly_savings=ZERO,
)
