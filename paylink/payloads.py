"""Typed, tolerant views of Atomic's PayLink accounts payload.

Atomic adds fields and enum values without notice, so parsing never raises: unknown fields
are ignored, unknown enum values are kept as they came (and shown plainly), missing optional
fields become None or empty, and amounts or dates that do not parse become None.
Templates and selectors only ever see these dataclasses, never the raw dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from paylink.lib.vendor_json import as_dict, as_list, dig, text, when

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    logo_url: str | None
    color: str | None


@dataclass(frozen=True)
class Suggestion:
    monthly_savings: Decimal | None
    category: str
    short_description: str
    detailed_description: str
    button_title: str


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Autopay:
    status: str
    cycle: str

    @property
    def enabled(self) -> bool | None:
        """True/False when Atomic says so plainly; None for a status we do not know."""
        match self.status.lower():
            case "enabled" | "on" | "active" | "true":
                return True
            case "disabled" | "off" | "inactive" | "false":
                return False
            case _:
                return None


@dataclass(frozen=True)
class BillingItem:
    description: str
    amount: Decimal | None


@dataclass(frozen=True)
class HistoryEntry:
    date: datetime | None
    amount: Decimal | None


@dataclass(frozen=True)
class PaymentMethod:
    type: str
    brand: str
    last_four: str
    is_primary: bool


@dataclass(frozen=True)
class Billing:
    account_number: str
    amount: Decimal | None
    due_date: datetime | None
    autopay: Autopay | None
    items: tuple[BillingItem, ...]
    history: tuple[HistoryEntry, ...]
    payment_methods: tuple[PaymentMethod, ...]

    @property
    def primary_payment_method(self) -> PaymentMethod | None:
        for method in self.payment_methods:
            if method.is_primary:
                return method
        return self.payment_methods[0] if self.payment_methods else None


@dataclass(frozen=True)
class PendingChange:
    type: str
    status: str
    title: str
    amount: Decimal | None
    start_date: datetime | None
    end_date: datetime | None


@dataclass(frozen=True)
class Plan:
    source_id: str
    status: str
    title: str
    description: str
    free_trial: bool
    cycle: str
    pending_change: PendingChange | None


@dataclass(frozen=True)
class Action:
    type: str
    id: str
    automated: bool | None


@dataclass(frozen=True)
class BillEntry:
    """One bill an account manages (Atomic's `bills[]` or `expenses[]`): an Apple account can
    hold an Apple TV+ bill and a NY Times bill, each with its own name and actions."""

    name: str
    amount: Decimal | None
    due_date: datetime | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Account:
    id: str
    company: Company
    type: str
    source_id: str
    link_type: str
    suggestions: tuple[Suggestion, ...]
    identities: tuple[Identity, ...]
    billing: Billing | None
    plans: tuple[Plan, ...]
    actions: tuple[Action, ...]
    # The bills the account names, when it names any (else the account is its one bill).
    bills: tuple[BillEntry, ...] = ()


def amount_parse(value: object) -> Decimal | None:
    """A money amount from a number or a numeric string ("20.46", "$1,020.46"); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "").removeprefix("$")
        if not value:
            return None
    if not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def url_parse(value: object) -> str | None:
    """Only http(s) URLs may reach an <img src>; javascript:, data: and the like are dropped."""
    url = text(value)
    # split() cuts at every character isspace() names: one piece means none inside.
    if url.lower().startswith(("https://", "http://")) and len(url.split()) == 1:
        return url
    return None


def colour_parse(value: object) -> str | None:
    colour = text(value)
    return colour.lower() if _HEX_COLOUR.match(colour) else None


def _company_parse(raw: dict[str, Any]) -> Company:
    branding = as_dict(raw.get("branding"))
    logo = as_dict(branding.get("logo"))
    return Company(
        id=text(raw.get("_id")),
        name=text(raw.get("name")) or "Unknown company",
        logo_url=url_parse(logo.get("url")),
        color=colour_parse(branding.get("color")) or colour_parse(logo.get("backgroundColor")),
    )


def _suggestion_parse(raw: dict[str, Any]) -> Suggestion:
    return Suggestion(
        monthly_savings=amount_parse(raw.get("monthlySavings")),
        category=text(raw.get("category")),
        short_description=text(raw.get("shortDescription")),
        detailed_description=text(raw.get("detailedDescription")),
        button_title=text(raw.get("buttonTitle")),
    )


def _identity_parse(raw: dict[str, Any]) -> Identity:
    return Identity(
        first_name=text(raw.get("firstName")),
        last_name=text(raw.get("lastName")),
        email=text(raw.get("email")),
        phone=text(raw.get("phone")),
    )


def _billing_parse(raw: object) -> Billing | None:
    if not isinstance(raw, dict):
        return None
    autopay_raw = raw.get("autopay")
    autopay = (
        Autopay(status=text(autopay_raw.get("status")), cycle=text(autopay_raw.get("cycle")))
        if isinstance(autopay_raw, dict)
        else None
    )
    return Billing(
        account_number=text(raw.get("accountNumber")),
        amount=amount_parse(raw.get("amount")),
        due_date=when(raw.get("dueDate")),
        autopay=autopay,
        items=tuple(
            BillingItem(
                description=text(i.get("description")), amount=amount_parse(i.get("amount"))
            )
            for i in as_list(raw.get("items"))
            if isinstance(i, dict)
        ),
        history=tuple(
            HistoryEntry(date=when(h.get("date")), amount=amount_parse(h.get("amount")))
            for h in as_list(raw.get("history"))
            if isinstance(h, dict)
        ),
        payment_methods=tuple(
            PaymentMethod(
                type=text(p.get("type")),
                brand=text(p.get("brand")),
                # Only ever the last four: a longer value is cut, never shown whole.
                last_four=text(p.get("lastFour"))[-4:],
                is_primary=p.get("isPrimary") is True,
            )
            for p in as_list(raw.get("paymentMethods"))
            if isinstance(p, dict)
        ),
    )


