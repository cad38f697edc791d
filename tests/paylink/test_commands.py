from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from paylink.client import AtomicError, TaskStatusReport, TaskSummary
from paylink.models import AccountSnapshot, Profile, Task


def profile_for(username: str) -> Profile:
    user = User.objects.create_user(username, password=f"{username}-pass-1234")
    return Profile.objects.create(user=user, identifier=f"hub_{username}")


@pytest.fixture
def atomic(atomic):
    """Atomic's answer to GET /accounts: two accounts."""
    atomic.accounts_get.return_value = {"accounts": [{"_id": "a1"}, {"_id": "a2"}]}
    return atomic


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Runs a command as from a shell: what it enqueues on commit runs too."""

    def run(*args: str) -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command(*args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    return run


def summary(task_id: str, status: str, **extra) -> TaskSummary:
    fields = {
        "fail_reason": None,
        "authenticated": None,
        "product": None,
        "company_id": None,
        "company_name": None,
        "created_at": None,
    }
    return TaskSummary(id=task_id, status=status, **(fields | extra))


def stuck(profile: Profile, atomic_id: str, status: str, *, age: int = 600) -> Task:
    task = Task.objects.create(profile=profile, atomic_id=atomic_id, status=status)
    Task.objects.filter(pk=task.pk).update(updated_at=timezone.now() - timedelta(seconds=age))
    return task


def test_sync_of_one_user_prints_the_count_and_version(alice_profile, bob_profile, atomic, run):
    out, _ = run("paylink_sync", "--user", "alice")
    assert out == "alice: 2 accounts, version 1\n"
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")
    assert not AccountSnapshot.objects.filter(profile=bob_profile).exists()


def test_sync_of_everyone_reports_each_user_and_fails_at_the_end(
    alice_profile, bob_profile, atomic
):
    atomic.accounts_get.side_effect = [
        {"accounts": []},
        AtomicError("Atomic answered 401 to GET /hub_bob/pay-link/accounts.", status=401),
    ]
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 user"):
        call_command("paylink_sync", "--all", stdout=out, stderr=err)
    assert out.getvalue() == "alice: 0 accounts, version 1\n"
    assert "bob: failed: Atomic answered 401" in err.getvalue()


def test_sync_of_an_unknown_user_is_a_clear_error(db, atomic, run):
    with pytest.raises(CommandError, match="No PayLink profile for user 'carol'"):
        run("paylink_sync", "--user", "carol")


def test_sync_needs_a_user_or_all(db, run):
    with pytest.raises(CommandError):
        run("paylink_sync")


def test_reconcile_moves_stuck_tasks_forward(alice_profile, atomic, settings, run):
    settings.PAYLINK_RECONCILE_AFTER_SECONDS = 300
    stuck(alice_profile, "t-old", "processing")
    stuck(alice_profile, "t-young", "queued", age=10)
    stuck(alice_profile, "t-done", "completed")
    atomic.task_status_get.return_value = TaskStatusReport(
        status="failed", fail_reason="payment-method-declined", created_at=None
    )
    out, _ = run("paylink_reconcile")
    atomic.task_status_get.assert_called_once_with(task_id="t-old")
    task = Task.objects.get(atomic_id="t-old")
    assert (task.status, task.fail_reason) == ("failed", "payment-method-declined")
    assert task.status_checked_at is not None
    assert "task t-old: processing -> failed" in out
    assert out.endswith("Reconcile finished.\n")


def test_reconcile_syncs_accounts_when_a_stuck_task_completed(alice_profile, atomic, run):
    stuck(alice_profile, "t-old", "processing")
    atomic.task_status_get.return_value = TaskStatusReport(
        status="completed", fail_reason=None, created_at=None
    )
    run("paylink_reconcile")
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")


def opened_transact(*profiles: Profile, ago: int = 60) -> None:
    at = timezone.now() - timedelta(seconds=ago)
    Profile.objects.filter(pk__in=[p.pk for p in profiles]).update(transact_opened_at=at)


def test_reconcile_records_tasks_the_host_never_heard_of(alice_profile, bob_profile, atomic, run):
    opened_transact(alice_profile)
    stuck(alice_profile, "t-known", "completed")
    atomic.user_tasks_list.return_value = [
        summary("t-known", "completed"),
        summary("t-new", "failed", fail_reason="bad-credentials", company_name="Hulu"),
    ]
    out, _ = run("paylink_reconcile")
    # bob never launched anything, so Atomic is not asked about him.
    atomic.user_tasks_list.assert_called_once_with(identifier="hub_alice")
    new = Task.objects.get(atomic_id="t-new")
    assert (new.profile, new.status, new.fail_reason, new.company_name) == (
        alice_profile,
        "failed",
        "bad-credentials",
        "Hulu",
    )
    assert "user alice: recorded task t-new (failed)" in out


def test_a_first_task_finished_during_an_outage_arrives_with_its_accounts(
    alice_profile, atomic, run
):
    # The host was down through Atomic's retries: it never heard of the task at all.
    opened_transact(alice_profile, ago=600)
    atomic.user_tasks_list.return_value = [summary("t-lost", "completed", company_name="Hulu")]

    run("paylink_reconcile")

    assert Task.objects.get(atomic_id="t-lost").status == "completed"
    atomic.accounts_get.assert_called_once_with(identifier="hub_alice")


def test_reconcile_reads_only_the_task_lists_of_people_who_opened_transact_lately(
    alice_profile, bob_profile, atomic, run, settings
):
    settings.PAYLINK_TOKEN_LIFETIME, settings.PAYLINK_RECONCILE_SETTLE_SECONDS = 1800, 3600
    carol = profile_for("carol")
    opened_transact(alice_profile, ago=60)
    opened_transact(bob_profile, ago=2 * 86400)  # long ago, and read since
    Profile.objects.filter(pk=bob_profile.pk).update(
        tasks_listed_at=timezone.now() - timedelta(days=1)
    )
    AccountSnapshot.objects.create(profile=carol)  # synced, but never opened Transact

    run("paylink_reconcile")
    run("paylink_reconcile")

    listed = [c.kwargs["identifier"] for c in atomic.user_tasks_list.call_args_list]
    assert listed == ["hub_alice", "hub_alice"]
    # Her token and the settling time ran out after her last read: one more read, then none.
    opened_transact(alice_profile, ago=1800 + 3600 + 60)
    Profile.objects.filter(pk=alice_profile.pk).update(
        tasks_listed_at=timezone.now() - timedelta(seconds=90)
    )
    run("paylink_reconcile")
    run("paylink_reconcile")
    assert atomic.user_tasks_list.call_count == 3


def test_the_enqueue_mode_fans_out_one_job_per_unit_and_never_twice(
    alice_profile, bob_profile, atomic, task_queue
):
    queue = task_queue
    stuck(alice_profile, "t-a", "processing")
    stuck(bob_profile, "t-b", "queued")
    opened_transact(alice_profile)

    out = StringIO()
    call_command("paylink_reconcile", "--enqueue", stdout=out)
    call_command("paylink_reconcile", "--enqueue", stdout=StringIO())

    assert out.getvalue() == "Reconcile enqueued 2 task(s), 1 person(s) and 0 sync(s).\n"
    assert sorted(r.task.name for r in queue.results) == [
        "reconcile_profile_tasks",
        "reconcile_task_check",
        "reconcile_task_check",
    ]
    atomic.task_status_get.assert_not_called()


def test_reconcile_reports_errors_and_carries_on(
    alice_profile, bob_profile, atomic, django_capture_on_commit_callbacks
):
    stuck(alice_profile, "t-a", "processing")
    stuck(alice_profile, "t-b", "processing")
    opened_transact(alice_profile, bob_profile)
    atomic.task_status_get.side_effect = [
        AtomicError("Atomic answered 404 to GET /task/t-a/status.", status=404),
        TaskStatusReport(status="processing", fail_reason=None, created_at=None),
    ]
    atomic.user_tasks_list.side_effect = [
        AtomicError("Could not reach Atomic.", retryable=True),
        [summary("t-bob", "queued")],
    ]
    out, err = StringIO(), StringIO()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CommandError, match=r"finished with 2 error\(s\)"),
    ):
        call_command("paylink_reconcile", stdout=out, stderr=err)
    out, err = out.getvalue(), err.getvalue()
    assert "task t-a: Atomic answered 404" in err
    assert "task t-b: still processing" in out
    assert "user alice: Could not reach Atomic." in err
    assert Task.objects.get(atomic_id="t-bob").profile == bob_profile


def test_reconcile_never_moves_another_users_task(alice_profile, bob_profile, atomic, run):
    stuck(bob_profile, "t-bob", "queued", age=0)
    opened_transact(alice_profile)
    atomic.user_tasks_list.side_effect = lambda identifier: (
        [summary("t-bob", "completed")] if identifier == "hub_alice" else []
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("paylink_reconcile", stdout=StringIO(), stderr=err)
    err = err.getvalue()
    task = Task.objects.get(atomic_id="t-bob")
    assert (task.profile, task.status) == (bob_profile, "queued")
    assert "belongs to another user" in err


def test_reconcile_calls_share_a_per_second_budget(settings):
    from paylink.services.reconcile import atomic_budget_wait

    settings.PAYLINK_RECONCILE_CALLS_PER_SECOND = 2
    with mock.patch("paylink.services.reconcile.time") as clock:
        clock.time.side_effect = [1000.2, 1000.4, 1000.6, 1000.7, 1001.1]
        for _ in range(3):
            atomic_budget_wait()
    # The third call found this second's two spent and waited for the next one.
    clock.sleep.assert_called_once()
    assert 0.2 < clock.sleep.call_args.args[0] <= 0.4
