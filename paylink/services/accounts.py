"""Keeping each user's local copy of their PayLink accounts in step with Atomic.

The dashboard renders only from this copy, so a sync that fails keeps the old payload and
says what went wrong instead of leaving the user with nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from paylink import client, tasks
from paylink.lib.json_text import json_text_write
from paylink.lib.queued_insert import jobs_enqueue
from paylink.models import AccountSnapshot, Profile
from paylink.observability.metrics import accounts_sync_observed
from paylink.services.account_rows import accounts_rows_store, payload_encode

logger = logging.getLogger(__name__)


@accounts_sync_observed
def accounts_sync(
    *,
    profile: Profile,
    on_error: Callable[[client.AtomicError], object] | None = None,
) -> AccountSnapshot:
    """Fetch the user's accounts now and store them in their snapshot.

    The version moves only when the payload changed. An AtomicError is recorded on the
    snapshot (`last_error`, `last_error_at`) and not raised: the old payload stays, and a
    background task that calls this cannot crash-loop on an outage. Callers that need to know
    check `snapshot.last_error`, or pass `on_error` (the background sync schedules its retry).
    """
    AccountSnapshot.objects.get_or_create(profile=profile)
    try:
        payload = client.atomic_client().accounts_get(identifier=profile.identifier)
    except client.AtomicError as exc:
        logger.warning("accounts sync failed for profile %s: %s", profile.pk, exc)
        now = timezone.now()
        AccountSnapshot.objects.filter(profile=profile).update(
            last_error=str(exc)[:500], last_error_at=now
        )
        if on_error is not None:
            on_error(exc)
        return AccountSnapshot.objects.get(profile=profile)
    # The network call stays outside the transaction that stores what it brought.
    return accounts_store(profile=profile, payload=payload)


def accounts_store(*, profile: Profile, payload: dict[str, Any]) -> AccountSnapshot:
    """Store an accounts payload fetched from Atomic as the user's snapshot, now.

    The version moves only when the payload changed; the payload is the record, and its
    accounts become the typed rows every page reads, rewritten only where an account changed
    (`accounts_rows_store`).
    """
    encoded = payload_encode(payload)
    # The compare-and-bump happens under a row lock so two syncs finishing together cannot
    # both bump, or lose, the version.
    with transaction.atomic():
        # Locked without its payload: only the digest is compared.
        locked = AccountSnapshot.objects.select_for_update().defer("payload")
        snapshot, _ = locked.get_or_create(profile=profile)
        changed = encoded.sha256 != snapshot.payload_sha256
        snapshot.fetched_at = timezone.now()
        snapshot.last_error = ""
        snapshot.last_error_at = None
        fields: dict[str, Any] = {
            "fetched_at": snapshot.fetched_at,
            "last_error": "",
            "last_error_at": None,
        }
        if changed:
            snapshot.payload = payload
            snapshot.payload_sha256 = encoded.sha256
            snapshot.version += 1
            fields["payload_sha256"] = encoded.sha256
            fields["version"] = snapshot.version
        # An unchanged payload is not written again.
        AccountSnapshot.objects.filter(pk=snapshot.pk).update(**fields)
        if changed:
            # The canonical text the digests were taken of is what is stored: encoded once.
            json_text_write(
                model=AccountSnapshot, pk=snapshot.pk, field_name="payload", text=encoded.text
            )
            accounts_rows_store(snapshot=snapshot, encoded=encoded)
    return snapshot


def accounts_sync_request(*, profile: Profile) -> bool:
    """Ask for a background sync of the user's accounts, enqueued once the transaction commits.

    Coalesced: while a sync is enqueued and has not started, further requests are covered by it
    (it will fetch after them), so a burst of webhooks and Refresh clicks makes one Atomic call.
    A request made while a sync runs enqueues the next one. True when this call enqueued.
    """
    now = timezone.now()
    snapshot, _ = AccountSnapshot.objects.get_or_create(profile=profile)
    # A job lost before it started (a worker killed, a broker flushed) must not block syncs
    # for ever: after this long its claim lapses.
    lapsed = now - timedelta(seconds=settings.PAYLINK_SYNC_QUEUED_LAPSE_SECONDS)
    claimed = (
        AccountSnapshot.objects.filter(pk=snapshot.pk)
        .filter(Q(sync_queued_at__isnull=True) | Q(sync_queued_at__lt=lapsed))
        .update(sync_queued_at=now, sync_requested_at=now)
    )
    if not claimed:
        AccountSnapshot.objects.filter(pk=snapshot.pk).update(sync_requested_at=now)
        return False
    transaction.on_commit(lambda: tasks.accounts_sync.enqueue(profile.pk))
    return True


def accounts_syncs_request(*, requests: Sequence[tuple[Profile, Mapping[str, str]]]) -> None:
    """`accounts_sync_request` for many people at once (the events of a worker's claim), each
    with the log fields its sync is to run under, in the caller's transaction and in a few
    statements where one each spent four or five: the snapshots made where missing (one
    INSERT), locked (one query), the syncs claimed (one UPDATE) and the requests a queued sync
    covers noted (one more), and the claimed syncs enqueued together on commit (`jobs_enqueue`).
    A person asked for twice is asked for once, with the first request's fields."""
    wanted: dict[int, Mapping[str, str]] = {}
    for profile, fields in requests:
        wanted.setdefault(profile.pk, fields)
    if not wanted:
        return
    now = timezone.now()
    AccountSnapshot.objects.bulk_create(
        [AccountSnapshot(profile_id=profile_id) for profile_id in wanted], ignore_conflicts=True
    )
    lapsed = now - timedelta(seconds=settings.PAYLINK_SYNC_QUEUED_LAPSE_SECONDS)
    # In one order by every caller, so two claims naming the same people never deadlock.
    snapshots = (
        AccountSnapshot.objects.select_for_update()
        .filter(profile_id__in=list(wanted))
        .order_by("pk")
        .values_list("pk", "profile_id", "sync_queued_at")
    )
    claimed: dict[int, int] = {}
    covered: list[int] = []
    for pk, profile_id, queued_at in snapshots:
        # As `accounts_sync_request`'s UPDATE decides: none queued, or its claim lapsed.
        if queued_at is None or queued_at < lapsed:
            claimed[pk] = profile_id
        else:
            covered.append(pk)
    if covered:
        AccountSnapshot.objects.filter(pk__in=covered).update(sync_requested_at=now)
    if not claimed:
        return
    AccountSnapshot.objects.filter(pk__in=list(claimed)).update(
        sync_queued_at=now, sync_requested_at=now
    )
    calls = [([profile_id], wanted[profile_id]) for profile_id in claimed.values()]
    transaction.on_commit(lambda: jobs_enqueue(tasks.accounts_sync, calls))


def accounts_sync_started(*, profile_id: int) -> None:
    """A queued sync begins: requests from now on need a run of their own."""
    AccountSnapshot.objects.filter(profile_id=profile_id).update(sync_queued_at=None)


def monitoring_end(*, profile: Profile) -> None:
    """End Atomic's continuous monitoring of the user and note when. Raises AtomicError."""
    client.atomic_client().user_end_monitoring(identifier=profile.identifier)
    profile.monitoring_ended_at = timezone.now()
    profile.save(update_fields=["monitoring_ended_at"])
