"""Bad requests get a clear JSON error with the right status, never a 500 or an HTML page."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def sim(simulator):
    # These answers depend on no fault or runtime setting, and every fixture that sets one
    # clears it after its test: one reset for the module instead of two per case.
    simulator.reset()
    return simulator


ENDPOINTS = [
    ("POST", "/access-token"),
    ("GET", "/someone/pay-link/accounts"),
    ("GET", "/task/0123456789abcdef01234567/status"),
    ("GET", "/task/0123456789abcdef01234567/details"),
    ("GET", "/user/someone/tasks"),
    ("PUT", "/user"),
    ("PUT", "/user/someone/end-monitoring"),
]


def assert_json_error(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": "", "x-api-secret": ""},
        {"x-api-key": "simulator-key", "x-api-secret": "wrong-secret"},
        {"x-api-key": "wrong-key", "x-api-secret": "simulator-secret"},
    ],
    ids=["missing", "wrong-secret", "wrong-key"],
)
def test_it_rejects_requests_without_the_right_key_and_secret(sim, method, path, headers):
    if headers["x-api-key"] == "simulator-key":
        headers = {**headers, "x-api-key": sim.api_key}
    if headers["x-api-secret"] == "simulator-secret":
        headers = {**headers, "x-api-secret": sim.api_secret}

    answer = sim.api(method, path, json={"identifier": "x"}, headers=headers)

    assert_json_error(answer, 401)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_it_answers_405_in_json_to_the_wrong_method(sim, method, path):
    wrong = "DELETE"

    answer = sim.api(wrong, path)

    assert_json_error(answer, 405)
    assert method in answer.headers["Allow"]


@pytest.mark.parametrize("path", ["/access-token", "/user"])
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"identifier"', b"\xff\xfe", b""],
    ids=["garbled", "array", "string", "not-utf8", "empty"],
)
def test_it_answers_400_to_a_body_that_is_not_a_json_object(sim, path, body):
    method = "POST" if path == "/access-token" else "PUT"

    answer = sim.api(method, path, data=body, headers={"content-type": "application/json"})

    assert_json_error(answer, 400)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"identifier": ""}, 422),
        ({"identifier": "   "}, 422),
        ({"identifier": "x" * 256}, 422),
        ({"identifier": "has/slash"}, 422),
        ({"identifier": 42}, 400),
        ({"identifier": ["alice"]}, 400),
        ({"identifier": "alice", "tokenLifetime": 1799}, 422),
        ({"identifier": "alice", "tokenLifetime": 2592001}, 422),
        ({"identifier": "alice", "tokenLifetime": "3600"}, 422),
        ({"identifier": "alice", "tokenLifetime": 3600.5}, 422),
        ({"identifier": "alice", "tokenLifetime": True}, 422),
        ({"identifier": "alice", "cards": {"lastFour": "1234"}}, 400),
        ({"identifier": "alice", "identity": "Alice"}, 400),
    ],
)
def test_access_token_validates_its_input(sim, body, status):
    answer = sim.api("POST", "/access-token", json=body)

    assert_json_error(answer, status)


@pytest.mark.parametrize("lifetime", [1800, 2592000])
def test_access_token_accepts_the_lifetime_bounds(sim, person, lifetime):
    answer = sim.api(
        "POST", "/access-token", json={"identifier": person("alice"), "tokenLifetime": lifetime}
    )

    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {}}, 422),
        ({"identifier": "alice"}, 422),
        ({"identifier": "alice", "data": [1]}, 400),
        ({"identifier": "alice", "data": "x"}, 400),
        ({"identifier": 7, "data": {}}, 400),
    ],
)
def test_put_user_validates_its_input(sim, body, status):
    answer = sim.api("PUT", "/user", json=body)

    assert_json_error(answer, status)


@pytest.mark.parametrize(
    "path",
    [
        "/task/0123456789abcdef01234567/status",
        "/task/not-an-id/details",
        "/user/nobody-at-all/tasks",
        "/user/nobody-at-all/end-monitoring",
    ],
)
def test_it_answers_404_for_unknown_tasks_and_users(sim, path):
    method = "PUT" if path.endswith("end-monitoring") else "GET"

    answer = sim.api(method, path)

    assert_json_error(answer, 404)


def test_user_tasks_rejects_an_unknown_status_filter(sim, person):
    alice = person("alice")
    sim.access_token(alice)

    answer = sim.api("GET", f"/user/{alice}/tasks?status=done")

    assert_json_error(answer, 422)


@pytest.mark.parametrize("path", ["/no/such/path", "/task/x", "/pay-link/accounts", "/user/a/b/c"])
def test_unknown_paths_are_a_json_404(sim, path):
    answer = sim.api("GET", path)

    assert_json_error(answer, 404)


def test_a_tasks_status_is_visible_only_through_the_api_key(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly", wait=False)

    answer = sim.api("GET", f"/task/{task_id}/status", headers={"x-api-secret": ""})

    assert_json_error(answer, 401)
    assert "status" not in answer.json()


def test_an_expired_public_token_is_refused(sim, person):
    alice = person("alice")
    token = sim.access_token(alice, tokenLifetime=1800)
    headers = {"x-public-token": token}
    assert sim.session.get(f"{sim.url}/transact/api/companies", headers=headers).status_code == 200

    sim.expire_token(token)

    answer = sim.session.get(f"{sim.url}/transact/api/companies", headers=headers)
    assert_json_error(answer, 401)
    tokens = [t for t in sim.state()["tokens"] if t["identifier"] == alice]
    assert tokens[0]["expired"] is True
    assert token not in str(sim.state())


def test_an_oversized_body_is_refused_in_json(sim):
    huge = b'{"identifier": "' + b"a" * 3_000_000 + b'"}'

    answer = sim.api(
        "POST", "/access-token", data=huge, headers={"content-type": "application/json"}
    )

    assert_json_error(answer, 413)
