"""Reads behind the dashboard: the user's snapshot and the view-model built from it.

Nothing here calls Atomic: the dashboard is drawn from the last snapshot the sync stored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from paylink.models import AccountSnapshot
from paylink.payloads import (
    Account,
    Action,
    HistoryEntry,
    PaymentMethod,
    Suggestion,
    accounts_parse,
)

ZERO = Decimal("0")
HISTORY_MONTHS = 6
DUE_SOON_DAYS = 7
DUE_WINDOW_DAYS = 30

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

CATEGORY_LABELS: dict[str, str] = {
    "change-plan": "Change plan",
    "cancel-plan": "Cancel plan",
    "downgrade-plan": "Downgrade plan",
    "remove-service": "Remove a service",
    "common-cancellation": "Commonly cancelled",
    "redundant-services": "Redundant services",
    "costly-feature": "Costly feature",
    "alternative-service": "Alternative service",
    "underutilization": "Underused",
    "high-interest-rate": "High interest rate",
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
class Dashboard:
    summary: Summary
    bills: tuple[BillRow, ...]
    cards: tuple[AccountCard, ...]
    suggestions: tuple[SuggestionRow, ...]


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
    """The user's snapshot in one query, or None before the first sync."""
    return AccountSnapshot.objects.filter(profile__user=user).select_related("profile").first()


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
    if billing is None or billing.amount is None:
        return None
    cycle = billing.autopay.cycle if billing.autopay else ""
    if not cycle:
        cycle = next((p.cycle for p in account.plans if p.cycle), "")
    factor = _CYCLE_PER_MONTH.get(cycle.lower().replace("-", "").replace(" ", ""), Decimal(1))
    return (billing.amount * factor).quantize(Decimal("0.01"))


def category_label_for(*, category: str) -> str:
    return CATEGORY_LABELS.get(category, category or "Suggestion")


def suggestion_action_for(*, account: Account, category: str) -> Action | None:
    wanted = _CATEGORY_ACTION.get(category, category)
    return next((a for a in account.actions if a.type == wanted), None)


def _recent_history(*, account: Account) -> tuple[HistoryEntry, ...]:
    if account.billing is None:
        return ()
    dated = [h for h in account.billing.history if h.date is not None and h.amount is not None]
    dated.sort(key=lambda h: h.date)  # type: ignore[arg-type,return-value]
    return tuple(dated[-HISTORY_MONTHS:])


def _due_sort_key(row: BillRow) -> tuple[int, datetime | None, str]:
    # Bills without a date go last; ties break on the company name for a stable order.
    return (row.due_date is None, row.due_date, row.account.company.name.lower())


def dashboard_for_payload(*, payload: object, today: date) -> Dashboard:
    """The whole view-model of the dashboard, from a raw accounts payload and today's date."""
    accounts = accounts_parse(payload)
    cards: list[AccountCard] = []
    bills: list[BillRow] = []
    suggestions: list[SuggestionRow] = []
    due_soon_total = overdue_total = monthly_spend = monthly_savings = ZERO
    due_soon_count = overdue_count = 0
    for index, account in enumerate(accounts):
        dom_id = account_dom_id(account=account, index=index)
        billing = account.billing
        due_date = billing.due_date if billing else None
        due_state = due_state_for(due_date=due_date, today=today)
        monthly = monthly_equivalent_for(account=account)
        if monthly is not None:
            monthly_spend += monthly
        cards.append(
            AccountCard(
                account=account,
                dom_id=dom_id,
                monthly_equivalent=monthly,
                history=_recent_history(account=account),
                due_state=due_state,
            )
        )
        if billing is not None and (billing.amount is not None or due_date is not None):
            bills.append(
                BillRow(
                    account=account,
                    dom_id=dom_id,
                    amount=billing.amount,
                    due_date=due_date,
                    due_state=due_state,
                    autopay=billing.autopay.enabled if billing.autopay else None,
                    payment_method=billing.primary_payment_method,
                )
            )
            amount = billing.amount or ZERO
            if due_state is DueState.OVERDUE:
                overdue_total += amount
                overdue_count += 1
            elif due_state is DueState.SOON or (
                due_state is DueState.LATER
                and due_date is not None
                and timezone.localtime(due_date).date() <= today + timedelta(days=DUE_WINDOW_DAYS)
            ):
                due_soon_total += amount
                due_soon_count += 1
        for suggestion in account.suggestions:
            monthly_savings += suggestion.monthly_savings or ZERO
            suggestions.append(
                SuggestionRow(
                    account=account,
                    dom_id=dom_id,
                    suggestion=suggestion,
                    category_label=category_label_for(category=suggestion.category),
                    action=suggestion_action_for(account=account, category=suggestion.category),
                )
            )
    bills.sort(key=_due_sort_key)
    suggestions.sort(key=lambda s: s.suggestion.monthly_savings or ZERO, reverse=True)
    return Dashboard(
        summary=Summary(
            connected=len(accounts),
            due_soon_total=due_soon_total,
            due_soon_count=due_soon_count,
            overdue_total=overdue_total,
            overdue_count=overdue_count,
            monthly_spend=monthly_spend,
            monthly_savings=monthly_savings,
        ),
        bills=tuple(bills),
        cards=tuple(cards),
        suggestions=tuple(suggestions),
    )
