from __future__ import annotations

import json

import pytest

from paylink.client import AtomicError
from paylink.models import AccountSnapshot
from paylink.services.accounts import accounts_sync, accounts_sync_request, monitoring_end
from tests.atomic_json import atomic_json

HULU = atomic_json("accounts/hulu")


@pytest.fixture
def atomic(atomic):
    """Atomic's answer to GET /accounts: Hulu's account."""
    atomic.accounts_get.return_value = HULU
    return atomic


def test_the_first_sync_stores_the_payload_as_version_one(alice_profile, atomic):
    snapshot = accounts_sync(profile=alice_profile)
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")
    assert snapshot.payload == HULU
    assert snapshot.version == 1
    assert snapshot.fetched_at is not None
    assert len(snapshot.payload_sha256) == 64


def test_an_unchanged_payload_keeps_the_version(alice_profile, atomic):
    first = accounts_sync(profile=alice_profile)
    # The same data with keys in another order is the same data.
    atomic.accounts_get.return_value = json.loads(
        json.dumps(HULU), object_pairs_hook=lambda p: dict(reversed(p))
    )
    second = accounts_sync(profile=alice_profile)
    assert second.version == 1
    assert second.fetched_at > first.fetched_at


def test_a_changed_payload_bumps_the_version(alice_profile, atomic):
    accounts_sync(profile=alice_profile)
    atomic.accounts_get.return_value = {"accounts": []}
    snapshot = accounts_sync(profile=alice_profile)
    assert (snapshot.version, snapshot.payload) == (2, {"accounts": []})


def test_an_error_keeps_the_old_payload_and_is_recorded(alice_profile, atomic):
    accounts_sync(profile=alice_profile)
    atomic.accounts_get.side_effect = AtomicError(
        "Atomic answered 503 to GET /hub_alice/pay-link/accounts.", status=503, retryable=True
    )
    snapshot = accounts_sync(profile=alice_profile)
    assert snapshot.payload == HULU
    assert snapshot.version == 1
    assert "503" in snapshot.last_error
    assert snapshot.last_error_at is not None


def test_a_first_sync_that_fails_leaves_an_empty_snapshot_with_the_error(alice_profile, atomic):
    atomic.accounts_get.side_effect = AtomicError("Could not reach Atomic.", retryable=True)
    snapshot = accounts_sync(profile=alice_profile)
    assert (snapshot.version, snapshot.payload, snapshot.fetched_at) == (0, {}, None)
    assert snapshot.last_error == "Could not reach Atomic."


def test_a_success_clears_the_last_error(alice_profile, atomic):
    atomic.accounts_get.side_effect = AtomicError("Could not reach Atomic.", retryable=True)
    accounts_sync(profile=alice_profile)
    atomic.accounts_get.side_effect = None
    snapshot = accounts_sync(profile=alice_profile)
    assert (snapshot.last_error, snapshot.last_error_at) == ("", None)


def test_a_request_marks_the_time_and_syncs_after_commit(
    alice_profile, atomic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        accounts_sync_request(profile=alice_profile)
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    assert snapshot.sync_requested_at is not None
    atomic.accounts_get.assert_not_called()
    # The sync is one of what waits for the commit (the person's kept page is retired too).
    for callback in callbacks:
        callback()
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")
    assert AccountSnapshot.objects.get(profile=alice_profile).version == 1


def test_thirty_requests_while_a_sync_is_queued_make_one_sync(
    alice_profile, atomic, task_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueued = [accounts_sync_request(profile=alice_profile) for _ in range(30)]

    assert enqueued == [True] + [False] * 29
    assert len(task_queue.results) == 1
    from paylink.tasks import accounts_sync

    accounts_sync.call(alice_profile.pk)
    atomic.accounts_get.assert_called_once()


def test_a_request_while_a_sync_runs_enqueues_the_next_one(
    alice_profile, atomic, task_queue, django_capture_on_commit_callbacks
):
    from paylink.tasks import accounts_sync

    with django_capture_on_commit_callbacks(execute=True):
        accounts_sync_request(profile=alice_profile)

    # The queued job starts; a change arrives while it fetches, which it may not have seen.
    def fetch_while_a_change_arrives(**_):
        accounts_sync_request(profile=alice_profile)
        return HULU

    atomic.accounts_get.side_effect = fetch_while_a_change_arrives
    with django_capture_on_commit_callbacks(execute=True):
        accounts_sync.call(alice_profile.pk)

    assert len(task_queue.results) == 2


def test_a_claim_whose_job_was_lost_lapses(alice_profile, atomic, task_queue, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.PAYLINK_SYNC_QUEUED_LAPSE_SECONDS = 300
    accounts_sync_request(profile=alice_profile)
    AccountSnapshot.objects.filter(profile=alice_profile).update(
        sync_queued_at=timezone.now() - timedelta(seconds=301)
    )

    assert accounts_sync_request(profile=alice_profile) is True


def test_the_sync_task_ignores_a_deleted_profile(alice_profile, atomic):
    from paylink.tasks import accounts_sync

    profile_id = alice_profile.pk
    alice_profile.user.delete()
    accounts_sync.call(profile_id)
    atomic.accounts_get.assert_not_called()


def test_ending_monitoring_calls_atomic_and_notes_the_time(alice_profile, atomic):
    monitoring_end(profile=alice_profile)
    atomic.user_end_monitoring.assert_called_once_with(identifier="hub_alice")
    alice_profile.refresh_from_db()
    assert alice_profile.monitoring_ended_at is not None


def test_ending_monitoring_that_fails_changes_nothing(alice_profile, atomic):
    atomic.user_end_monitoring.side_effect = AtomicError("Atomic answered 404.", status=404)
    with pytest.raises(AtomicError):
        monitoring_end(profile=alice_profile)
    alice_profile.refresh_from_db()
    assert alice_profile.monitoring_ended_at is None
