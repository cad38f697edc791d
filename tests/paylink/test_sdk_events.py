from __future__ import annotations

import json
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client

from paylink.client import AtomicError, TaskDetails
from paylink.models import SdkEvent, Task
from paylink.services.profiles import profile_for_user

pytestmark = pytest.mark.django_db


def details_of(task_id: str, *, owner: User, status: str = "queued") -> TaskDetails:
    """Atomic's details of `task_id`, naming `owner`'s identifier."""
    return TaskDetails(
        id=task_id,
        status=status,
        fail_reason=None,
        authenticated=None,
        company_id="company-hulu",
        company_name="Hulu",
        product="pay-link",
        identifier=profile_for_user(user=owner).identifier,
        created_at=None,
        updated_at=None,
        metadata={},
    )


@pytest.fixture
def atomic_confirms_alice(atomic, alice):
    atomic.task_details_get.side_effect = lambda *, task_id: details_of(task_id, owner=alice)
    return atomic


def _post(client: Client, body: object, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/hub/events/", data, content_type="application/json", **extra)


def test_a_stored_event_keeps_only_the_last_four_of_an_account_number(alice_client, atomic):
    value = {"accountNumber": "8498390016491919", "company": "Hulu"}
    _post(alice_client, {"kind": "interaction", "payload": {"name": "Viewed", "value": value}})
    assert SdkEvent.objects.get().payload["value"] == {
        "accountNumber": "••••1919",
        "company": "Hulu",
    }


def test_an_interaction_is_stored_with_its_name(alice_client, alice, atomic):
    response = _post(
        alice_client,
        {"kind": "interaction", "payload": {"name": "Initialized Transact", "value": {}}},
    )
    assert response.status_code == 200
    event = SdkEvent.objects.get()
    assert event.profile == profile_for_user(user=alice)
    assert (event.kind, event.name) == ("interaction", "Initialized Transact")
    assert event.payload == {"name": "Initialized Transact", "value": {}}
    atomic.assert_not_called()


def test_a_close_is_stored(alice_client, atomic):
    response = _post(alice_client, {"kind": "close", "payload": {"reason": "task-pending"}})
    assert response.status_code == 200
    assert SdkEvent.objects.get().payload == {"reason": "task-pending"}


def test_a_data_request_is_answered_from_the_server_with_what_the_host_knows(
    alice_client, alice, atomic
):
    response = _post(
        alice_client,
        {
            "kind": "data-request",
            "payload": {
                "taskId": "task-1",
                "identifier": "someone-elses-identifier",
                "fields": ["identity.firstName", "identity.email", "identity.ssn", "card.number"],
            },
        },
    )
    assert response.status_code == 200
    assert response.json() == {"recorded": True, "sent": ["identity.firstName", "identity.email"]}
    assert "Alice" not in response.content.decode()
    # The profile's own identifier, never the one the browser sent.
    atomic.user_update.assert_called_once_with(
        identifier=profile_for_user(user=alice).identifier,
        data={"identity": {"firstName": "Alice", "email": "alice@example.com"}},
    )
    event = SdkEvent.objects.get()
    assert (event.kind, event.task_atomic_id) == ("data-request", "task-1")


def test_nothing_is_sent_when_the_host_knows_none_of_the_fields(alice_client, atomic):
    response = _post(
        alice_client, {"kind": "data-request", "payload": {"fields": ["identity.phone"]}}
    )
    assert response.json()["sent"] == []
    atomic.user_update.assert_not_called()


def test_a_data_request_atomic_refuses_is_a_json_error(alice_client, atomic):
    atomic.user_update.side_effect = AtomicError("Atomic is busy.", status=503, retryable=True)
    response = _post(
        alice_client, {"kind": "data-request", "payload": {"fields": ["identity.lastName"]}}
    )
    assert response.status_code == 503
    assert response.json() == {
        "error": "We couldn't share your details with the company because Atomic isn't "
        "answering right now. Try again in a moment.",
        "retryable": True,
    }


def test_a_finish_records_the_task_and_returns_its_status_url(
    alice_client, alice, atomic_confirms_alice
):
    with mock.patch("paylink.services.sdk_events.accounts_sync_request") as sync:
        response = _post(alice_client, {"kind": "finish", "payload": {"taskId": "task-42"}})
    assert response.status_code == 200
    assert response.json() == {
        "taskId": "task-42",
        "statusUrl": "/hub/tasks/task-42/",
        "outcomeUrl": "/hub/tasks/task-42/outcome/",
    }
    task = Task.objects.get(atomic_id="task-42")
    assert task.profile == profile_for_user(user=alice)
    assert (task.status, task.operation) == ("queued", "manage")
    sync.assert_called_once_with(profile=task.profile)
    assert SdkEvent.objects.get().task_atomic_id == "task-42"


def test_a_finish_of_an_action_records_what_was_launched(alice_client, atomic_confirms_alice):
    with mock.patch("paylink.services.sdk_events.accounts_sync_request"):
        _post(
            alice_client,
            {
                "kind": "finish",
                "payload": {"taskId": "task-43"},
                "launch": {"operation": "action", "actionType": "pause-plan", "accountId": "acc-1"},
            },
        )
    task = Task.objects.get(atomic_id="task-43")
    assert (task.operation, task.action_type, task.account_id) == ("action", "pause-plan", "acc-1")


def test_a_finish_with_bobs_task_id_is_a_404(alice_client, bob, atomic):
    Task.objects.create(profile=profile_for_user(user=bob), atomic_id="task-bob")
    with mock.patch("paylink.services.sdk_events.accounts_sync_request") as sync:
        response = _post(alice_client, {"kind": "finish", "payload": {"taskId": "task-bob"}})
    assert response.status_code == 404
    assert Task.objects.get(atomic_id="task-bob").profile.user == bob
    sync.assert_not_called()
    assert not SdkEvent.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [{}, {"taskId": "", "reason": ""}, {"taskId": "", "handoff": "authentication-success"}],
    ids=["no-taskId", "flutter-android-empty-strings", "handoff"],
)
def test_a_finish_without_a_task_is_recorded_says_so_and_refreshes_the_accounts(
    alice_client, alice, atomic, payload
):
    # Atomic's SDKs make taskId optional: Done in the Hub itself finishes with no task. Its
    # Flutter plugin on Android sends a missing one as "" (optString), which means the same.
    with mock.patch("paylink.services.sdk_events.accounts_sync_request") as sync:
        response = _post(alice_client, {"kind": "finish", "payload": payload})

    assert response.status_code == 200
    answer = response.json()
    assert (answer["taskId"], answer["statusUrl"]) == (None, None)
    assert "dashboard" in answer["message"]
    sync.assert_called_once_with(profile=profile_for_user(user=alice))
    event = SdkEvent.objects.get()
    assert (event.kind, event.task_atomic_id) == ("finish", "")
    assert not Task.objects.exists()
    atomic.task_details_get.assert_not_called()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        {"kind": "teleport", "payload": {}},
        {"payload": {}},
        {"kind": "close", "payload": "reason"},
        {"kind": "finish", "payload": {"taskId": 7}},
        {"kind": "finish", "payload": {"taskId": "x" * 65}},
        {"kind": "finish", "payload": {"taskId": "t"}, "launch": {"operation": "delete"}},
    ],
)
def test_garbage_is_a_400_with_a_reason(alice_client, atomic, body):
    response = _post(alice_client, body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not SdkEvent.objects.exists()


def test_an_oversized_event_is_a_413(alice_client, atomic):
    body = {"kind": "interaction", "payload": {"name": "x", "value": "y" * 17000}}
    response = _post(alice_client, body)
    assert response.status_code == 413
    assert not SdkEvent.objects.exists()


def test_the_events_endpoint_is_post_only(alice_client):
    assert alice_client.get("/hub/events/").status_code == 405


def test_the_events_endpoint_enforces_csrf(alice):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = _post(strict, {"kind": "close", "payload": {"reason": "unknown"}})
    assert response.status_code == 403
    assert not SdkEvent.objects.exists()


def test_anonymous_events_are_sent_to_sign_in(client):
    response = _post(client, {"kind": "close", "payload": {"reason": "unknown"}})
    assert response.status_code == 302
    assert not SdkEvent.objects.exists()


def test_the_page_script_has_a_sentence_for_every_close_reason():
    from django.conf import settings

    script = (settings.BASE_DIR / "static/paylink/js/hub.js").read_text()
    for sentence in [
        "You closed the Payments Hub.",
        "Your request is still being processed; we will update this page.",
        "We couldn't find that company.",
        "This company can't be connected automatically yet.",
        "The Payments Hub was dismissed before you finished.",
        "You left before signing in to the company. Nothing was changed.",
        "The company is taking longer than usual to answer.",
        "The Payments Hub could not open in this browser.",
    ]:
        assert sentence in script
    for key in ("dismissed:", '"handoff:exit-prompt":', '"handoff:high-latency":'):
        assert key in script


HOSTILE_TASK_IDS = [
    "../task-1",
    "task/1",
    "..",
    "task 1",
    "task.1",
    "task%2F1",
    "tâche-1",
    "x" * 65,
    "task-1\n",
    "task\x001",
    "task-\ud800",
    7,
    ["task-1"],
]


@pytest.mark.parametrize("task_id", HOSTILE_TASK_IDS)
def test_a_finish_whose_task_id_is_not_atomics_shape_is_a_400_that_stores_nothing(
    alice_client, atomic, task_id
):
    with mock.patch("paylink.services.sdk_events.accounts_sync_request") as sync:
        response = _post(alice_client, {"kind": "finish", "payload": {"taskId": task_id}})
    assert response.status_code == 400
    assert response.json()["error"].endswith(".")
    assert not Task.objects.exists()
    assert not SdkEvent.objects.exists()
    sync.assert_not_called()


@pytest.mark.parametrize("kind", ["interaction", "data-request", "close"])
def test_any_event_carrying_a_task_id_of_the_wrong_shape_is_a_400(alice_client, atomic, kind):
    response = _post(alice_client, {"kind": kind, "payload": {"taskId": "../../admin"}})
    assert response.status_code == 400
    assert "not an Atomic task id" in response.json()["error"]
    assert not SdkEvent.objects.exists()
    atomic.user_update.assert_not_called()


@pytest.mark.parametrize(
    "task_id", ["65b3f3c8b871a9626c36d103", "0b6f6c2e-8d4a-4f43-9a9e-3c1f5b2a7d10", "x" * 64]
)
def test_a_finish_with_an_object_id_or_a_uuid_is_recorded(
    alice_client, atomic_confirms_alice, task_id
):
    with mock.patch("paylink.services.sdk_events.accounts_sync_request"):
        response = _post(alice_client, {"kind": "finish", "payload": {"taskId": task_id}})
    assert response.status_code == 200
    assert response.json()["statusUrl"] == f"/hub/tasks/{task_id}/"
    assert Task.objects.get().atomic_id == task_id


@pytest.mark.parametrize("key", ["accountId", "actionType"])
@pytest.mark.parametrize("value", ["acc/../1", "acc 1", "a" * 65, 12])
def test_a_finish_whose_launch_details_are_not_ids_is_a_400(alice_client, atomic, key, value):
    body = {
        "kind": "finish",
        "payload": {"taskId": "task-1"},
        "launch": {"operation": "action", key: value},
    }
    response = _post(alice_client, body)
    assert response.status_code == 400
    assert key in response.json()["error"]
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        # NUL and a lone surrogate, in a value, a key, and deep inside the payload.
        '{"kind": "interaction", "payload": {"name": "a\\u0000b"}}',
        '{"kind": "interaction", "payload": {"a\\u0000b": 1}}',
        '{"kind": "interaction", "payload": {"value": {"x": [{"y": "\\u0000"}]}}}',
        '{"kind": "interaction", "payload": {"name": "\\ud800"}}',
        '{"kind": "interaction", "payload": {"\\udfff": 1}}',
        '{"kind": "close", "payload": {"value": [[["\\ud83d"]]]}}',
        '{"kind": "interaction\\u0000", "payload": {}}',
        # Not UTF-8 at all.
        b'{"kind": "interaction", "payload": {"name": "\xff\xfe"}}',
    ],
)
def test_nul_lone_surrogates_and_bad_bytes_anywhere_are_a_400(alice_client, atomic, body):
    response = _post(alice_client, body.encode() if isinstance(body, str) else body)
    assert response.status_code == 400
    assert response.json()["error"].endswith(".")
    assert not SdkEvent.objects.exists()


