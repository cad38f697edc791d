"""Typed, tolerant views of Atomic's PayLink accounts payload.

Atomic adds fields and enum values without notice, so parsing never raises: unknown fields
are ignored, unknown enum values are kept as they came (and shown plainly), missing optional
fields become None or empty, and amounts or dates that do not parse become None.
Templates and selectors only ever see these dataclasses, never the raw dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

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


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


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


def datetime_parse(value: object) -> datetime | None:
    """An ISO 8601 date or datetime, with or without milliseconds or Z; naive means UTC."""
    text = _text(value)
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def url_parse(value: object) -> str | None:
    """Only http(s) URLs may reach an <img src>; javascript:, data: and the like are dropped."""
    text = _text(value)
    if text.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in text):
        return text
    return None


def colour_parse(value: object) -> str | None:
    text = _text(value)
    return text.lower() if _HEX_COLOUR.match(text) else None


def _company_parse(raw: dict[str, Any]) -> Company:
    branding = _dict(raw.get("branding"))
    logo = _dict(branding.get("logo"))
    return Company(
        id=_text(raw.get("_id")),
        name=_text(raw.get("name")) or "Unknown company",
        logo_url=url_parse(logo.get("url")),
        color=colour_parse(branding.get("color")) or colour_parse(logo.get("backgroundColor")),
    )


def _suggestion_parse(raw: dict[str, Any]) -> Suggestion:
    return Suggestion(
        monthly_savings=amount_parse(raw.get("monthlySavings")),
        category=_text(raw.get("category")),
        short_description=_text(raw.get("shortDescription")),
        detailed_description=_text(raw.get("detailedDescription")),
        button_title=_text(raw.get("buttonTitle")),
    )


def _identity_parse(raw: dict[str, Any]) -> Identity:
    return Identity(
        first_name=_text(raw.get("firstName")),
        last_name=_text(raw.get("lastName")),
        email=_text(raw.get("email")),
        phone=_text(raw.get("phone")),
    )


def _billing_parse(raw: object) -> Billing | None:
    if not isinstance(raw, dict):
        return None
    autopay_raw = raw.get("autopay")
    autopay = (
        Autopay(status=_text(autopay_raw.get("status")), cycle=_text(autopay_raw.get("cycle")))
        if isinstance(autopay_raw, dict)
        else None
    )
    return Billing(
        account_number=_text(raw.get("accountNumber")),
        amount=amount_parse(raw.get("amount")),
        due_date=datetime_parse(raw.get("dueDate")),
        autopay=autopay,
        items=tuple(
            BillingItem(
                description=_text(i.get("description")), amount=amount_parse(i.get("amount"))
            )
            for i in _list(raw.get("items"))
            if isinstance(i, dict)
        ),
        history=tuple(
            HistoryEntry(date=datetime_parse(h.get("date")), amount=amount_parse(h.get("amount")))
            for h in _list(raw.get("history"))
            if isinstance(h, dict)
        ),
        payment_methods=tuple(
            PaymentMethod(
                type=_text(p.get("type")),
                brand=_text(p.get("brand")),
                # Only ever the last four: a longer value is cut, never shown whole.
                last_four=_text(p.get("lastFour"))[-4:],
                is_primary=p.get("isPrimary") is True,
            )
            for p in _list(raw.get("paymentMethods"))
            if isinstance(p, dict)
        ),
    )


def _plan_parse(raw: dict[str, Any]) -> Plan:
    pending_raw = raw.get("pendingChange")
    pending = None
    if isinstance(pending_raw, dict):
        changes = _dict(pending_raw.get("changes"))
        pending = PendingChange(
            type=_text(pending_raw.get("type")),
            status=_text(changes.get("status")),
            title=_text(changes.get("title")),
            amount=amount_parse(changes.get("amount")),
            start_date=datetime_parse(pending_raw.get("startDate")),
            end_date=datetime_parse(pending_raw.get("endDate")),
        )
    return Plan(
        source_id=_text(raw.get("sourceId")),
        status=_text(raw.get("status")),
        title=_text(raw.get("title")),
        description=_text(raw.get("description")),
        free_trial=raw.get("freeTrial") is True,
        cycle=_text(raw.get("cycle") or raw.get("billingCycle") or raw.get("interval")),
        pending_change=pending,
    )


def _action_parse(raw: dict[str, Any]) -> Action | None:
    # The seed sends {type, id}; newer apps send {type, actionId, automated}.
    action_id = _text(raw.get("actionId") or raw.get("id"))
    action_type = _text(raw.get("type"))
    if not action_id or not action_type:
        return None
    automated = raw.get("automated")
    return Action(
        type=action_type,
        id=action_id,
        automated=automated if isinstance(automated, bool) else None,
    )


def account_parse(raw: dict[str, Any]) -> Account:
    details = _dict(raw.get("account"))
    data = _dict(details.get("data"))
    actions = (_action_parse(a) for a in _list(raw.get("actions")) if isinstance(a, dict))
    return Account(
        id=_text(raw.get("_id")) or _text(details.get("_id")),
        company=_company_parse(_dict(raw.get("company"))),
        type=_text(details.get("type")),
        source_id=_text(details.get("sourceId")),
        link_type=_text(raw.get("type")),
        suggestions=tuple(
            _suggestion_parse(s) for s in _list(details.get("suggestions")) if isinstance(s, dict)
        ),
        identities=tuple(
            _identity_parse(i) for i in _list(details.get("identities")) if isinstance(i, dict)
        ),
        billing=_billing_parse(details.get("billing")),
        plans=tuple(_plan_parse(p) for p in _list(data.get("plans")) if isinstance(p, dict)),
        actions=tuple(a for a in actions if a is not None),
    )


def accounts_parse(payload: object) -> tuple[Account, ...]:
    """Every account in `{"accounts": [...]}`; entries that are not objects are skipped."""
    return tuple(
        account_parse(a) for a in _list(_dict(payload).get("accounts")) if isinstance(a, dict)
    )
