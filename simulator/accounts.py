"""A user's account at a biller, generated from (identifier, company) and then changed by actions.

The generation is seeded with a sha256 of both, so two users differ and each stays stable.
Dates are computed relative to today so dashboards always look current.
"""

from __future__ import annotations

import calendar
import hashlib
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core import signing
from django.utils import timezone

from simulator.catalogue import Biller, biller_by_id
from simulator.models import ConfigOverride, LinkedAccount, iso_ms

ACTION_SALT = "simulator.action-id"
ACTION_LIFETIME_SECONDS = 3600

_FIRST_NAMES = ("Alex", "Jordan", "Sam", "Riley", "Morgan", "Casey", "Taylor", "Jamie")
_LAST_NAMES = ("Rivera", "Chen", "Okafor", "Lindqvist", "Patel", "Moreau", "Kowalski", "Haddad")
_CARD_BRANDS = ("Visa", "Mastercard", "American Express", "Discover")
# In the newer shape: actions Atomic carries out without asking the person to sign in again.
_AUTOMATED = frozenset({"pause-plan", "cancel-plan"})


@dataclass(frozen=True)
class ActionClaim:
    """What a verified action id says."""

    account_id: str
    action_type: str
    user_atomic_id: str
    # The named bill it acts on; "" for the account's own plan.
    bill_id: str = ""


def _rng(identifier: str, company_id: str) -> random.Random:
    digest = hashlib.sha256(f"{identifier}\x00{company_id}".encode()).hexdigest()
    return random.Random(int(digest, 16))  # noqa: S311 - test data, not secrets


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _due_date(rng: random.Random, today: date) -> date:
    """The bill's due date: a fixed day of month; some overdue, some due within a week."""
    roll = rng.random()
    if roll < 0.2:
        return today - timedelta(days=rng.randint(1, 9))
    if roll < 0.5:
        return today + timedelta(days=rng.randint(0, 7))
    return today + timedelta(days=rng.randint(8, 27))


def _at_end_of_day(day: date) -> str:
    return iso_ms(datetime.combine(day, time(23, 59, 59), tzinfo=UTC)) or ""


def bill_id_for(*, account_id: str, name: str) -> str:
    """A named bill's id: stable for the account and the bill, an ObjectId's shape."""
    return hashlib.sha256(f"{account_id}\x00{name}".encode()).hexdigest()[:24]


def action_id_issue(
    *, account_id: str, action_type: str, user_atomic_id: str, bill_id: str = ""
) -> str:
    """An opaque, signed, expiring action id; a fresh one on every accounts call."""
    lifetime = ConfigOverride.current("action_lifetime_seconds", ACTION_LIFETIME_SECONDS)
    expires = int(timezone.now().timestamp() + float(lifetime))
    # The nonce makes every issue distinct, as Atomic's are, even within one second.
    payload = {
        "a": account_id,
        "t": action_type,
        "u": user_atomic_id,
        "e": expires,
        "n": secrets.token_hex(4),
    }
    if bill_id:
        payload["b"] = bill_id
    return signing.dumps(payload, salt=ACTION_SALT, compress=False)


