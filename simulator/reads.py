"""What the Transact UI and the API read about a user: the token's owner, the companies, the
accounts, the stored data, what an action id would do. Nothing here moves a task; a read that
must first take a task's overdue steps is in `simulator.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from simulator import accounts
from simulator.catalogue import BILLERS, Company, biller_by_id
from simulator.errors import SimulatorError
from simulator.models import LinkedAccount, PublicToken, SimUser, account_shape

_ACTION_GONE = "This action is no longer available. Refresh and try again."


@dataclass(frozen=True)
class ActionInfo:
    action_type: str
    account_id: str
    company: Company
    plan_title: str
    # The named bill it acts on ("" for the account's own plan).
    bill_id: str = ""


def token_resolve(public_token: str) -> SimUser:
    """The user a public token belongs to; 401 when it is missing, unknown or expired."""
    if not public_token:
        raise SimulatorError("A public token is required.", status=401)
    row = PublicToken.objects.select_related("user").filter(token=public_token).first()
    if row is None:
        raise SimulatorError("The public token is not valid.", status=401)
    if row.expires_at <= timezone.now():
        raise SimulatorError("The public token has expired.", status=401)
    return row.user


def companies_list(*, query: str = "") -> list[Company]:
    needle = query.strip().casefold()
    return [b.company for b in BILLERS if needle in b.name.casefold()]


def company_get(company_id: str) -> Company:
    biller = biller_by_id(company_id)
    if biller is None:
        raise SimulatorError("No company has that id.", status=404)
    return biller.company


def user_accounts(user: SimUser) -> list[dict[str, Any]]:
    """The user's PayLink accounts as the API lists them, from what is stored now."""
    shape = account_shape()
    built = (
        accounts.account_build(
            link=link,
            identifier=user.identifier,
            user_atomic_id=user.atomic_id,
            known_identity=user.data.get("identity"),
            shape=shape,
        )
        for link in user.linked_accounts.all()
    )
    return [account for account in built if account]


def user_data(*, identifier: str) -> dict[str, Any]:
    """What access-token extras and PUT /user stored for the user."""
    user = SimUser.objects.filter(identifier=identifier).first()
    if user is None:
        raise SimulatorError("No user has that identifier.", status=404)
    return dict(user.data)


def action_describe(*, user: SimUser, action_id: str) -> ActionInfo:
    """What an action id would do, checked to belong to `user` and not expired (else 422)."""
    claim = accounts.action_id_read(action_id)
    if claim is None or claim.user_atomic_id != user.atomic_id:
        raise SimulatorError(_ACTION_GONE, status=422)
    link = LinkedAccount.objects.filter(user=user, account_id=claim.account_id).first()
    biller = biller_by_id(link.company_id) if link else None
    if link is None or biller is None:
        raise SimulatorError(_ACTION_GONE, status=422)
    title = accounts.plan_title(link=link, identifier=user.identifier)
    if claim.bill_id:
        names = {
            accounts.bill_id_for(account_id=link.account_id, name=bill.name): bill.name
            for bill in biller.bundled
        }
        if claim.bill_id not in names:
            raise SimulatorError(_ACTION_GONE, status=422)
        title = names[claim.bill_id]
    return ActionInfo(
        action_type=claim.action_type,
        account_id=link.account_id,
        company=biller.company,
        plan_title=title,
        bill_id=claim.bill_id,
    )
