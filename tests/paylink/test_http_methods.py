"""HEAD answers wherever GET does; other methods get a 405 that says what is allowed."""

from __future__ import annotations

import pytest

from paylink.models import Task, TaskStatus
from paylink.services.profiles import profile_for_user
from tests.paylink.routes import host_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_task(alice) -> Task:
    # Final, so its page does not ask Atomic about it.
    return Task.objects.create(
        profile=profile_for_user(user=alice), atomic_id="task-alice-1", status=TaskStatus.COMPLETED
    )


@pytest.mark.parametrize("path", ["/", "/hub/", "/hub/tasks/task-alice-1/"])
def test_head_on_a_signed_in_page_answers_like_get_without_a_body(
    alice_client, alice_task, atomic, path
):
    got = alice_client.get(path)
    head = alice_client.head(path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]
    atomic.task_status_get.assert_not_called()


def test_head_on_the_sign_in_page_answers_200(client):
    response = client.head("/accounts/login/")
    assert response.status_code == 200
    assert response.content == b""


def test_every_route_that_answers_get_answers_head_the_same(alice_client, alice_task, atomic):
    values = {
        "task_id": alice_task.atomic_id,
        "uidb64": "MQ",
        "token": "set-password",
        "object_id": "1",
        "content_type_id": "1",
        "id": "1",
        "pk": "1",
        "app_label": "paylink",
        "url": "nowhere/",
    }
    checked = []
    for route in host_routes():
        path = route.url(values)
        got = alice_client.get(path)
        if got.status_code == 405:
            continue
        head = alice_client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        checked.append(path)
    # The host's own GET pages are among them, so the walk cannot pass by checking nothing.
    assert {"/", "/hub/", "/hub/tasks/task-alice-1/", "/accounts/login/"} <= set(checked)


@pytest.mark.parametrize(
    "path,allowed",
    [
        ("/", "GET, HEAD"),
        ("/hub/", "GET, HEAD"),
        ("/hub/tasks/task-alice-1/", "GET, HEAD"),
        ("/hub/token/", "POST"),
        ("/hub/events/", "POST"),
        ("/refresh/", "POST"),
    ],
)
def test_a_wrong_method_is_a_405_naming_the_allowed_ones(alice_client, alice_task, path, allowed):
    response = alice_client.put(path, "{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert f"does not accept PUT requests; it accepts {allowed}." in response.content.decode()
    # Its length is the sentence's: a Content-Length left at 0 would have a server drop it.
    assert response["Content-Length"] == str(len(response.content))


def test_the_sign_in_page_refuses_a_wrong_method_with_a_sentence(client):
    response = client.delete("/accounts/login/")
    assert response.status_code == 405
    assert "does not accept DELETE requests" in response.content.decode()


def test_a_missing_page_says_so_in_a_sentence(alice_client):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.content.decode()
