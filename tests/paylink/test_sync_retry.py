"""A background accounts sync that fails on a retryable answer heals by itself."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from paylink import tasks
from paylink.client import AtomicError
from paylink.models import AccountSnapshot
from paylink.services.accounts import accounts_sync
from paylink.services.sync_retry import sync_retry_delay
from tests.atomic_json import atomic_json

pytestmark = pytest.mark.django_db

HULU = atomic_json("accounts/hulu")
UNAVAILABLE = AtomicError("Atomic answered 503.", status=503, retryable=True)
REFUSED = AtomicError("Atomic answered 401.", status=401, retryable=False)


@pytest.fixture
def deferred(task_queue, settings):
    settings.PAYLINK_SYNC_RETRY_ATTEMPTS = 3
    settings.PAYLINK_SYNC_RETRY_BASE_SECONDS = 10
    settings.PAYLINK_SYNC_RETRY_MAX_SECONDS = 30
    return task_queue


def _run(profile_id: int, attempt: int, capture) -> None:
    with capture(execute=True):
        tasks.accounts_sync.call(profile_id, attempt)


def test_the_delay_doubles_up_to_the_cap_with_jitter(settings):
    settings.PAYLINK_SYNC_RETRY_BASE_SECONDS = 10
    settings.PAYLINK_SYNC_RETRY_MAX_SECONDS = 60
    rng = random.Random(7)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        delays = [sync_retry_delay(attempt=attempt, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        # Jittered: spread over the upper half, not all the same.
        assert max(delays) - min(delays) > ceiling / 4


def test_a_sync_that_fails_on_a_retryable_answer_is_retried_later(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = UNAVAILABLE
    before = timezone.now()
    _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    [retry] = deferred.results
    assert retry.args == [alice_profile.pk, 1]
    delay = (retry.task.run_after - before).total_seconds()
    assert 5 <= delay <= 11


def test_retries_stop_after_the_last_attempt(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = UNAVAILABLE
    for attempt in range(4):
        deferred.clear()
        from django.core.cache import cache

        cache.clear()  # as when each retry's turn has come
        _run(alice_profile.pk, attempt, django_capture_on_commit_callbacks)
        retries = [r.args for r in deferred.results]
        assert retries == ([[alice_profile.pk, attempt + 1]] if attempt < 3 else [])


def test_a_refusal_that_waiting_cannot_heal_is_not_retried(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = REFUSED
    _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    assert deferred.results == []
    assert "401" in AccountSnapshot.objects.get(profile=alice_profile).last_error


def test_a_storm_of_failed_syncs_leaves_one_retry_waiting_per_person(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = UNAVAILABLE
    for _ in range(5):
        _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    assert len(deferred.results) == 1


def test_a_retry_heals_the_copy_once_atomic_answers(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = UNAVAILABLE
    _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    atomic.accounts_get.side_effect = None
    atomic.accounts_get.return_value = HULU
    _run(alice_profile.pk, 1, django_capture_on_commit_callbacks)
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    assert snapshot.payload == HULU and snapshot.last_error_at is None


def test_a_retry_after_a_sync_that_succeeded_meanwhile_asks_nothing(
    alice_profile, atomic, deferred, django_capture_on_commit_callbacks
):
    atomic.accounts_get.side_effect = UNAVAILABLE
    _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    atomic.accounts_get.side_effect = None
    atomic.accounts_get.return_value = HULU
    accounts_sync(profile=alice_profile)  # a webhook's sync, before the retry's turn
    atomic.accounts_get.reset_mock()
    _run(alice_profile.pk, 1, django_capture_on_commit_callbacks)
    atomic.accounts_get.assert_not_called()


def test_without_a_backend_that_can_wait_the_failure_is_left_to_reconcile(
    alice_profile, atomic, django_capture_on_commit_callbacks
):
    # The immediate backend (tests, or a misconfigured host) cannot run a job later.
    atomic.accounts_get.side_effect = UNAVAILABLE
    _run(alice_profile.pk, 0, django_capture_on_commit_callbacks)
    snapshot = AccountSnapshot.objects.get(profile=alice_profile)
    assert snapshot.last_error_at is not None
    assert snapshot.last_error_at > timezone.now() - timedelta(minutes=1)


def test_the_dashboard_says_its_data_predates_a_failed_sync_and_that_it_will_retry(
    alice_client, alice_profile, atomic
):
    atomic.accounts_get.return_value = HULU
    accounts_sync(profile=alice_profile)
    atomic.accounts_get.side_effect = UNAVAILABLE
    accounts_sync(profile=alice_profile)
    html = alice_client.get("/").content.decode()
    assert "Showing what we had from" in html
    assert "try again by ourselves" in html
    atomic.accounts_get.side_effect = None
    accounts_sync(profile=alice_profile)
    assert "try again by ourselves" not in alice_client.get("/").content.decode()