def action_id_read(action_id: str) -> ActionClaim | None:
    """The claim inside `action_id`, or None when it is forged, garbled or expired."""
    try:
        payload = signing.loads(action_id, salt=ACTION_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or int(payload.get("e", 0)) < timezone.now().timestamp():
        return None
    return ActionClaim(
        account_id=str(payload.get("a")),
        action_type=str(payload.get("t")),
        user_atomic_id=str(payload.get("u")),
        bill_id=str(payload.get("b") or ""),
    )


def plan_index_base(*, identifier: str, biller: Biller) -> int:
    return _rng(identifier, biller.id).randrange(len(biller.plans))


def account_actions(*, biller: Biller, plan_status: str) -> list[str]:
    """The actions a user sees, tailored to the plan's state."""
    return account_actions_for(actions=biller.actions, plan_status=plan_status)


def account_actions_for(*, actions: tuple[str, ...], plan_status: str) -> list[str]:
    match plan_status:
        case "cancelled":
            return []
        case "paused":
            return [action for action in actions if action != "pause-plan"]
        case _:
            return list(actions)


def account_build(
    *,
    link: LinkedAccount,
    identifier: str,
    user_atomic_id: str,
    known_identity: dict[str, Any] | None = None,
    shape: str = "seed",
) -> dict[str, Any]:
    """The full PayLink account for one linked company: the seed's Hulu shape, or with `shape`
    "newer" its actions as newer apps list them."""
    biller = biller_by_id(link.company_id)
    if biller is None:
        return {}
    rng = _rng(identifier, biller.id)
    overrides = link.overrides or {}
    today = timezone.localdate()

    plan_index = int(overrides.get("plan_index", rng.randrange(len(biller.plans))))
    plan = biller.plans[plan_index % len(biller.plans)]
    plan_status = str(overrides.get("plan_status", "active"))
    free_trial = biller.account_type == "subscription" and rng.random() < 0.15

    extras = rng.sample(biller.items, k=min(len(biller.items), rng.randint(1, 2)))
    bills = _bundled_bills(link=link, biller=biller, overrides=overrides)
    head = [{"description": plan.title, "amount": plan.price}] if not bills else []
    items = head + [
        {"description": bill["name"], "amount": bill["amount"]}
        for bill in bills
        if bill["status"] == "active"
    ]
    items += [
        {"description": item.description, "amount": round(rng.uniform(item.low, item.high), 2)}
        for item in extras
    ]
    amount = round(sum(item["amount"] for item in items), 2)
    due = _due_date(rng, today)
    autopay = rng.random() < 0.6
    history = [
        {
            "date": iso_ms(
                datetime.combine(_months_back(due, months), time(rng.randint(6, 20)), tzinfo=UTC)
            ),
            "amount": round(amount * rng.uniform(0.92, 1.06), 2),
        }
        for months in range(1, 7)
    ]
    methods = [
        {
            "type": "card",
            "lastFour": _digits(rng, 4),
            "brand": rng.choice(_CARD_BRANDS),
            "isPrimary": index == 0,
        }
        for index in range(rng.randint(1, 2))
    ]
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    account_number = _digits(rng, biller.account_number_digits)
    source_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))

    pending_change: dict[str, Any] | None = None
    if rng.random() < 0.15 and len(biller.plans) > 1:
        other = biller.plans[(plan_index + 1) % len(biller.plans)]
        pending_change = {
            "type": "plan-change",
            "changes": {"status": "active", "title": other.title, "amount": other.price},
            "startDate": _at_end_of_day(due),
            "endDate": _at_end_of_day(due + timedelta(days=30)),
        }
    suggestions = []
    for template in rng.sample(biller.suggestions, k=min(2, len(biller.suggestions))):
        savings = rng.randint(template.low, template.high)
        suggestions.append(
            {
                "monthlySavings": savings,
                "category": template.category,
                "actionUrl": f"https://{biller.slug}.example/account/offers",
                "shortDescription": template.short,
                "detailedDescription": template.detailed.format(savings=savings),
                "buttonTitle": template.button,
            }
        )

    if plan_status in ("paused", "cancelled"):
        # No bill while paused, none at all once cancelled; the action replaces any older plan.
        amount, items, suggestions, pending_change = 0.0, [], [], None
    if "pending_change" in overrides:
        pending_change = overrides["pending_change"]

    identity = {
        "firstName": first,
        "lastName": last,
        "email": f"{first}.{last}@example.com".lower(),
        "phone": f"555{_digits(rng, 7)}",
    }
    if isinstance(known_identity, dict):
        # The biller knows the person the host described (access token or PUT /user).
        identity |= {
            key: value
            for key, value in known_identity.items()
            if key in identity and isinstance(value, str) and value
        }

    actions = [
        {
            "type": action,
            "id": action_id_issue(
                account_id=link.account_id, action_type=action, user_atomic_id=user_atomic_id
            ),
        }
        for action in account_actions(biller=biller, plan_status=plan_status)
    ]
    plan_json: dict[str, Any] = {
        "sourceId": f"{biller.name} ({plan.title})",
        "status": plan_status,
        "title": plan.title,
        "description": plan.description,
        "freeTrial": free_trial,
        "amount": plan.price,
    }
    if pending_change:
        plan_json["pendingChange"] = pending_change
    company = biller.company
    body: dict[str, Any] = {
        "_id": link.account_id,
        "company": {
            "_id": company.id,
            "name": company.name,
            "branding": {
                "logo": {"url": company.logo_url, "backgroundColor": company.logo_background},
                "color": company.color,
            },
        },
        "account": {
            "type": biller.account_type,
            "sourceId": source_id,
            "suggestions": suggestions,
            "identities": [identity],
            "billing": {
                "accountNumber": account_number,
                "amount": amount,
                "dueDate": _at_end_of_day(due),
                "autopay": {"status": "enabled" if autopay else "disabled", "cycle": "monthly"},
                "items": items,
                "history": history,
                "paymentMethods": methods,
            },
            "data": {
                "plans": [plan_json],
                "usage": [{"title": title, "description": text} for title, text in biller.usage],
            },
            "_id": link.account_id,
        },
        "actions": actions,
        "type": "linked",
    }
    if shape == "newer":
        # Newer apps name the id actionId, say whether Atomic carries the action out on its own,
        # and list the actions under the bill (or, for subscriptions, the expense) they act on:
        # one bill named for the company, or each bill an account manages under its own name.
        entry_key = "expenses" if biller.account_type == "subscription" else "bills"
        if bills:
            body[entry_key] = [
                _newer_bill(bill, due=due, link=link, user_atomic_id=user_atomic_id)
                for bill in bills
            ]
        else:
            body[entry_key] = [
                {
                    "_id": bill_id_for(account_id=link.account_id, name=biller.name),
                    "name": biller.name,
                    "title": plan.title,
                    "status": plan_status,
                    "amount": amount,
                    "dueDate": _at_end_of_day(due),
                    "actions": [_newer_action(a["type"], a["id"]) for a in actions],
                }
            ]
        del body["actions"]
    return body


