from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock

import pytest

from paylink import client as client_module
from paylink.client import AtomicError, TaskStatusReport, atomic_client, deadline
from tests.atomic_json import atomic_json
from tests.paylink.atomic_stub import AtomicStub, Reply, timeouts_given
from tests.waiting import wait_until


@pytest.fixture
def stub(settings) -> Iterator[AtomicStub]:
    server = AtomicStub().start()
    settings.ATOMIC_API_URL = server.url
    settings.ATOMIC_API_KEY = "key-alice-host"
    settings.ATOMIC_API_SECRET = "secret-never-shown"
    settings.ATOMIC_CONNECT_TIMEOUT = 1.0
    settings.ATOMIC_READ_TIMEOUT = 2.0
    settings.ATOMIC_MAX_RETRY_AFTER = 2.0
    yield server
    server.stop()


def test_it_sends_the_key_and_secret_and_the_identifier(stub):
    stub.play(Reply(body=atomic_json("atomic/access_token")))
    token = atomic_client().access_token_create(identifier="hub_alice", token_lifetime=1800)
    assert token == "public-token-alice"
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("POST", "/access-token")
    assert seen.headers["x-api-key"] == "key-alice-host"
    assert seen.headers["x-api-secret"] == "secret-never-shown"
    assert seen.json() == {"identifier": "hub_alice", "tokenLifetime": 1800}


def test_it_leaves_out_the_token_lifetime_when_not_given(stub):
    stub.play(Reply(body={"data": {"publicToken": "tok"}}))
    atomic_client().access_token_create(identifier="hub_alice")
    assert stub.seen[0].json() == {"identifier": "hub_alice"}


def test_it_ignores_the_deprecated_token_field(stub):
    stub.play(Reply(body={"data": {"token": "old"}}))
    with pytest.raises(AtomicError) as info:
        atomic_client().access_token_create(identifier="hub_alice")
    assert "malformed" in str(info.value)
    assert "old" not in str(info.value)


def test_it_gives_up_on_a_read_timeout_without_retrying(stub, settings):
    settings.ATOMIC_READ_TIMEOUT = 0.3
    stub.play(Reply(body=atomic_json("atomic/task_status"), delay=1.0))
    with pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    assert info.value.retryable is True
    assert info.value.status is None
    assert "in time" in str(info.value)
    assert len(stub.seen) == 1


def test_it_retries_a_429_after_the_wait_it_asks_for(stub):
    stub.play(
        Reply(status=429, body={"message": "slow down"}, headers={"Retry-After": "1"}),
        Reply(body=atomic_json("atomic/task_status")),
    )
    with mock.patch("urllib3.util.retry.time.sleep") as slept:
        result = atomic_client().task_status_get(task_id="t1")
    slept.assert_called_once_with(1)
    assert result.status == "failed"
    assert len(stub.seen) == 2


def test_it_gives_up_at_once_when_retry_after_exceeds_the_cap(stub):
    stub.play(Reply(status=429, body={"message": "later"}, headers={"Retry-After": "120"}))
    with mock.patch("urllib3.util.retry.time.sleep") as slept, pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    slept.assert_not_called()
    assert (info.value.status, info.value.retryable) == (429, True)
    assert len(stub.seen) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_it_retries_gateway_errors_then_succeeds(stub, status):
    stub.play(
        Reply(status=status, body={"message": "busy"}),
        Reply(body=atomic_json("atomic/task_status")),
    )
    assert atomic_client().task_status_get(task_id="t1").status == "failed"
    assert len(stub.seen) == 2


def test_it_retries_a_put_on_503(stub):
    stub.play(Reply(status=503), Reply(body={}))
    atomic_client().user_update(identifier="hub_alice", data={"phone": "555"})
    assert [s.method for s in stub.seen] == ["PUT", "PUT"]


def test_it_stops_after_a_small_number_of_tries(stub):
    stub.play(Reply(status=503, body={"message": "down"}))
    with pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    assert (info.value.status, info.value.retryable) == (503, True)
    assert len(stub.seen) == 3


def test_it_does_not_retry_a_500(stub):
    stub.play(Reply(status=500, body={"message": "boom", "code": 5000}))
    with pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    assert (info.value.status, info.value.retryable, info.value.code) == (500, True, 5000)
    assert len(stub.seen) == 1


def test_it_reports_a_reset_connection_as_retryable(stub):
    stub.play(Reply(reset=True))
    with pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    assert info.value.retryable is True
    assert info.value.status is None