def _plan_parse(raw: dict[str, Any]) -> Plan:
    pending_raw = raw.get("pendingChange")
    pending = None
    if isinstance(pending_raw, dict):
        changes = as_dict(pending_raw.get("changes"))
        pending = PendingChange(
            type=text(pending_raw.get("type")),
            status=text(changes.get("status")),
            title=text(changes.get("title")),
            amount=amount_parse(changes.get("amount")),
            start_date=when(pending_raw.get("startDate")),
            end_date=when(pending_raw.get("endDate")),
        )
    return Plan(
        source_id=text(raw.get("sourceId")),
        status=text(raw.get("status")),
        title=text(raw.get("title")),
        description=text(raw.get("description")),
        free_trial=raw.get("freeTrial") is True,
        cycle=_plan_cycle(raw),
        pending_change=pending,
    )


def _plan_cycle(raw: dict[str, Any]) -> str:
    return text(raw.get("cycle") or raw.get("billingCycle") or raw.get("interval"))


def _action_parse(raw: dict[str, Any]) -> Action | None:
    # The seed sends {type, id}; newer apps send {type, actionId, automated}.
    action_id = text(raw.get("actionId") or raw.get("id"))
    action_type = text(raw.get("type"))
    if not action_id or not action_type:
        return None
    automated = raw.get("automated")
    return Action(
        type=action_type,
        id=action_id,
        automated=automated if isinstance(automated, bool) else None,
    )


def _actions_of(items: object) -> tuple[Action, ...]:
    actions: dict[tuple[str, str], Action] = {}
    for item in as_list(items):
        action = _action_parse(item) if isinstance(item, dict) else None
        if action is not None:
            actions.setdefault((action.type, action.id), action)
    return tuple(actions.values())


def _bills_parse(raw: dict[str, Any], details: dict[str, Any]) -> tuple[BillEntry, ...]:
    """The named bills: `bills[]` where the account (or its details) has them, else
    `expenses[]`; both are Atomic's names for the same list."""
    for key in ("bills", "expenses"):
        entries = [
            entry
            for holder in (raw, details)
            for entry in as_list(holder.get(key))
            if isinstance(entry, dict)
        ]
        if entries:
            return tuple(
                BillEntry(
                    name=text(entry.get("name") or entry.get("title")),
                    amount=amount_parse(entry.get("amount")),
                    due_date=when(entry.get("dueDate")),
                    actions=_actions_of(entry.get("actions")),
                )
                for entry in entries
            )
    return ()


def _actions_parse(raw: dict[str, Any], details: dict[str, Any]) -> tuple[Action, ...]:
    """The seed lists actions on the account; newer shapes also nest them under each entry of
    `expenses[]` or `bills[]` (on the account or its details). All of them, each once."""
    found: list[object] = list(as_list(raw.get("actions")))
    for holder in (raw, details):
        for key in ("expenses", "bills"):
            for entry in as_list(holder.get(key)):
                found.extend(as_list(dig(entry, "actions")))
    actions: dict[tuple[str, str], Action] = {}
    for item in found:
        action = _action_parse(item) if isinstance(item, dict) else None
        if action is not None:
            actions.setdefault((action.type, action.id), action)
    return tuple(actions.values())


def account_parse(raw: dict[str, Any]) -> Account:
    details = as_dict(raw.get("account"))
    data = as_dict(details.get("data"))
    return Account(
        id=text(raw.get("_id")) or text(details.get("_id")),
        company=_company_parse(as_dict(raw.get("company"))),
        type=text(details.get("type")),
        source_id=text(details.get("sourceId")),
        link_type=text(raw.get("type")),
        suggestions=tuple(
            _suggestion_parse(s) for s in as_list(details.get("suggestions")) if isinstance(s, dict)
        ),
        identities=tuple(
            _identity_parse(i) for i in as_list(details.get("identities")) if isinstance(i, dict)
        ),
        billing=_billing_parse(details.get("billing")),
        plans=tuple(_plan_parse(p) for p in as_list(data.get("plans")) if isinstance(p, dict)),
        actions=_actions_parse(raw, details),
        bills=_bills_parse(raw, details),
    )


def accounts_parse(payload: object) -> tuple[Account, ...]:
    """Every account in `{"accounts": [...]}`; entries that are not objects are skipped."""
    return tuple(account_parse(a) for a in _account_objects(payload))


def account_objects(payload: object) -> list[dict[str, Any]]:
    """The payload's account objects, numbered as `accounts_parse` numbers them."""
    return _account_objects(payload)


def _account_objects(payload: object) -> list[dict[str, Any]]:
    return [a for a in as_list(as_dict(payload).get("accounts")) if isinstance(a, dict)]