def _newer_action(action_type: str, action_id: str) -> dict[str, Any]:
    return {"type": action_type, "actionId": action_id, "automated": action_type in _AUTOMATED}


def _bundled_bills(
    *, link: LinkedAccount, biller: Biller, overrides: dict[str, Any]
) -> list[dict[str, Any]]:
    """The named bills the account manages, each with its state after any actions."""
    states = overrides.get("bills") or {}
    bills = []
    for bundled in biller.bundled:
        bill_id = bill_id_for(account_id=link.account_id, name=bundled.name)
        status = str(states.get(bill_id, "active"))
        bills.append(
            {
                "_id": bill_id,
                "name": bundled.name,
                "status": status,
                "amount": bundled.price if status == "active" else 0.0,
                "actions": account_actions_for(actions=bundled.actions, plan_status=status),
            }
        )
    return bills


def _newer_bill(
    bill: dict[str, Any], *, due: date, link: LinkedAccount, user_atomic_id: str
) -> dict[str, Any]:
    return {
        "_id": bill["_id"],
        "name": bill["name"],
        "title": bill["name"],
        "status": bill["status"],
        "amount": bill["amount"],
        "dueDate": _at_end_of_day(due),
        "actions": [
            _newer_action(
                action_type,
                action_id_issue(
                    account_id=link.account_id,
                    action_type=action_type,
                    user_atomic_id=user_atomic_id,
                    bill_id=bill["_id"],
                ),
            )
            for action_type in bill["actions"]
        ],
    }


def account_apply_action(
    *, link: LinkedAccount, identifier: str, action_type: str, bill_id: str = ""
) -> None:
    """Record what a completed action did, so later GETs show it."""
    biller = biller_by_id(link.company_id)
    if biller is None:
        return
    overrides = dict(link.overrides or {})
    if bill_id:
        # An action on one named bill changes that bill only.
        states = dict(overrides.get("bills") or {})
        match action_type:
            case "pause-plan":
                states[bill_id] = "paused"
            case "cancel-plan":
                states[bill_id] = "cancelled"
            case "change-plan":
                states[bill_id] = "active"
            case _:
                return
        overrides["bills"] = states
        link.overrides = overrides
        link.save(update_fields=["overrides", "updated_at"])
        return
    match action_type:
        case "pause-plan":
            overrides["plan_status"] = "paused"
        case "cancel-plan":
            overrides["plan_status"] = "cancelled"
        case "change-plan":
            current = int(
                overrides.get("plan_index", plan_index_base(identifier=identifier, biller=biller))
            )
            # Down a tier when there is one (what most suggestions propose), else up.
            overrides["plan_index"] = current - 1 if current > 0 else current + 1
            overrides["plan_status"] = "active"
        case _:
            return
    overrides.pop("pending_change", None)
    link.overrides = overrides
    link.save(update_fields=["overrides", "updated_at"])


def plan_title(*, link: LinkedAccount, identifier: str) -> str:
    biller = biller_by_id(link.company_id)
    if biller is None:
        return ""
    index = int(
        (link.overrides or {}).get(
            "plan_index", plan_index_base(identifier=identifier, biller=biller)
        )
    )
    return biller.plans[index % len(biller.plans)].title
