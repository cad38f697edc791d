"""A task id from the browser is recorded only once Atomic names its user; unconfirmed ids
wait unlisted, are asked about only to confirm them, and expire."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from paylink.client import AtomicError
from paylink.models import SdkEvent, Task
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import TaskOwnershipError, task_record
from tests.paylink.test_sdk_events import details_of

pytestmark = pytest.mark.django_db

NOT_FOUND = AtomicError("Atomic answered 404 to GET /task/x/details.", status=404)
AWAY = AtomicError("Atomic did not answer in time.", retryable=True)


@pytest.fixture(autouse=True)
def _no_poll_window(settings):
    # Each poll here asks Atomic afresh; the window has tests of its own.
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 0


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def sync():
    with (
        mock.patch("paylink.services.sdk_events.accounts_sync_request") as on_finish,
        mock.patch("paylink.services.tasks.accounts_sync_request") as on_confirm,
    ):
        yield on_finish, on_confirm


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    """The task page's poll, with the background status check it enqueues run as it would be."""

    def get(client: Client, path: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.get(path, **extra)

    return get


def _finish(client: Client, task_id: str):
    body = json.dumps({"kind": "finish", "payload": {"taskId": task_id}})
    return client.post("/hub/events/", body, content_type="application/json")


def test_a_finish_is_recorded_with_what_atomic_says_once_it_names_alice(
    alice_client, alice, atomic, sync
):
    atomic.task_details_get.return_value = details_of("t-1", owner=alice, status="processing")
    response = _finish(alice_client, "t-1")
    assert response.status_code == 200
    atomic.task_details_get.assert_called_once_with(task_id="t-1")
    task = Task.objects.get(atomic_id="t-1")
    assert task.profile.user == alice
    assert (task.status, task.company_name, task.awaiting_confirmation) == (
        "processing",
        "Hulu",
        False,
    )
    sync[0].assert_called_once_with(profile=task.profile)


def test_bob_reporting_alices_unrecorded_task_is_a_404_that_records_nothing(
    bob_client, alice, atomic, sync
):
    atomic.task_details_get.return_value = details_of("t-alice", owner=alice)
    response = _finish(bob_client, "t-alice")
    assert response.status_code == 404
    assert response.json() == {"error": "No such task."}
    assert not Task.objects.exists()
    assert not SdkEvent.objects.exists()
    sync[0].assert_not_called()


def test_a_made_up_task_id_is_a_404_that_records_nothing(alice_client, atomic, sync):
    atomic.task_details_get.side_effect = NOT_FOUND
    response = _finish(alice_client, "made-up-1")
    assert response.status_code == 404
    assert not Task.objects.exists()
    sync[0].assert_not_called()


def test_when_atomic_cannot_be_asked_the_task_waits_unlisted_and_unsynced(
    alice_client, atomic, sync
):
    atomic.task_details_get.side_effect = AWAY
    response = _finish(alice_client, "t-1")
    assert response.status_code == 200
    assert response.json()["statusUrl"] == "/hub/tasks/t-1/"
    assert Task.objects.get(atomic_id="t-1").awaiting_confirmation is True
    assert "/hub/tasks/t-1/" not in alice_client.get("/hub/").content.decode()
    sync[0].assert_not_called()


def test_an_unconfirmed_task_page_asks_whose_it_is_never_its_status_until_then(
    alice_client, alice, atomic, sync, poll
):
    Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="t-1", awaiting_confirmation=True
    )
    atomic.task_details_get.side_effect = AWAY
    response = poll(alice_client, "/hub/tasks/t-1/")
    assert response.status_code == 200
    assert "We're confirming this request with Atomic first." in response.content.decode()
    atomic.task_status_get.assert_not_called()
    assert Task.objects.get().awaiting_confirmation is True

    atomic.task_details_get.side_effect = None
    atomic.task_details_get.return_value = details_of("t-1", owner=alice, status="completed")
    poll(alice_client, "/hub/tasks/t-1/", headers={"hx-request": "true"})
    task = Task.objects.get()
    assert (task.status, task.awaiting_confirmation) == ("completed", False)
    atomic.task_status_get.assert_not_called()
    sync[1].assert_called_once_with(profile=task.profile)
    assert "/hub/tasks/t-1/" in alice_client.get("/hub/").content.decode()


def test_a_task_bob_claimed_while_atomic_was_away_goes_to_alice_and_is_a_404_for_bob(
    bob_client, bob, alice, atomic, sync, poll
):
    atomic.task_details_get.side_effect = AWAY
    assert _finish(bob_client, "t-alice").status_code == 200
    atomic.task_details_get.side_effect = None
    atomic.task_details_get.return_value = details_of("t-alice", owner=alice, status="processing")
    # The poll's background check learns whose it is; from then on bob finds nothing there.
    poll(bob_client, "/hub/tasks/t-alice/")
    response = bob_client.get("/hub/tasks/t-alice/")
    assert response.status_code == 404
    task = Task.objects.get()
    assert (task.profile.user, task.status, task.awaiting_confirmation) == (
        alice,
        "processing",
        False,
    )
    assert "Hulu" not in response.content.decode()


