"""Hourly counts in the database (`OperationTally`), for the operations page's last 24 hours.

Prometheus keeps the history for alerts; the page needs a day at a glance without one. A count
is added once the caller's transaction commits (or at once outside one), so a rolled-back
operation is not counted and no row stays locked for the length of someone else's work. A
database that cannot take the count loses it, never the operation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _add(*, kind: str, name: str, outcome: str, seconds: float, hour: datetime) -> None:
    try:
        _increment(kind=kind, name=name, outcome=outcome, seconds=seconds, hour=hour)
    except Exception as exc:  # The count is lost, never the operation it counts.
        logger.warning(
            "operation tally %s %s %s not counted: %s", kind, name, outcome, type(exc).__name__
        )


def _increment(*, kind: str, name: str, outcome: str, seconds: float, hour: datetime) -> None:
    # Imported here: metrics, which imports this module, is loaded while Django creates the app
    # configs (paylink.admin_site, rate_limits), before any model can be.
    from paylink.models import OperationTally

    bucket = {"hour": hour, "kind": kind, "name": name[:64], "outcome": outcome[:32]}
    added = {"count": F("count") + 1, "seconds": F("seconds") + seconds}
    try:
        with transaction.atomic():
            if not OperationTally.objects.filter(**bucket).update(**added):
                OperationTally.objects.create(**bucket, count=1, seconds=seconds)
    except IntegrityError:
        # A concurrent first count of the same hour won the insert: add to it instead.
        with transaction.atomic():
            OperationTally.objects.filter(**bucket).update(**added)


def tally_add(*, kind: str, name: str, outcome: str, seconds: float) -> None:
    """Count one `kind` operation `name` that ended as `outcome` after `seconds`."""
    hour = _hour(timezone.now())
    try:
        transaction.on_commit(
            lambda: _add(kind=kind, name=name, outcome=outcome, seconds=seconds, hour=hour)
        )
    except Exception as exc:  # No database to count in: the operation goes on uncounted.
        logger.warning(
            "operation tally %s %s %s not counted: %s", kind, name, outcome, type(exc).__name__
        )


def tallies_prune(*, days: int, now: datetime | None = None) -> int:
    """Delete tallies older than `days`; how many rows went."""
    # Imported here: metrics, which imports this module, is loaded while Django creates the app
    # configs (paylink.admin_site, rate_limits), before any model can be.
    from paylink.models import OperationTally

    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = OperationTally.objects.filter(hour__lt=cutoff).delete()
    return deleted
