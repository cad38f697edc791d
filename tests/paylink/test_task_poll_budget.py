"""The task page's poll on a budget: no status call while a webhook's news is fresh, a poll
that backs off after the first minute, and none at all after the deadline, with "Check again"."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from paylink.client import TaskStatusReport
from paylink.lib.auth_backend import user_cache_key
from paylink.models import Task
from paylink.selectors.tasks import TaskPoll, task_poll
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import task_told
from tests.cache_calls import cache_calls_counted

pytestmark = pytest.mark.django_db

URL = "/hub/tasks/task-1/"
HTMX = {"hx-request": "true"}
SECRET = "poll-budget-secret"


@pytest.fixture
def task(alice: User) -> Task:
    profile = profile_for_user(user=alice)
    return Task.objects.create(profile=profile, atomic_id="task-1", status="processing")


def aged(task: Task, seconds: float) -> Task:
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))
    task.refresh_from_db()
    return task


@pytest.fixture
def poll(alice_client, django_capture_on_commit_callbacks):
    """The task page, with the background status check it enqueues run as a worker would."""

    def get(**headers: str):
        with django_capture_on_commit_callbacks(execute=True):
            return alice_client.get(URL, headers=headers)

    return get


def processing() -> TaskStatusReport:
    return TaskStatusReport(status="processing", fail_reason=None, created_at=None)


def test_a_poll_right_after_a_webhook_does_not_ask_atomic(poll, task, atomic):
    atomic.task_status_get.return_value = processing()
    task_told(atomic_id="task-1")
    assert poll(**HTMX).status_code == 200
    atomic.task_status_get.assert_not_called()


def test_a_signed_webhook_about_the_task_quiets_the_poll(
    alice_client, alice, task, atomic, settings, django_capture_on_commit_callbacks
):
    settings.ATOMIC_API_SECRET = SECRET
    profile = profile_for_user(user=alice)
    body = (
        b'{"eventType":"task-status-updated","user":{"identifier":"%s"},'
        b'"data":{"taskId":"task-1","status":"processing"}}' % profile.identifier.encode()
    )
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            "/webhooks/atomic/",
            data=body,
            content_type="application/json",
            headers={"ce-id": "ce-poll-1", "X-HMAC-Signature-Sha-256": signature},
        )
    atomic.task_status_get.return_value = processing()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.get(URL, headers=HTMX)
    atomic.task_status_get.assert_not_called()


def test_once_the_webhooks_news_is_stale_the_poll_asks_again(poll, task, atomic, settings):
    # A zero-length quiet period: the mark lapses at once, as it does after TOLD_WINDOWS.
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 0
    atomic.task_status_get.return_value = processing()
    task_told(atomic_id="task-1")
    poll(**HTMX)
    atomic.task_status_get.assert_called_once_with(task_id="task-1")


def test_a_new_task_polls_every_two_seconds(alice_client, task, atomic):
    atomic.task_status_get.return_value = processing()
    html = alice_client.get(URL).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "Check again" not in html


@pytest.mark.parametrize(
    ("age", "interval"),
    [(0, 2), (59, 2), (60, 4), (125, 8), (200, 16), (300, 30), (800, 30)],
)
def test_the_poll_backs_off_after_the_first_minute(task, age, interval):
    assert task_poll(task=aged(task, age)) == TaskPoll(interval=interval)


@pytest.mark.parametrize(
    ("first", "age", "trigger"),
    [(0.5, 0, "every 500ms"), (0.5, 60, "every 1s"), (0.25, 130, "every 1s"), (3, 0, "every 3s")],
)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_first_interval_is_a_setting_written_as_htmx_reads_it(
    alice_client, task, atomic, settings, first, age, trigger, language
):
    # In every language: a decimal comma ("0,5s") would be no interval htmx understands.
    settings.PAYLINK_POLL_SECONDS = first
    atomic.task_status_get.return_value = processing()
    aged(task, age)
    html = alice_client.get(URL, headers={"Accept-Language": language}).content.decode()
    assert f'<html lang="{language}"' in html
    assert f'hx-trigger="{trigger}"' in html


def test_a_backed_off_poll_shows_its_interval_in_the_page(alice_client, task, atomic):
    atomic.task_status_get.return_value = processing()
    aged(task, 130)
    html = alice_client.get(URL, headers=HTMX).content.decode()
    assert 'hx-trigger="every 8s"' in html


def test_after_the_deadline_the_page_stops_polling_and_offers_check_again(
    alice_client, task, atomic, settings
):
    settings.PAYLINK_TASK_POLL_DEADLINE_SECONDS = 600
    atomic.task_status_get.return_value = processing()
    aged(task, 601)
    html = alice_client.get(URL, headers=HTMX).content.decode()
    assert "hx-trigger" not in html
    assert "stopped checking by ourselves" in html
    # A real link: without JavaScript it loads the page, which asks Atomic once more.
    assert f'<a class="button task-status__again" href="{URL}"' in html


def test_check_again_asks_atomic_once_more_past_the_deadline(poll, task, atomic):
    atomic.task_status_get.return_value = processing()
    aged(task, 3600)
    assert poll().status_code == 200
    atomic.task_status_get.assert_called_once_with(task_id="task-1")


def test_the_deadline_is_a_quarter_of_an_hour_by_default(settings):
    assert settings.PAYLINK_TASK_POLL_DEADLINE_SECONDS == 900


def test_a_final_task_has_no_poll_and_no_check_again(task):
    Task.objects.filter(pk=task.pk).update(status="completed")
    assert task_poll(task=aged(task, 3600)) == TaskPoll(interval=None)


@pytest.fixture
def cache_calls(monkeypatch):
    return cache_calls_counted(monkeypatch)


def test_a_steady_poll_of_a_running_task_asks_the_cache_once_after_the_session(
    alice, task, atomic, poll, settings, cache_calls
):
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 60
    atomic.task_status_get.return_value = processing()
    cache.delete(user_cache_key(alice.pk))  # as if signing in were a while ago
    poll(**HTMX)  # caches the row and claims this window's background check
    atomic.task_status_get.assert_called_once_with(task_id="task-1")
    poll(**HTMX)  # caches the row the check dropped
    cache_calls.clear()

    response = poll(**HTMX)

    assert response.status_code == 200
    # The session with its user's row, then the task with what its background check needs to
    # know (the window already claimed): no further cache call, and Atomic not asked again.
    assert cache_calls == ["get_many", "get_many"]
    atomic.task_status_get.assert_called_once_with(task_id="task-1")


def test_a_poll_right_after_a_webhook_asks_the_cache_once_after_the_session(
    alice, task, atomic, poll, cache_calls
):
    atomic.task_status_get.return_value = processing()
    cache.delete(user_cache_key(alice.pk))
    task_told(atomic_id="task-1")
    poll(**HTMX)
    cache_calls.clear()

    assert poll(**HTMX).status_code == 200

    assert cache_calls == ["get_many", "get_many"]
    atomic.task_status_get.assert_not_called()