def test_an_unconfirmed_task_atomic_does_not_know_is_dropped_and_a_404(
    alice_client, alice, atomic, poll
):
    Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="made-up", awaiting_confirmation=True
    )
    atomic.task_details_get.side_effect = NOT_FOUND
    poll(alice_client, "/hub/tasks/made-up/")
    assert alice_client.get("/hub/tasks/made-up/").status_code == 404
    assert not Task.objects.exists()


def test_a_signed_webhooks_word_takes_a_claimed_task_back_from_the_claimant(alice, bob):
    claimed = Task.objects.create(
        profile=profile_for_user(user=bob),
        atomic_id="t-alice",
        awaiting_confirmation=True,
        operation="action",
        account_id="acc-bob",
    )
    change = task_record(profile=profile_for_user(user=alice), atomic_id="t-alice", status="failed")
    claimed.refresh_from_db()
    assert change.task.pk == claimed.pk
    assert (claimed.profile.user, claimed.status, claimed.awaiting_confirmation) == (
        alice,
        "failed",
        False,
    )
    # What bob's browser said it launched goes with his claim.
    assert (claimed.operation, claimed.account_id) == ("", "")


def test_a_confirmed_task_is_never_taken_by_another_users_word(alice, bob):
    Task.objects.create(profile=profile_for_user(user=alice), atomic_id="t-alice")
    with pytest.raises(TaskOwnershipError):
        task_record(profile=profile_for_user(user=bob), atomic_id="t-alice", status="failed")


def _reconcile() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("paylink_reconcile", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_reconcile_expires_unconfirmed_tasks_and_gives_up_on_ids_atomic_does_not_know(
    alice, atomic, settings
):
    settings.PAYLINK_RECONCILE_AFTER_SECONDS = 0
    settings.PAYLINK_UNCONFIRMED_TASK_SECONDS = 3600
    profile = profile_for_user(user=alice)
    old = Task.objects.create(profile=profile, atomic_id="old-made-up", awaiting_confirmation=True)
    Task.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    for number in range(5):
        Task.objects.create(
            profile=profile, atomic_id=f"made-up-{number}", awaiting_confirmation=True
        )
    Task.objects.update(updated_at=timezone.now() - timedelta(minutes=10))
    atomic.task_details_get.side_effect = NOT_FOUND
    atomic.user_tasks_list.return_value = []
    out, err = _reconcile()
    assert not Task.objects.exists()
    assert "1 unconfirmed task(s) expired" in out
    assert out.count("dropped") == 5
    assert err == ""
    # The expired one was never asked about.
    asked = [call.kwargs["task_id"] for call in atomic.task_details_get.call_args_list]
    assert "old-made-up" not in asked
    atomic.task_status_get.assert_not_called()


def test_when_atomic_refuses_the_hosts_key_the_task_waits_instead_of_being_called_unknown(
    alice_client, atomic, sync
):
    atomic.task_details_get.side_effect = AtomicError("Atomic answered 401.", status=401)
    response = _finish(alice_client, "t-1")
    assert response.status_code == 200
    assert Task.objects.get().awaiting_confirmation is True


def test_while_atomic_cannot_be_asked_bobs_claim_never_hides_alices_own_task_from_her(
    alice_client, bob_client, alice, bob, atomic, sync, poll
):
    atomic.task_details_get.side_effect = AWAY
    # Bob's browser reports alice's task id first; then alice's own browser reports it.
    assert _finish(bob_client, "t-alice").status_code == 200
    body = json.dumps(
        {
            "kind": "finish",
            "payload": {"taskId": "t-alice"},
            "launch": {"operation": "action", "actionType": "pause-plan", "accountId": "a-1"},
        }
    )
    response = alice_client.post("/hub/events/", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["statusUrl"] == "/hub/tasks/t-alice/"
    # Alice sees her own request, as her browser launched it, while it waits for Atomic.
    page = poll(alice_client, "/hub/tasks/t-alice/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "We're confirming this request with Atomic first." in html
    assert "<dt>Request</dt><dd>Pause</dd>" in html
    # Bob's view is his own claim's, never alice's launch (and no cache shares one with him).
    assert "<dd>Pause</dd>" not in bob_client.get("/hub/tasks/t-alice/").content.decode()

    # Atomic answers: the task is alice's, with what her browser said; bob's claim is gone.
    atomic.task_details_get.side_effect = None
    atomic.task_details_get.return_value = details_of("t-alice", owner=alice, status="processing")
    poll(alice_client, "/hub/tasks/t-alice/")
    task = Task.objects.get()
    assert (task.profile.user, task.awaiting_confirmation) == (alice, False)
    assert (task.operation, task.action_type, task.account_id) == ("action", "pause-plan", "a-1")
    assert not task.claims.exists()
    assert bob_client.get("/hub/tasks/t-alice/").status_code == 404
    assert alice_client.get("/hub/tasks/t-alice/").status_code == 200


def test_a_confirmed_task_still_refuses_another_users_claim(alice, bob, atomic):
    task_record(profile=profile_for_user(user=alice), atomic_id="t-1", status="processing")
    with pytest.raises(TaskOwnershipError):
        task_record(profile=profile_for_user(user=bob), atomic_id="t-1", confirmed=False)
