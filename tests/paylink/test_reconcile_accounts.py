"""Reconcile picks up every person whose accounts copy is behind: a failed last sync, or a
snapshot older than their last completed task."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from paylink.client import AtomicError
from paylink.models import AccountSnapshot, Profile, Task
from paylink.services.reconcile import reconcile_stale_profiles
from tests.atomic_json import atomic_json

pytestmark = pytest.mark.django_db

HULU = atomic_json("accounts/hulu")


def _snapshot(profile: Profile, *, fetched_ago: float | None, failed_ago: float | None) -> None:
    now = timezone.now()
    AccountSnapshot.objects.update_or_create(
        profile=profile,
        defaults={
            "fetched_at": None if fetched_ago is None else now - timedelta(seconds=fetched_ago),
            "last_error_at": None if failed_ago is None else now - timedelta(seconds=failed_ago),
            "last_error": "" if failed_ago is None else "Atomic answered 503.",
        },
    )


def _completed(profile: Profile, *, ago: float, atomic_id: str = "t-1") -> None:
    Task.objects.create(
        profile=profile,
        atomic_id=atomic_id,
        status="completed",
        finished_at=timezone.now() - timedelta(seconds=ago),
    )


def _picked() -> list[str]:
    return [p.user.username for p in reconcile_stale_profiles()]


def test_a_person_whose_last_sync_failed_is_picked_up(alice_profile):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    assert _picked() == ["alice"]


def test_a_person_whose_first_sync_failed_is_picked_up(alice_profile):
    _snapshot(alice_profile, fetched_ago=None, failed_ago=60)
    assert _picked() == ["alice"]


def test_a_person_whose_copy_is_older_than_their_last_completed_task_is_picked_up(
    alice_profile, bob_profile
):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=None)
    _completed(alice_profile, ago=60)
    # Bob finished a task and never had a snapshot at all.
    _completed(bob_profile, ago=60, atomic_id="t-2")
    assert _picked() == ["alice", "bob"]


def test_a_person_in_step_is_left_alone(alice_profile, bob_profile):
    _snapshot(alice_profile, fetched_ago=30, failed_ago=600)
    _completed(alice_profile, ago=60)
    _snapshot(bob_profile, fetched_ago=30, failed_ago=None)
    assert _picked() == []


def test_a_person_with_a_sync_already_queued_is_left_to_it(alice_profile):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    AccountSnapshot.objects.filter(profile=alice_profile).update(sync_queued_at=timezone.now())
    assert _picked() == []
    # A claim that lapsed (its job lost) no longer holds the person back.
    AccountSnapshot.objects.filter(profile=alice_profile).update(
        sync_queued_at=timezone.now() - timedelta(hours=1)
    )
    assert _picked() == ["alice"]


def test_the_command_heals_the_copy_and_reports_it(alice_profile, atomic):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    atomic.accounts_get.return_value = HULU
    out = StringIO()
    call_command("paylink_reconcile", stdout=out)
    assert "user alice: accounts synced (v1)" in out.getvalue()
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    assert snapshot.payload == HULU and snapshot.last_error_at is None
    assert _picked() == []


def test_a_sync_that_fails_again_is_an_error_of_the_run(alice_profile, atomic):
    from django.core.management.base import CommandError

    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    atomic.accounts_get.side_effect = AtomicError("Atomic answered 503.", status=503)
    with pytest.raises(CommandError):
        call_command("paylink_reconcile", stdout=StringIO(), stderr=StringIO())
    assert _picked() == ["alice"]


def test_each_sync_takes_its_turn_under_the_shared_budget(alice_profile, bob_profile, atomic):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    _snapshot(bob_profile, fetched_ago=None, failed_ago=60)
    atomic.accounts_get.return_value = HULU
    with mock.patch("paylink.services.reconcile.atomic_budget_wait") as budget:
        call_command("paylink_reconcile", stdout=StringIO())
    assert budget.call_count == 2


def test_the_sweep_enqueues_one_sync_per_person_and_never_twice(alice_profile, task_queue):
    _snapshot(alice_profile, fetched_ago=600, failed_ago=60)
    out = StringIO()
    call_command("paylink_reconcile", "--enqueue", stdout=out)
    call_command("paylink_reconcile", "--enqueue", stdout=StringIO())
    assert out.getvalue() == "Reconcile enqueued 0 task(s), 0 person(s) and 1 sync(s).\n"
    assert [(r.task.name, r.args) for r in task_queue.results] == [
        ("reconcile_profile_sync", [alice_profile.pk])
    ]