def test_it_reports_a_refused_connection_as_retryable(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ATOMIC_API_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    assert info.value.retryable is True
    assert "Could not reach Atomic" in str(info.value)


def test_it_rejects_malformed_json_as_retryable(stub):
    stub.play(Reply(raw=b"{not json"))
    with pytest.raises(AtomicError) as info:
        atomic_client().accounts_get(identifier="hub_alice")
    assert info.value.retryable is True
    assert "malformed" in str(info.value)


def test_it_rejects_an_accounts_answer_without_a_list(stub):
    stub.play(Reply(body={"accounts": {"not": "a list"}}))
    with pytest.raises(AtomicError, match="malformed"):
        atomic_client().accounts_get(identifier="hub_alice")


def test_it_returns_the_accounts_payload_as_sent(stub):
    payload = atomic_json("accounts/hulu")
    stub.play(Reply(body=payload))
    assert atomic_client().accounts_get(identifier="hub_alice") == payload
    assert stub.seen[0].path == "/hub_alice/pay-link/accounts"


# --- Both accounts routes, by ATOMIC_ACCOUNTS_API --------------------------------------------


def test_v1_asks_the_seeds_route_only(stub, settings):
    settings.ATOMIC_ACCOUNTS_API = "v1"
    stub.play(Reply(status=404, body={"message": "Not found."}))
    with pytest.raises(AtomicError) as info:
        atomic_client().accounts_get(identifier="hub_alice")
    assert info.value.status == 404
    assert [seen.path for seen in stub.seen] == ["/hub_alice/pay-link/accounts"]


def test_v2_asks_the_newer_route_with_its_version_header(stub, settings):
    settings.ATOMIC_ACCOUNTS_API = "v2"
    payload = atomic_json("accounts/hulu")
    stub.play(Reply(body=payload))
    assert atomic_client().accounts_get(identifier="hub alice/1") == payload
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("GET", "/pay-link/accounts?identifier=hub+alice%2F1")
    assert seen.headers["x-api-version"] == "v2"
    assert seen.headers["x-api-key"] == "key-alice-host"


def test_v2_unwraps_accounts_sent_inside_data(stub, settings):
    settings.ATOMIC_ACCOUNTS_API = "v2"
    accounts = atomic_json("accounts/hulu")["accounts"]
    stub.play(Reply(body={"data": {"accounts": accounts}}))
    assert atomic_client().accounts_get(identifier="hub_alice") == {"accounts": accounts}


def test_auto_falls_back_to_v2_when_the_seeds_route_answers_404(stub, settings):
    settings.ATOMIC_ACCOUNTS_API = "auto"
    payload = atomic_json("accounts/hulu")
    stub.play(Reply(status=404, body={"message": "Not found."}), Reply(body=payload))
    assert atomic_client().accounts_get(identifier="hub_alice") == payload
    assert [seen.path for seen in stub.seen] == [
        "/hub_alice/pay-link/accounts",
        "/pay-link/accounts?identifier=hub_alice",
    ]
    assert "x-api-version" not in stub.seen[0].headers


@pytest.mark.parametrize("status", [400, 401, 422, 500])
def test_auto_does_not_fall_back_on_anything_but_a_404(stub, settings, status):
    settings.ATOMIC_ACCOUNTS_API = "auto"
    stub.play(Reply(status=status, body={"message": "no"}))
    with pytest.raises(AtomicError) as info:
        atomic_client().accounts_get(identifier="hub_alice")
    assert info.value.status == status
    assert {seen.path for seen in stub.seen} == {"/hub_alice/pay-link/accounts"}


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "Invalid credentials"), (404, "Task not found"), (422, "identifier is required")],
)
def test_it_turns_client_errors_into_permanent_errors(stub, status, message):
    stub.play(Reply(status=status, body={"message": message, "code": status * 10}))
    with pytest.raises(AtomicError) as info:
        atomic_client().task_details_get(task_id="t1")
    error = info.value
    assert (error.status, error.retryable, error.code) == (status, False, status * 10)
    assert message in str(error)
    assert len(stub.seen) == 1


def test_its_errors_never_show_the_key_or_secret(stub):
    stub.play(Reply(status=401, body={"message": "bad"}))
    with pytest.raises(AtomicError) as info:
        atomic_client().access_token_create(identifier="hub_alice")
    assert "secret-never-shown" not in str(info.value)
    assert "key-alice-host" not in str(info.value)


def test_it_reads_a_bare_task_status(stub):
    stub.play(Reply(body=atomic_json("atomic/task_status")))
    assert atomic_client().task_status_get(task_id="t1") == TaskStatusReport(
        status="failed",
        fail_reason="payment-method-not-supported",
        created_at=datetime(2023, 1, 3, 16, 40, 48, 9000, tzinfo=UTC),
    )


