"""The dashboard's totals that do not depend on the day: the accounts counted and their savings
summed per type, the suggestions counted, and the payments summed per month and type.

Each is one query, written here once: the dashboard runs it for what the filters keep, and
the writers of the rows run it for the whole snapshot and keep the answer on it
(`AccountSnapshot.totals`), so an unfiltered dashboard reads it instead of scanning every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from paylink.models import LinkedAccount, Payment, Suggestion

ZERO = Decimal("0")

# An account type: how many accounts, and what they can save a month.
Kinds = dict[str, tuple[int, Decimal]]
# A month (its first day) and an account type: what was paid.
Paid = dict[tuple[date, str], Decimal]


def cents(value: Decimal | None) -> Decimal:
    # SQLite sums decimals as floats: back to cents.
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


def accounts_by_kind(accounts: QuerySet[LinkedAccount]) -> Kinds:
    """`accounts` counted and their savings summed per type, in one grouped pass."""
    groups = (
        accounts.values("kind")
        .annotate(count=Count("pk"), savings=Sum("monthly_savings"))
        .order_by()
    )
    return {group["kind"]: (group["count"], cents(group["savings"])) for group in groups}


def suggestions_count(suggestions: QuerySet[Suggestion]) -> int:
    return suggestions.count()


def payments_by_month(payments: QuerySet[Payment]) -> Paid:
    """`payments` summed per month paid in and account type."""
    groups = payments.values("paid_month", "kind").annotate(total=Sum("amount")).order_by()
    paid: Paid = {}
    for group in groups:
        key = (group["paid_month"], group["kind"])
        paid[key] = paid.get(key, ZERO) + cents(group["total"])
    return paid


@dataclass(frozen=True)
class SnapshotTotals:
    """The three totals of every row of a snapshot's, whatever the filters."""

    kinds: Kinds
    suggestions: int
    paid: Paid


def snapshot_totals_compute(*, snapshot_id: int) -> SnapshotTotals:
    """The totals of the snapshot's rows as they are now in the database."""
    return SnapshotTotals(
        kinds=accounts_by_kind(LinkedAccount.objects.filter(snapshot_id=snapshot_id)),
        suggestions=suggestions_count(Suggestion.objects.filter(snapshot_id=snapshot_id)),
        paid=payments_by_month(Payment.objects.filter(snapshot_id=snapshot_id)),
    )


def snapshot_totals_encode(totals: SnapshotTotals) -> dict[str, Any]:
    """As JSON keeps them exactly: amounts as their decimal text, months as ISO dates."""
    return {
        "kinds": [[kind, count, str(savings)] for kind, (count, savings) in totals.kinds.items()],
        "suggestions": totals.suggestions,
        "paid": [
            [month.isoformat(), kind, str(amount)] for (month, kind), amount in totals.paid.items()
        ],
    }


def snapshot_totals_decode(stored: Any) -> SnapshotTotals | None:
    """The totals kept on a snapshot, or None where none are (then they are to be queried)."""
    if not isinstance(stored, dict):
        return None
    return SnapshotTotals(
        kinds={kind: (count, Decimal(savings)) for kind, count, savings in stored["kinds"]},
        suggestions=stored["suggestions"],
        paid={
            (date.fromisoformat(month), kind): Decimal(amount)
            for month, kind, amount in stored["paid"]
        },
    )
