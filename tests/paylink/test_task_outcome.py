"""Each request says what it was, and a plan action's outcome names the company and the change
on the card it was started from."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from paylink.models import Task
from paylink.services.accounts import accounts_store
from paylink.services.profiles import profile_for_user
from tests.atomic_json import atomic_json

pytestmark = pytest.mark.django_db

HULU = atomic_json("accounts/hulu")
HULU_ID = HULU["accounts"][0]["_id"]
HTMX = {"hx-request": "true"}


def _task(user: User, atomic_id: str, **fields) -> Task:
    return Task.objects.create(profile=profile_for_user(user=user), atomic_id=atomic_id, **fields)


def _outcome_url(atomic_id: str) -> str:
    return f"/hub/tasks/{atomic_id}/outcome/"


def test_recent_requests_name_the_kind_and_the_company(alice_client, alice):
    _task(alice, "t-pause", operation="action", action_type="pause-plan", company_name="Streamly")
    _task(alice, "t-plan", operation="action", action_type="change-plan", company_name="Tunewave")
    _task(alice, "t-cancel", operation="action", action_type="cancel-plan", company_name="Hulu")
    _task(alice, "t-connect", operation="manage", company_name="Harborline", status="completed")
    _task(alice, "t-webhook", status="failed")  # heard of from Atomic alone: no launch details
    html = alice_client.get("/hub/").content.decode()
    for name in (
        ">Pause · Streamly</a>",
        ">Change plan · Tunewave</a>",
        ">Cancel · Hulu</a>",
        ">Connect · Harborline</a>",
        ">Request</a>",
    ):
        assert name in html
    assert "Payments Hub request" not in html


def test_no_host_page_or_button_is_named_after_atomics_product(alice_client):
    for url in ("/", "/hub/"):
        html = alice_client.get(url).content.decode()
        assert "<title>" in html
        title = html[html.index("<title>") : html.index("</title>")]
        assert "Payments Hub" not in title
        assert "Open Payments Hub" not in html and "Open the Payments Hub" not in html
        assert "Billfold" in title


def test_a_failed_connection_offers_a_try_again_that_opens_the_hub_again(alice_client, alice):
    _task(alice, "t-1", operation="manage", status="failed", fail_reason="bad-credentials")
    html = alice_client.get("/hub/tasks/t-1/").content.decode()
    assert 'href="/hub/" data-transact-launch>Try again</a>' in html
    # The page can open it: the launch script and its config are on it.
    assert 'id="paylink-transact-config"' in html and "paylink/js/hub.js" in html
    assert "Try again in the Payments Hub" not in html


def test_a_failed_plan_action_sends_the_person_to_the_card_that_holds_a_fresh_one(
    alice_client, alice
):
    _task(alice, "t-1", operation="action", action_type="pause-plan", status="failed")
    html = alice_client.get("/hub/tasks/t-1/").content.decode()
    assert '<a href="/">Try again from your dashboard</a>' in html
    assert "<dt>Request</dt><dd>Pause</dd>" in html


def test_an_outcome_in_progress_names_the_company_and_the_change_and_polls_its_line(
    alice_client, alice, atomic
):
    _task(alice, "t-1", operation="action", action_type="pause-plan", company_name="Streamly")
    html = alice_client.get(_outcome_url("t-1"), headers=HTMX).content.decode()
    assert 'id="outcome-t-1-title" tabindex="-1">Pause · Streamly</h4>' in html
    assert "Pausing Streamly…" in html
    assert 'hx-get="/hub/tasks/t-1/outcome/"' in html
    assert "data-outcome-dismiss" in html
    # The line polls alone: the title and Dismiss (which may hold focus) are not redrawn.
    line = alice_client.get(
        _outcome_url("t-1"), headers=HTMX | {"hx-target": "outcome-t-1-line"}
    ).content.decode()
    assert "Pausing Streamly…" in line
    assert "outcome-t-1-title" not in line and "data-outcome-dismiss" not in line


def test_an_outcome_atomic_has_not_named_yet_names_the_company_of_its_card(
    alice_client, alice, bob, atomic
):
    # Atomic's task details not in yet (or not answering): the card the action was started
    # from says which company it is, in the title, the sentence and the buttons alike.
    accounts_store(profile=profile_for_user(user=alice), payload=HULU)
    _task(alice, "t-1", operation="action", action_type="pause-plan", account_id=HULU_ID)
    html = alice_client.get(_outcome_url("t-1"), headers=HTMX).content.decode()
    assert 'tabindex="-1">Pause · Hulu</h4>' in html
    assert "Pausing Hulu…" in html
    assert '<span class="visually-hidden"> Pause · Hulu</span>' in html
    assert "the company" not in html
    # Only alice's own accounts name it: bob's outcome for the same account id says nothing.
    _task(bob, "t-bob", operation="action", action_type="pause-plan", account_id=HULU_ID)
    bob_client = type(alice_client)()
    bob_client.force_login(bob)
    html = bob_client.get(_outcome_url("t-bob"), headers=HTMX).content.decode()
    assert 'tabindex="-1">Pause · the company</h4>' in html
    assert "Hulu" not in html


def test_a_completed_pause_says_until_when_the_account_says(alice_client, alice, atomic):
    accounts_store(profile=profile_for_user(user=alice), payload=HULU)
    _task(
        alice,
        "t-1",
        operation="action",
        action_type="pause-plan",
        account_id=HULU_ID,
        company_name="Hulu",
        status="completed",
    )
    response = alice_client.get(
        _outcome_url("t-1"), headers=HTMX | {"hx-target": "outcome-t-1-line"}
    )
    assert response.status_code == 286  # the line stops polling
    html = response.content.decode()
    assert "Hulu is paused until December 20." in html
    assert 'data-outcome-status="completed"' in html
    assert "HX-Trigger" not in response  # hub.js tells the page, once per task


@pytest.mark.parametrize(
    ("action_type", "status", "sentence"),
    [
        ("cancel-plan", "completed", "Streamly is cancelled."),
        ("change-plan", "completed", "Your Streamly plan is changed."),
        ("pause-plan", "failed", "Streamly wasn&#x27;t paused."),
        ("change-plan", "processing", "Changing your Streamly plan…"),
    ],
)
def test_each_change_is_named(alice_client, alice, atomic, action_type, status, sentence):
    _task(
        alice,
        "t-1",
        operation="action",
        action_type=action_type,
        company_name="Streamly",
        status=status,
        fail_reason="payment-method-declined" if status == "failed" else "",
    )
    assert sentence in alice_client.get(_outcome_url("t-1"), headers=HTMX).content.decode()


def test_a_failed_action_offers_a_try_again_that_starts_the_same_action(alice_client, alice):
    _task(
        alice,
        "t-1",
        operation="action",
        action_type="cancel-plan",
        company_name="Streamly",
        status="failed",
        fail_reason="payment-method-declined",
    )
    html = alice_client.get(_outcome_url("t-1"), headers=HTMX).content.decode()
    assert 'data-outcome-retry="cancel-plan">Try again' in html
    assert "declined" in html


def test_another_persons_outcome_is_a_404(alice_client, bob):
    _task(bob, "t-bob", operation="action", action_type="pause-plan", company_name="Streamly")
    assert alice_client.get(_outcome_url("t-bob"), headers=HTMX).status_code == 404


def test_the_finish_answer_names_where_a_card_shows_the_outcome(
    alice_client, alice_profile, atomic
):
    from paylink.client import TaskDetails

    atomic.task_details_get.return_value = TaskDetails(
        id="t-9",
        status="processing",
        fail_reason=None,
        authenticated=None,
        company_id="c1",
        company_name="Streamly",
        product="pay-link",
        identifier="hub_alice",
        created_at=None,
        updated_at=None,
        metadata={},
    )
    response = alice_client.post(
        "/hub/events/",
        {
            "kind": "finish",
            "payload": {"taskId": "t-9"},
            "launch": {"operation": "action", "actionType": "pause-plan", "accountId": "a1"},
        },
        content_type="application/json",
    )
    assert response.json()["outcomeUrl"] == "/hub/tasks/t-9/outcome/"


def test_a_plan_change_the_company_makes_later_says_when(alice_client, alice, atomic):
    payload = json.loads(json.dumps(HULU))
    plan = payload["accounts"][0]["account"]["data"]["plans"][0]
    plan["pendingChange"] = {
        "type": "plan-change",
        "changes": {"title": "Basic"},
        "startDate": "2024-12-20T12:00:00.000Z",
    }
    accounts_store(profile=profile_for_user(user=alice), payload=payload)
    _task(
        alice,
        "t-1",
        operation="action",
        action_type="change-plan",
        account_id=HULU_ID,
        company_name="Hulu",
        status="completed",
    )
    html = alice_client.get(_outcome_url("t-1"), headers=HTMX).content.decode()
    assert "Your Hulu plan changes to Basic on December 20." in html
