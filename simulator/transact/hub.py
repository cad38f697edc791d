"""The Payments Hub's home screen data, read from the same accounts list the API returns.

The UI gets a small, already-safe view of each account: account numbers cut to their last
four digits, unknown fields dropped, missing ones left empty.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from simulator import tasks

# Actions a person can start from the Hub; the others are Atomic's own bookkeeping.
_HUB_ACTIONS = ("pause-plan", "cancel-plan", "change-plan")


@dataclass(frozen=True)
class HubCompany:
    id: str
    name: str
    color: str
    logo_url: str


@dataclass(frozen=True)
class HubAction:
    type: str
    id: str


@dataclass(frozen=True)
class HubBill:
    account_id: str
    company: HubCompany
    plan_title: str
    plan_status: str
    pending_change: str
    amount: float | None
    due_date: str
    account_last_four: str
    autopay: bool
    actions: tuple[HubAction, ...]


@dataclass(frozen=True)
class HubSuggestion:
    company: HubCompany
    short_description: str
    detailed_description: str
    monthly_savings: float | None
    button_title: str
    category: str


def hub_for(*, identifier: str) -> dict[str, Any]:
    """The Hub's sections for one user, as JSON-ready dicts with camelCase keys."""
    bills: list[HubBill] = []
    suggestions: list[HubSuggestion] = []
    for entry in tasks.accounts_for(identifier=identifier):
        if not isinstance(entry, dict):
            continue
        company = _company(entry.get("company"))
        account = _dict(entry.get("account"))
        named = entry.get("bills") or entry.get("expenses")
        if isinstance(named, list) and named:
            # Newer accounts list their bills, each with its own name and actions.
            base = _bill(entry, company, account)
            bills.extend(_named_bill(base, _dict(raw)) for raw in named if isinstance(raw, dict))
        else:
            bills.append(_bill(entry, company, account))
        for raw in account.get("suggestions") or []:
            if isinstance(raw, dict):
                suggestions.append(_suggestion(company, raw))
    return {
        "expenses": [_camel(asdict(bill)) for bill in bills],
        "suggestions": [_camel(asdict(item)) for item in suggestions],
        "monthlySavings": sum(item.monthly_savings or 0 for item in suggestions),
    }


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _company(raw: object) -> HubCompany:
    company = _dict(raw)
    branding = _dict(company.get("branding"))
    return HubCompany(
        id=_text(company.get("_id")),
        name=_text(company.get("name")) or "Unknown company",
        color=_text(branding.get("color")),
        logo_url=_text(_dict(branding.get("logo")).get("url")),
    )


def _bill(entry: dict[str, Any], company: HubCompany, account: dict[str, Any]) -> HubBill:
    billing = _dict(account.get("billing"))
    plans = [
        plan for plan in _dict(account.get("data")).get("plans") or [] if isinstance(plan, dict)
    ]
    plan = plans[0] if plans else {}
    changes = _dict(_dict(plan.get("pendingChange")).get("changes"))
    number = "".join(ch for ch in _text(billing.get("accountNumber")) if ch.isalnum())
    actions = []
    for raw in entry.get("actions") or []:
        action = _dict(raw)
        # The seed says `id`; newer payloads say `actionId`.
        action_id = _text(action.get("id")) or _text(action.get("actionId"))
        if action.get("type") in _HUB_ACTIONS and action_id:
            actions.append(HubAction(type=action["type"], id=action_id))
    return HubBill(
        account_id=_text(entry.get("_id")),
        company=company,
        plan_title=_text(plan.get("title")),
        plan_status=_text(plan.get("status")),
        pending_change=_text(changes.get("title")) or _text(changes.get("status")),
        amount=_number(billing.get("amount")),
        due_date=_text(billing.get("dueDate")),
        account_last_four=number[-4:],
        autopay=_dict(billing.get("autopay")).get("status") == "enabled",
        actions=tuple(actions),
    )


def _actions(raws: object) -> tuple[HubAction, ...]:
    actions = []
    for raw in raws if isinstance(raws, list) else []:
        action = _dict(raw)
        # The seed says `id`; newer payloads say `actionId`.
        action_id = _text(action.get("id")) or _text(action.get("actionId"))
        if action.get("type") in _HUB_ACTIONS and action_id:
            actions.append(HubAction(type=action["type"], id=action_id))
    return tuple(actions)


def _named_bill(base: HubBill, bill: dict[str, Any]) -> HubBill:
    return replace(
        base,
        plan_title=_text(bill.get("name")) or _text(bill.get("title")) or base.plan_title,
        plan_status=_text(bill.get("status")) or base.plan_status,
        amount=_number(bill.get("amount")),
        due_date=_text(bill.get("dueDate")) or base.due_date,
        actions=_actions(bill.get("actions")),
    )


def _suggestion(company: HubCompany, raw: dict[str, Any]) -> HubSuggestion:
    return HubSuggestion(
        company=company,
        short_description=_text(raw.get("shortDescription")),
        detailed_description=_text(raw.get("detailedDescription")),
        monthly_savings=_number(raw.get("monthlySavings")),
        button_title=_text(raw.get("buttonTitle")),
        category=_text(raw.get("category")),
    )


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(key): _camel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(item) for item in value]
    return value


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)
