"""Each place that counts: rate limits and the sign-in throttle, reminder emails, syncs and
reconcile. Each test reads this process's counters before and after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core.mail import EmailMultiAlternatives

from paylink import tasks
from paylink.client import AtomicError
from paylink.lib.login_throttle import login_attempt_begin
from paylink.observability import metrics
from paylink.services.accounts import accounts_sync
from reminders.services.delivery import reminders_send
from tests.paylink.bills import bill_account, preferences_of, snapshot_with
from tests.paylink.observability.values import counted, observed

pytestmark = pytest.mark.django_db


def test_a_rate_limited_request_is_counted_under_its_limits_name(alice_client, atomic, settings):
    settings.PAYLINK_RATE_LIMITS = dict.fromkeys(settings.PAYLINK_RATE_LIMITS, "1/60")
    atomic.access_token_create.return_value = "tok"
    before = counted(metrics.REFUSALS, "rate_limit", "hub_token")
    alice_client.post("/hub/token/")
    assert counted(metrics.REFUSALS, "rate_limit", "hub_token") == before
    assert alice_client.post("/hub/token/").status_code == 429
    assert counted(metrics.REFUSALS, "rate_limit", "hub_token") == before + 1


def test_a_sign_in_refused_by_the_throttle_is_counted(settings):
    settings.PAYLINK_SIGNIN_PAIR_FAILURES = 2
    before = counted(metrics.REFUSALS, "sign_in_throttle", "sign_in")
    for _ in range(2):
        assert login_attempt_begin(username="alice", address="192.0.2.9") is None
    assert login_attempt_begin(username="alice", address="192.0.2.9") is not None
    assert counted(metrics.REFUSALS, "sign_in_throttle", "sign_in") == before + 1


def test_reminder_emails_are_counted_sent_and_failed(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, bill_account(account_id="acct-1", biller="Hulu", due=date(2026, 12, 3)))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    sent, failed = (
        counted(metrics.REMINDER_EMAILS, "due", "sent"),
        counted(metrics.REMINDER_EMAILS, "due", "failed"),
    )
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("down")):
        reminders_send(now=now)
    reminders_send(now=now)
    assert counted(metrics.REMINDER_EMAILS, "due", "failed") == failed + 1
    assert counted(metrics.REMINDER_EMAILS, "due", "sent") == sent + 1


def test_syncs_are_counted_and_timed_ok_or_failed(alice_profile, atomic):
    ok, failed = counted(metrics.SYNCS, "ok"), counted(metrics.SYNCS, "failed")
    timed, _ = observed(metrics.SYNC_SECONDS)
    atomic.accounts_get.return_value = {"accounts": []}
    accounts_sync(profile=alice_profile)
    atomic.accounts_get.side_effect = AtomicError("Atomic answered 503.", status=503)
    accounts_sync(profile=alice_profile)
    assert (counted(metrics.SYNCS, "ok"), counted(metrics.SYNCS, "failed")) == (ok + 1, failed + 1)
    assert observed(metrics.SYNC_SECONDS)[0] == timed + 2


def test_reconcile_runs_are_counted_and_a_second_copy_counts_as_skipped(task_queue):
    ok, skipped = counted(metrics.RECONCILE_RUNS, "ok"), counted(metrics.RECONCILE_RUNS, "skipped")
    tasks.reconcile.call()
    with mock.patch("paylink.lib.job_lock.cache") as lock_cache:
        lock_cache.add.return_value = False
        tasks.reconcile.call()
    assert counted(metrics.RECONCILE_RUNS, "ok") == ok + 1
    assert counted(metrics.RECONCILE_RUNS, "skipped") == skipped + 1
