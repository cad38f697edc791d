"""The task page's polled status line is drawn once per state of its row: the next poll of the same
row, for the same language, address and poll interval, is served the line kept beside the cached
row, undrawn; any change to the task, or another language, draws it anew."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test.signals import template_rendered

from paylink.models import Task
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import task_record

pytestmark = pytest.mark.django_db

URL = "/hub/tasks/task-1/"
HTMX = {"hx-request": "true"}


@pytest.fixture
def task(alice: User, settings) -> Task:
    # No background check while these polls run: the window is long and already claimed.
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 600
    return Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="task-1", status="processing"
    )


@pytest.fixture
def drawn():
    """The names of the templates drawn from now on."""
    names: list[str] = []

    def seen(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)


def poll(client, language: str = "en"):
    return client.get(URL, headers={**HTMX, "Accept-Language": language})


def test_the_same_row_polled_again_is_served_the_line_undrawn(alice_client, task, atomic, drawn):
    first = poll(alice_client)
    assert drawn  # the first poll draws it
    drawn.clear()

    again = poll(alice_client)

    assert drawn == []
    assert again.status_code == 200
    assert again.content == first.content
    assert "working with the company now." in again.content.decode()


def test_a_change_to_the_task_draws_the_line_anew(alice_client, task, alice, atomic, drawn):
    poll(alice_client)
    poll(alice_client)
    drawn.clear()

    task_record(profile=profile_for_user(user=alice), atomic_id="task-1", status="completed")
    answer = poll(alice_client)

    assert drawn
    assert answer.status_code == 286  # final: the poll stops
    assert "Done. The company accepted your request." in answer.content.decode()


def test_each_language_is_drawn_for_itself(alice_client, task, atomic, drawn):
    english = poll(alice_client, "en").content.decode()
    spanish = poll(alice_client, "es").content.decode()

    assert "working with the company now." in english
    assert "working with the company" not in spanish
    drawn.clear()
    assert poll(alice_client, "es").content.decode() == spanish
    assert poll(alice_client, "en").content.decode() == english
    assert drawn == []


def test_a_line_kept_for_one_person_is_never_served_to_another(
    alice_client, task, bob, client, atomic
):
    poll(alice_client)
    poll(alice_client)
    client.force_login(bob)

    assert poll(client).status_code == 404
