"""Calls to Atomic made while a person waits share a short deadline; background ones do not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from paylink.services.accounts import accounts_sync
from paylink.services.profiles import profile_for_user
from tests.paylink.atomic_stub import AtomicStub, Reply, timeouts_given
from tests.paylink.conftest import staff_login_with_code

pytestmark = pytest.mark.django_db

SLOW = 2.0


@pytest.fixture
def slow_atomic(settings) -> Iterator[AtomicStub]:
    server = AtomicStub().start()
    settings.ATOMIC_API_URL = server.url
    settings.ATOMIC_CONNECT_TIMEOUT = 1.0
    settings.ATOMIC_READ_TIMEOUT = 5.0
    settings.ATOMIC_REQUEST_DEADLINE_SECONDS = 0.5
    server.play(Reply(body={"data": {"publicToken": "tok"}}, delay=SLOW))
    yield server
    server.stop()


def test_the_token_endpoint_answers_a_sentence_when_atomic_is_slower_than_the_deadline(
    alice_client, slow_atomic
):
    with timeouts_given() as given:
        response = alice_client.post("/hub/token/")
    assert response.status_code == 503
    assert response.json() == {
        "error": "We couldn't open the Payments Hub because Atomic isn't answering right now. "
        "Try again in a moment.",
        "retryable": True,
    }
    # Atomic's answer (2 s) would come within the read timeout (5 s): the deadline cut it.
    [timeout] = given
    assert 0 < timeout.total <= 0.5
    assert len(slow_atomic.seen) == 1


def test_a_data_request_answer_is_cut_at_the_deadline_too(alice_client, alice, slow_atomic):
    alice.first_name = "Alice"
    alice.save()
    with timeouts_given() as given:
        response = alice_client.post(
            "/hub/events/",
            {"kind": "data-request", "payload": {"fields": ["identity.firstName"]}},
            content_type="application/json",
        )
    assert response.status_code == 503
    assert "share your details" in response.json()["error"]
    [timeout] = given
    assert 0 < timeout.total <= 0.5


def test_an_admin_action_shares_one_deadline_and_reports_what_it_could_not_do(
    client, alice, bob, slow_atomic
):
    staff = User.objects.create_superuser("sam", password="sam-pass-1234")
    staff_login_with_code(client, staff)
    profiles = [profile_for_user(user=alice), profile_for_user(user=bob)]
    slow_atomic.play(Reply(body={}, delay=SLOW))
    with timeouts_given() as given:
        response = client.post(
            reverse("admin:paylink_profile_changelist"),
            {"action": "end_monitoring", "_selected_action": [str(p.pk) for p in profiles]},
            follow=True,
        )
    # Two slow calls, one deadline: the first times out, the second is not even sent.
    [timeout] = given
    assert 0 < timeout.total <= 0.5
    assert len(slow_atomic.seen) == 1
    shown = [str(message) for message in response.context["messages"]]
    assert any("End monitoring: 2 failed" in message and "in time" in message for message in shown)


def test_a_background_sync_waits_for_the_same_slow_answer(alice, slow_atomic):
    slow_atomic.play(Reply(body={"accounts": []}, delay=0.8))
    snapshot = accounts_sync(profile=profile_for_user(user=alice))
    assert snapshot.last_error == ""
    assert snapshot.fetched_at is not None
