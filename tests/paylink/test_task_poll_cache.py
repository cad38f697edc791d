"""The task page's cached row can never outlive a committed change to the task.

The race these tests pin down: a poll reads the task row while the webhook worker's transaction
is still open (so it reads the old status), the worker commits and drops the cached row, and
only then does the poll put what it read into the cache. The interleaving is driven by hand,
in one thread, so it happens every time and in that order.
"""

from __future__ import annotations

import pickle
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from paylink import tasks
from paylink.models import Task
from paylink.selectors import tasks as task_selectors
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import task_record, task_status_refresh, task_told

pytestmark = pytest.mark.django_db

URL = "/hub/tasks/task-1/"
HTMX = {"hx-request": "true"}


@pytest.fixture
def task(alice: User) -> Task:
    return Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="task-1", company_name="Streamly"
    )


def _webhook_commits_failure(task: Task, capture) -> None:
    # What the webhook worker does: record the news and tell the poll not to ask Atomic, then
    # commit (its on-commit callbacks, the cache drop among them, run here).
    with capture(execute=True):
        task_record(
            profile=task.profile, atomic_id=task.atomic_id, status="failed", fail_reason="x"
        )
        task_told(atomic_id=task.atomic_id)


def test_a_poll_that_read_the_row_before_the_webhook_committed_never_caches_it_past_the_commit(
    alice_client, task, atomic, django_capture_on_commit_callbacks
):
    real_read = task_selectors.task_for_user
    interleaved = []

    def read_then_let_the_webhook_commit(**kwargs):
        row = real_read(**kwargs)  # the old row: the worker's transaction is still open
        if not interleaved:
            interleaved.append(row.status)
            _webhook_commits_failure(task, django_capture_on_commit_callbacks)
        return row  # ...and the poll goes on to cache what it read

    with mock.patch.object(task_selectors, "task_for_user", read_then_let_the_webhook_commit):
        first = alice_client.get(URL, headers=HTMX)
    assert interleaved == ["queued"]
    # The poll that raced answers with what it read; that is fine, it was true when read.
    assert "Queued" in first.content.decode()
    # The next poll, one window later, shows the committed status and stops polling.
    second = alice_client.get(URL, headers=HTMX)
    assert second.status_code == 286
    assert "Failed" in second.content.decode()
    atomic.task_status_get.assert_not_called()


def test_a_cached_row_is_used_while_nothing_has_committed_since(alice_client, task, atomic):
    alice_client.get(URL, headers=HTMX)
    Task.objects.filter(pk=task.pk).update(company_name="Changed behind the cache")
    # No change went through task_record, so the cached row stands (a poll costs no query).
    assert "Changed behind" not in alice_client.get(URL, headers=HTMX).content.decode()


def test_the_cached_row_is_a_plain_dict_of_its_columns_never_a_pickled_task(
    alice_client, task, atomic
):
    alice_client.get(URL, headers=HTMX)
    entry = cache.get(task_selectors.task_cache_key(atomic_id="task-1"))
    assert entry["row"]["company_name"] == "Streamly"
    # Nothing of the project's classes is in it: a later release can always read it, or not.
    assert b"paylink" not in pickle.dumps(entry)
    assert 'data-task-id="task-1"' in alice_client.get(URL, headers=HTMX).content.decode()


def test_a_refresh_of_a_finished_task_drops_its_cached_row(alice_client, task, atomic):
    alice_client.get(URL, headers=HTMX)  # cached while queued
    # The row turns final without the cache hearing of it (an edit elsewhere).
    Task.objects.filter(pk=task.pk).update(status="completed")
    assert "Queued" in alice_client.get(URL, headers=HTMX).content.decode()
    tasks.task_status_refresh.call(task.pk)
    response = alice_client.get(URL, headers=HTMX)
    assert response.status_code == 286 and "Completed" in response.content.decode()
    atomic.task_status_get.assert_not_called()


def test_a_refresh_skipped_because_a_webhook_just_told_us_still_drops_the_cached_row(
    alice_client, task, atomic
):
    alice_client.get(URL, headers=HTMX)
    Task.objects.filter(pk=task.pk).update(status="processing")
    task_told(atomic_id="task-1")
    task_status_refresh(task=Task.objects.get(pk=task.pk))
    assert "In progress" in alice_client.get(URL, headers=HTMX).content.decode()


def test_a_cache_that_lost_the_version_reads_the_row_again(alice_client, task, atomic):
    from django.core.cache import cache

    alice_client.get(URL, headers=HTMX)
    Task.objects.filter(pk=task.pk).update(status="processing")
    cache.delete(task_selectors.task_cache_version_key(atomic_id="task-1"))
    assert "In progress" in alice_client.get(URL, headers=HTMX).content.decode()


def test_a_poll_between_the_commit_and_the_new_version_reads_the_committed_row(
    alice_client, task, atomic, django_capture_on_commit_callbacks
):
    alice_client.get(URL, headers=HTMX)  # cached while queued
    real_read = task_selectors.task_for_user
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        task_record(profile=task.profile, atomic_id="task-1", status="failed")
        # A poll while the worker's transaction is open reads the old row...
        old = Task.objects.get(pk=task.pk)
        old.status = "queued"
        with mock.patch.object(task_selectors, "task_for_user", lambda **kwargs: old):
            assert "Queued" in alice_client.get(URL, headers=HTMX).content.decode()
        # ...then the commit, and a poll before the worker gets to its on-commit callbacks.
        assert "Failed" in alice_client.get(URL, headers=HTMX).content.decode()
    for callback in after_commit:
        callback()
    assert real_read is task_selectors.task_for_user
    response = alice_client.get(URL, headers=HTMX)
    assert response.status_code == 286 and "Failed" in response.content.decode()