def test_a_pair_of_surrogates_is_a_character_and_is_stored(alice_client, atomic):
    response = _post(
        alice_client, b'{"kind": "interaction", "payload": {"name": "\\ud83d\\ude00"}}'
    )
    assert response.status_code == 200
    assert SdkEvent.objects.get().name == "\U0001f600"


@pytest.mark.parametrize("opener,closer,depth", [("[", "]", 8000), ('{"a":', "}", 2500)])
def test_deep_nesting_is_a_400_without_being_parsed(alice_client, atomic, opener, closer, depth):
    deep = opener * depth + "1" + closer * depth
    body = '{"kind": "interaction", "payload": {"value": ' + deep + "}}"
    assert len(body) < 16 * 1024  # so the depth check, not the size cap, is what refuses it
    # Only the host's JSON reader is replaced: the session still needs the real one.
    with mock.patch("paylink.lib.vendor_json.json") as json_module:
        json_module.loads.side_effect = AssertionError("parsed")
        response = _post(alice_client, body)
    assert response.status_code == 400
    assert "nested more than" in response.json()["error"]
    assert not SdkEvent.objects.exists()


@pytest.mark.parametrize("task_id", ["..", "a.b", "a%00b", "a%20b", "x" * 65, "%C3%A2", "a%2Fb"])
def test_a_task_page_for_an_id_of_the_wrong_shape_is_a_404_before_any_task_query(
    alice_client, atomic, task_id
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(f"/hub/tasks/{task_id}/")
    assert response.status_code == 404
    # Only the session and the signed-in user are read (for the response headers); no task.
    assert not [q for q in queries.captured_queries if "paylink_task" in q["sql"]]
    atomic.task_status_get.assert_not_called()
