"""API faults answer the next N matching requests as asked; bad fault requests are refused."""

from __future__ import annotations

import json
import time

import pytest


def test_a_429_fault_carries_retry_after_then_clears(sim, person):
    identifier = person("alice")
    sim.control_faults(endpoint="accounts", kind="429", times=2, retry_after=7)

    answers = [sim.api("GET", f"/{identifier}/pay-link/accounts") for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json()["code"] == 429


@pytest.mark.parametrize("kind", ["500", "502", "503", "504"])
def test_a_server_error_fault_answers_that_status_in_json(sim, person, kind):
    sim.control_faults(endpoint="access-token", kind=kind)

    answer = sim.api("POST", "/access-token", json={"identifier": person("alice")})

    assert answer.status_code == int(kind)
    assert answer.json()["code"] == int(kind)
    assert sim.api("POST", "/access-token", json={"identifier": "x"}).status_code == 200


def test_a_fault_for_one_endpoint_leaves_the_others_alone(sim, person):
    sim.control_faults(endpoint="task-status", kind="503", times=1)

    answer = sim.api("GET", f"/{person('alice')}/pay-link/accounts")

    assert answer.status_code == 200
    assert [f["remaining"] for f in sim.state()["faults"]["api"]] == [1]


def test_a_wildcard_fault_hits_any_endpoint(sim, person):
    sim.control_faults(endpoint="*", kind="500", times=1)

    answer = sim.api("PUT", "/user", json={"identifier": person("alice"), "data": {}})

    assert answer.status_code == 500
    assert sim.state()["faults"]["api"] == []


def test_auth_is_checked_before_a_fault_is_used(sim):
    sim.control_faults(endpoint="accounts", kind="500", times=1)

    answer = sim.api("GET", "/a/pay-link/accounts", headers={"x-api-secret": "wrong"})

    assert answer.status_code == 401
    assert [f["remaining"] for f in sim.state()["faults"]["api"]] == [1]


def test_a_slow_fault_delays_a_normal_answer(sim, person):
    sim.control_faults(endpoint="accounts", kind="slow", delay=0.6)

    started = time.monotonic()
    answer = sim.api("GET", f"/{person('alice')}/pay-link/accounts")

    assert time.monotonic() - started >= 0.6
    assert answer.status_code == 200 and answer.json() == {"accounts": []}


def test_a_malformed_fault_answers_200_with_a_body_that_is_not_json(sim, person):
    sim.control_faults(endpoint="access-token", kind="malformed")

    answer = sim.api("POST", "/access-token", json={"identifier": person("alice")})

    assert answer.status_code == 200
    assert answer.text.startswith('{"data"')
    with pytest.raises(ValueError):
        json.loads(answer.text)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/_sim/faults", {"endpoint": "nowhere", "kind": "500"}),
        ("/_sim/faults", {"endpoint": "accounts", "kind": "418"}),
        ("/_sim/faults", {"endpoint": "accounts"}),
        ("/_sim/faults", {"kind": "500", "times": 0}),
        ("/_sim/faults", {"kind": "500", "times": "3"}),
        ("/_sim/faults", {"kind": "429", "retry_after": -1}),
        ("/_sim/faults", {"kind": "slow", "delay": 600}),
        ("/_sim/webhook-faults", {"mode": "explode"}),
        ("/_sim/webhook-faults", {"mode": "drop", "times": 1.5}),
        ("/_sim/config", {"webhook_url": "ftp://example.com/"}),
        ("/_sim/config", {"webhook_url": 12}),
        ("/_sim/config", {"task_step_seconds": -1}),
        ("/_sim/config", {"webhook_retry_delay": "soon"}),
        ("/_sim/config", {"colour": "blue"}),
        ("/_sim/tasks", {"identifier": ""}),
        ("/_sim/tokens/expire", {}),
    ],
)
def test_control_endpoints_refuse_bad_input_with_422(sim, path, payload):
    answer = sim.session.post(sim.url + path, json=payload)

    assert answer.status_code == 422, answer.text
    assert answer.json()["message"]
    assert sim.state()["faults"] == {"api": [], "webhook": []}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{oops", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"kind=500", "text/plain", 415),
    ],
)
def test_control_endpoints_refuse_what_is_not_a_json_object(sim, body, content_type, status):
    answer = sim.session.post(
        f"{sim.url}/_sim/faults", data=body, headers={"content-type": content_type}
    )

    assert answer.status_code == status
    assert answer.json()["code"] == status


def test_control_endpoints_only_take_post(sim):
    answer = sim.session.get(f"{sim.url}/_sim/faults")

    assert answer.status_code == 405


def test_runtime_config_is_applied_and_reset(sim):
    changed = sim.configure(task_step_seconds=0.1, webhook_url="http://127.0.0.1:9/x")

    assert changed["config"]["task_step_seconds"] == 0.1
    sim.reset()
    config = sim.state()["config"]
    assert config["task_step_seconds"] == 0.1
    assert config["webhook_url"] != "http://127.0.0.1:9/x"


def test_the_failure_reason_key_is_one_of_atomics_two_names(sim):
    assert sim.state()["config"]["fail_reason_key"] == "failReason"
    assert sim.configure(fail_reason_key="reason")["config"]["fail_reason_key"] == "reason"

    answer = sim.session.post(f"{sim.url}/_sim/config", json={"fail_reason_key": "why"})

    assert answer.status_code == 422
    assert answer.json()["message"] == "fail_reason_key must be one of: failReason, reason."
    assert sim.state()["config"]["fail_reason_key"] == "reason"


def test_expiring_an_unknown_token_is_a_404(sim):
    answer = sim.session.post(f"{sim.url}/_sim/tokens/expire", json={"publicToken": "test-nope"})

    assert answer.status_code == 404