def test_it_reads_a_wrapped_task_status_with_unknown_values(stub):
    stub.play(Reply(body={"data": {"task": {"status": "rebooting", "shiny": 1}}}))
    result = atomic_client().task_status_get(task_id="t1")
    assert result == TaskStatusReport(status="rebooting", fail_reason=None, created_at=None)


def test_it_reads_task_details(stub):
    stub.play(Reply(body=atomic_json("atomic/task_details")))
    details = atomic_client().task_details_get(task_id="65b15fd99b3f03aa9edff9de")
    assert details.id == "65b15fd99b3f03aa9edff9de"
    assert (details.status, details.fail_reason, details.authenticated) == (
        "completed",
        "unknown-failure",
        True,
    )
    assert (details.company_id, details.company_name) == (
        "607e249736b9f053b536bde0",
        "Test Company",
    )
    assert details.identifier == "IDENTIFIER_FROM_YOUR_SYSTEM"
    assert details.metadata == {"data": "test"}
    assert details.updated_at == datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_it_reads_task_details_with_missing_optional_fields(stub):
    stub.play(Reply(body={"data": {"task": {"_id": "t9", "status": "queued"}}}))
    details = atomic_client().task_details_get(task_id="t9")
    assert (details.company_name, details.identifier, details.created_at) == (None, None, None)
    assert details.metadata == {}


def test_it_lists_a_users_tasks_and_filters_by_status(stub):
    stub.play(Reply(body=atomic_json("atomic/user_tasks")))
    tasks = atomic_client().user_tasks_list(identifier="hub_alice", status="failed")
    assert stub.seen[0].path == "/user/hub_alice/tasks?status=failed"
    assert [t.id for t in tasks] == ["65b3f3c8b871a9626c36d103", "65b3f3c8b871a9626c36d104"]
    assert tasks[1].fail_reason == "bad-credentials"
    assert tasks[0].fail_reason is None


def test_it_skips_listed_tasks_without_an_id(stub):
    stub.play(Reply(body={"data": {"tasks": [{"status": "queued"}, "junk", {"_id": "t1"}]}}))
    tasks = atomic_client().user_tasks_list(identifier="hub_alice")
    assert [(t.id, t.status) for t in tasks] == [("t1", "")]


def test_it_sends_user_data_with_put(stub):
    stub.play(Reply(body={"data": {}}))
    atomic_client().user_update(identifier="hub_alice", data={"email": "alice@example.com"})
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("PUT", "/user")
    assert seen.json() == {"identifier": "hub_alice", "data": {"email": "alice@example.com"}}


def test_it_ends_monitoring_with_an_empty_answer(stub):
    stub.play(Reply(status=200, body=None))
    atomic_client().user_end_monitoring(identifier="hub_alice")
    assert (stub.seen[0].method, stub.seen[0].path) == ("PUT", "/user/hub_alice/end-monitoring")


def test_it_quotes_ids_so_they_cannot_change_the_path(stub):
    stub.play(Reply(body=atomic_json("atomic/task_status")))
    atomic_client().task_status_get(task_id="../../access-token?x=1#y")
    assert stub.seen[0].path == "/task/..%2F..%2Faccess-token%3Fx%3D1%23y/status"


@pytest.mark.parametrize("task_id", ["", ".", ".."])
def test_it_refuses_empty_or_relative_ids(stub, task_id):
    with pytest.raises(AtomicError):
        atomic_client().task_status_get(task_id=task_id)
    assert stub.seen == []


def test_it_reads_settings_at_call_time(stub, settings):
    other = AtomicStub().start()
    try:
        settings.ATOMIC_API_URL = other.url
        other.play(Reply(body=atomic_json("atomic/task_status")))
        atomic_client().task_status_get(task_id="t1")
        assert len(other.seen) == 1
        assert stub.seen == []
    finally:
        other.stop()


def test_it_logs_calls_without_secrets_or_tokens(stub, caplog):
    stub.play(Reply(body={"data": {"publicToken": "public-token-alice"}}))
    with caplog.at_level("INFO", logger="paylink.client"):
        atomic_client().access_token_create(identifier="hub_alice")
    assert "POST /access-token -> 200" in caplog.text
    for secret in ("public-token-alice", "secret-never-shown", "key-alice-host"):
        assert secret not in caplog.text


