from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from paylink.client import AtomicError, TaskStatusReport
from paylink.fail_reasons import FAIL_REASON_SENTENCES, fail_reason_sentence
from paylink.models import Task, TaskStatus
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import task_record

pytestmark = pytest.mark.django_db

URL = "/hub/tasks/task-1/"
HTMX = {"hx-request": "true"}


@pytest.fixture
def task(alice: User) -> Task:
    return Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="task-1", company_name="Hulu"
    )


def _status(status: str, fail_reason: str | None = None) -> TaskStatusReport:
    return TaskStatusReport(status=status, fail_reason=fail_reason, created_at=None)


@pytest.fixture
def polled(alice_client, django_capture_on_commit_callbacks):
    """Polls twice: the first poll has Atomic asked in the background (run here, inline, once
    it commits), the second answers with what Atomic said."""

    def poll(*, headers: dict[str, str] | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.get(URL, headers=headers or {})
        return alice_client.get(URL, headers=headers or {})

    return poll


def test_the_full_page_marks_the_status_line_for_the_pages_live_region(polled, task, atomic):
    atomic.task_status_get.return_value = _status("processing")
    response = polled()
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Hulu" in html
    # The polled box is redrawn whole: announce.js reads its line through the page's one live
    # region when the state changes, so the box itself is no live region.
    assert '<div id="status-announcer" class="visually-hidden" role="status"' in html
    assert 'data-announce-key="task-task-1" data-announce-state="processing"' in html
    # The one other live region is the launcher's, for "Try again" on a failure (hub.js).
    assert html.count('aria-live="polite"') == 2
    assert 'id="paylink-transact-messages"' in html
    assert "In progress" in html
    assert 'hx-trigger="every 2s"' in html


@pytest.mark.parametrize("status", TaskStatus.values)
def test_the_page_has_its_own_sentence_for_every_status_the_host_knows(
    alice_client, task, atomic, status
):
    Task.objects.filter(pk=task.pk).update(status=status, fail_reason="bad-credentials")
    page = alice_client.get(URL, headers=HTMX).content.decode()
    assert "Atomic reports this request as" not in page


def test_an_htmx_poll_gets_only_the_partial_which_keeps_polling(alice_client, task, atomic):
    atomic.task_status_get.return_value = _status("queued")
    response = alice_client.get("/hub/tasks/task-1/", headers={"hx-request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'hx-get="/hub/tasks/task-1/"' in html
    assert 'hx-swap="outerHTML"' in html
    assert "HX-Trigger" not in response


def test_a_finished_task_stops_polling_with_286_and_announces_itself(polled, task, atomic):
    task.account_id = "acc-9"
    task.save()
    atomic.task_status_get.return_value = _status("completed")
    response = polled(headers=HTMX)
    assert response.status_code == 286
    html = response.content.decode()
    assert "hx-get" not in html
    assert "Completed" in html
    detail = {"taskId": "task-1", "status": "completed", "accountId": "acc-9"}
    assert json.loads(response["HX-Trigger"]) == {
        "paylink:task-finished": detail,
        "paylink:task-completed": detail,
    }
    task.refresh_from_db()
    assert task.status == "completed"
    assert task.status_checked_at is not None


def test_two_polls_within_the_window_ask_atomic_once(
    alice_client, task, atomic, settings, django_capture_on_commit_callbacks
):
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 60
    atomic.task_status_get.return_value = _status("processing")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert alice_client.get(URL, headers=HTMX).status_code == 200
    atomic.task_status_get.assert_called_once_with(task_id="task-1")


def test_a_poll_never_waits_on_atomic(
    alice_client, task, atomic, django_capture_on_commit_callbacks
):
    atomic.task_status_get.return_value = _status("completed")
    with django_capture_on_commit_callbacks() as enqueued:
        response = alice_client.get(URL, headers=HTMX)
    # Answered from the local row; the check is only enqueued, to run once the request commits.
    assert response.status_code == 200 and "Queued" in response.content.decode()
    atomic.task_status_get.assert_not_called()
    assert len(enqueued) == 1


def test_a_poll_when_nothing_changed_is_answered_from_the_cache_in_two_queries(
    alice_client, task, atomic, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    atomic.task_status_get.return_value = _status("processing")
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(URL, headers=HTMX)
    alice_client.get(URL, headers=HTMX)
    # The session and the user; the task row comes from the cache, Atomic is not asked.
    with django_assert_max_num_queries(2):
        response = alice_client.get(URL, headers=HTMX)
    assert "In progress" in response.content.decode()
    atomic.task_status_get.assert_called_once()


def test_a_finished_task_is_answered_from_the_cache_in_two_queries(
    alice_client, task, django_assert_max_num_queries
):
    task.status = "completed"
    task.save()
    alice_client.get(URL, headers=HTMX)
    with django_assert_max_num_queries(2):
        assert alice_client.get(URL, headers=HTMX).status_code == 286


def test_a_change_heard_by_webhook_shows_on_the_next_poll(alice_client, task, atomic, settings):
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 60
    assert "Queued" in alice_client.get(URL, headers=HTMX).content.decode()
    task_record(profile=task.profile, atomic_id="task-1", status="processing")
    assert "In progress" in alice_client.get(URL, headers=HTMX).content.decode()
    atomic.task_status_get.assert_not_called()


def test_a_cached_task_is_still_a_404_for_bob(alice_client, task, client, bob):
    alice_client.get(URL, headers=HTMX)
    client.force_login(bob)
    assert client.get(URL, headers=HTMX).status_code == 404


def test_a_terminal_task_is_not_asked_about_again(polled, task, atomic):
    task.status = "failed"
    task.fail_reason = "bad-credentials"
    task.save()
    response = polled(headers=HTMX)
    assert response.status_code == 286
    atomic.task_status_get.assert_not_called()


def test_the_status_never_moves_backwards(polled, task, atomic):
    task.status = "processing"
    task.save()
    atomic.task_status_get.return_value = _status("queued")
    polled(headers=HTMX)
    atomic.task_status_get.assert_called_once()
    task.refresh_from_db()
    assert task.status == "processing"


def test_an_atomic_error_while_polling_shows_the_local_row(polled, task, atomic):
    atomic.task_status_get.side_effect = AtomicError("Atomic timed out.", retryable=True)
    response = polled(headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Queued" in html
    assert "Still checking" in html
    assert "hx-get" in html


def test_a_failure_reads_as_a_sentence(polled, task, atomic):
    atomic.task_status_get.return_value = _status("failed", "bad-credentials")
    response = polled(headers=HTMX)
    assert response.status_code == 286
    assert (
        "The username or password wasn&#x27;t accepted by the company. Check them and try again."
        in response.content.decode()
    )
    # A failure changes no accounts, so the dashboard is not told to wait for a sync.
    assert list(json.loads(response["HX-Trigger"])) == ["paylink:task-finished"]


def test_an_unknown_fail_reason_is_named_and_escaped(polled, task, atomic):
    atomic.task_status_get.return_value = _status("failed", "<b>new-reason</b>")
    html = polled().content.decode()
    assert "(reason: &lt;b&gt;new-reason&lt;/b&gt;)" in html
    assert "<b>new-reason" not in html


def test_an_unknown_status_is_shown_plainly_and_keeps_polling(polled, task, atomic):
    atomic.task_status_get.return_value = _status("paused-by-company")
    html = polled(headers=HTMX).content.decode()
    assert "hx-get" in html
    assert "paused-by-company" in html


def test_bobs_task_is_a_404_for_alice(alice_client, atomic, bob):
    Task.objects.create(profile=profile_for_user(user=bob), atomic_id="task-bob")
    assert alice_client.get("/hub/tasks/task-bob/").status_code == 404
    assert alice_client.get("/hub/tasks/no-such-task/").status_code == 404
    atomic.task_status_get.assert_not_called()


@pytest.mark.parametrize(
    "reason",
    [
        "subscription-inactive",
        "subscription-managed-by-partner-provider",
        "payment-method-locked",
        "payment-method-not-supported",
        "payment-method-insufficient-funds",
        "payment-method-limit-reached",
        "payment-method-declined",
        "payment-token-expired",
        "payment-switch-unsuccessful",
        "bad-credentials",
        "account-lockout",
        "connection-error",
        "session-timeout",
        "system-unavailable",
        "device-disconnected",
        "user-abandon",
        "unknown-failure",
    ],
)
def test_every_documented_fail_reason_has_its_own_sentence(reason):
    sentence = fail_reason_sentence(reason)
    assert sentence == FAIL_REASON_SENTENCES[reason]
    assert reason not in sentence
    assert sentence.endswith(".")


def test_an_unknown_fail_reason_names_its_code():
    assert fail_reason_sentence("brand-new") == (
        "The company couldn't complete the request (reason: brand-new)."
    )


def test_a_completion_seen_by_polling_syncs_the_accounts(polled, task, atomic):
    task.status = "processing"
    task.save()
    atomic.task_status_get.return_value = _status("completed")
    atomic.accounts_get.return_value = {"accounts": []}
    response = polled(headers=HTMX)
    assert response.status_code == 286
    atomic.accounts_get.assert_called_once_with(identifier=task.profile.identifier)
    assert task.profile.snapshot.fetched_at is not None


def test_a_poll_that_sees_no_change_asks_for_no_sync(
    alice_client, task, atomic, django_capture_on_commit_callbacks
):
    atomic.task_status_get.return_value = _status("processing")
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get("/hub/tasks/task-1/", headers={"hx-request": "true"})
    atomic.accounts_get.assert_not_called()