def test_under_a_deadline_a_slow_answer_is_given_up_when_the_deadline_passes(stub):
    # The answer comes after 1.5 s, within the read timeout (2 s): only the deadline cuts it.
    stub.play(Reply(body=atomic_json("atomic/task_status"), delay=1.5))
    with timeouts_given() as given, deadline(0.4), pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t1")
    [timeout] = given
    assert 0 < timeout.total <= 0.4
    assert (info.value.retryable, info.value.status) == (True, None)
    assert "in time" in str(info.value)
    assert len(stub.seen) == 1


def test_without_a_deadline_the_same_slow_answer_is_waited_for(stub):
    # Background syncs keep the configured read timeout (2 s here).
    stub.play(Reply(body=atomic_json("atomic/task_status"), delay=0.6))
    assert atomic_client().task_status_get(task_id="t1").status == "failed"


def test_under_a_deadline_a_retry_after_longer_than_the_time_left_gives_up_at_once(stub):
    # One second is under the cap (2 s), so without a deadline the client would wait it out.
    stub.play(Reply(status=429, headers={"Retry-After": "1"}), Reply(body={}))
    with (
        mock.patch("urllib3.util.retry.time.sleep") as slept,
        deadline(1.0),
        pytest.raises(AtomicError) as info,
    ):
        atomic_client().task_status_get(task_id="t1")
    slept.assert_not_called()
    assert (info.value.status, info.value.retryable) == (429, True)
    assert len(stub.seen) == 1


def test_under_a_deadline_retries_stop_when_their_backoff_would_pass_it(stub):
    stub.play(Reply(status=503, body={"message": "down"}))
    # The first retry follows at once; the second would wait 0.4 s, which with the 0.5 s an
    # answer needs is more than the deadline leaves.
    with (
        mock.patch("urllib3.util.retry.time.sleep", wraps=time.sleep) as slept,
        deadline(0.8),
        pytest.raises(AtomicError) as info,
    ):
        atomic_client().task_status_get(task_id="t1")
    assert info.value.status == 503
    # Without the deadline it tries three times (see above); the 0.4 s backoff is never waited.
    assert len(stub.seen) == 2
    slept.assert_not_called()


def test_once_the_deadline_has_passed_nothing_is_sent(stub):
    with deadline(0.0), pytest.raises(AtomicError) as info:
        atomic_client().access_token_create(identifier="hub_alice")
    assert info.value.retryable is True
    assert stub.seen == []


def test_a_nested_deadline_never_extends_the_outer_one(stub):
    stub.play(Reply(body=atomic_json("atomic/task_status"), delay=1.5))
    with timeouts_given() as given, deadline(0.3), deadline(5.0), pytest.raises(AtomicError):
        atomic_client().task_status_get(task_id="t1")
    [timeout] = given
    assert 0 < timeout.total <= 0.3


class _CountedSlots(threading.BoundedSemaphore):
    """The client's request slots, recording of each taking whether it would wait for one."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.waited: list[bool] = []

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        self.waited.append(blocking)
        return super().acquire(blocking, timeout)


def test_under_a_deadline_a_call_beyond_the_concurrency_limit_is_refused_at_once(
    stub, settings, monkeypatch
):
    settings.ATOMIC_REQUEST_CONCURRENCY = 1
    slots = _CountedSlots(1)
    monkeypatch.setitem(client_module._slots, 1, slots)
    # The first call's answer comes only once the second call has been refused.
    answer = threading.Event()
    stub.play(Reply(body=atomic_json("atomic/task_status"), hold=answer))

    def first_call() -> None:
        with deadline(3.0):
            atomic_client().task_status_get(task_id="t1")

    waiting = threading.Thread(target=first_call)
    waiting.start()
    wait_until(lambda: stub.seen, what="the first call to reach Atomic")
    with deadline(3.0), pytest.raises(AtomicError) as info:
        atomic_client().task_status_get(task_id="t2")
    assert (info.value.retryable, "busy" in str(info.value)) == (True, True)
    # At once: neither call waited for a slot, and the first still holds the only one.
    assert slots.waited == [False, False]
    assert waiting.is_alive()
    answer.set()
    # Background calls are not counted: this one waits its turn at Atomic and succeeds.
    assert atomic_client().task_status_get(task_id="t3").status == "failed"
    waiting.join()
    assert [seen.path for seen in stub.seen] == ["/task/t1/status", "/task/t3/status"]
    # The slot is given back: the next call under a deadline goes through.
    stub.play(Reply(body=atomic_json("atomic/task_status")))
    with deadline(3.0):
        assert atomic_client().task_status_get(task_id="t4").status == "failed"
