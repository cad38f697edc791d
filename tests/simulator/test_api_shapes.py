"""Each endpoint's answer has the shape of Atomic's published example."""

from __future__ import annotations

import re

from tests.atomic_json import atomic_json
from tests.simulator.shape import seed, shape_differences

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_access_token_answers_a_sandbox_style_public_token(sim, person):
    answer = sim.api("POST", "/access-token", json={"identifier": person("alice")})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    token = answer.json()["data"]["publicToken"]
    assert re.fullmatch(r"test-[0-9a-f-]{36}", token)


def test_accounts_match_the_seed_hulu_example_key_by_key(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    companies = ("streamly", "northpeak-mobile", "harborline-auto", "cascade-auto-finance")
    for task_id in [sim.connect(alice, company, wait=False) for company in companies]:
        sim.wait_for_task(task_id)

    accounts = sim.accounts(alice)

    assert len(accounts) == 4
    example = atomic_json("accounts/hulu")
    problems = shape_differences(
        {"accounts": accounts}, example, optional=frozenset({"pendingChange"})
    )
    assert problems == []
    assert {a["account"]["type"] for a in accounts} == {"subscription", "telecom", "policy", "loan"}
    for account in accounts:
        assert OBJECT_ID.match(account["_id"]) and account["_id"] == account["account"]["_id"]
        assert OBJECT_ID.match(account["company"]["_id"])
        assert account["company"]["branding"]["logo"]["url"].startswith(sim.url + "/logos/")
        assert ISO_MS.match(account["account"]["billing"]["dueDate"])
        assert len(account["account"]["billing"]["history"]) == 6
        assert account["type"] == "linked"
        assert {action["type"] for action in account["actions"]} <= {
            "change-plan",
            "cancel-plan",
            "pause-plan",
        }


def test_an_unknown_identifier_has_no_accounts(sim, person):
    answer = sim.api("GET", f"/{person('nobody')}/pay-link/accounts")

    assert answer.status_code == 200
    assert answer.json() == {"accounts": []}


def test_a_user_sees_only_companies_they_connected(sim, person):
    alice, bob = person("alice"), person("bob")
    sim.access_token(alice)
    sim.access_token(bob)
    sim.connect(alice, "tunewave")

    assert [a["company"]["name"] for a in sim.accounts(alice)] == ["Tunewave Music"]
    assert sim.accounts(bob) == []


def test_task_status_and_details_match_the_seed_examples(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    task_id = sim.connect(alice, "streamly", username="test-declined", metadata={"data": "test"})

    status = sim.api("GET", f"/task/{task_id}/status").json()
    details = sim.api("GET", f"/task/{task_id}/details").json()

    assert shape_differences(status, seed("seed_task_status")) == []
    assert status["failReason"] == "payment-method-declined"
    assert ISO_MS.match(status["createdAt"])
    assert shape_differences(details, seed("seed_task_details"), optional={"linkedAccount"}) == []
    task = details["data"]["task"]
    assert task["_id"] == task_id
    assert task["user"]["identifier"] == alice
    assert task["company"]["name"] == "Streamly"
    assert task["status"] == "failed" and task["authenticated"] is True


def test_user_tasks_match_the_seed_example_and_filter_by_status(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    good = sim.connect(alice, "streamly", wait=False)
    bad = sim.connect(alice, "tunewave", username="test-bad", wait=False)
    sim.wait_for_task(good)
    sim.wait_for_task(bad)

    everything = sim.api("GET", f"/user/{alice}/tasks").json()
    failed = sim.api("GET", f"/user/{alice}/tasks?status=failed").json()

    assert shape_differences(everything, seed("seed_user_tasks"), optional={"failReason"}) == []
    assert {t["_id"] for t in everything["data"]["tasks"]} == {good, bad}
    assert [(t["_id"], t["failReason"]) for t in failed["data"]["tasks"]] == [
        (bad, "bad-credentials")
    ]


def test_put_user_deep_merges_into_the_users_data(sim, person):
    alice = person("alice")
    sim.access_token(alice, identity={"firstName": "Alice", "email": "a@example.com"})

    answer = sim.api(
        "PUT",
        "/user",
        json={"identifier": alice, "data": {"identity": {"lastName": "Liddell"}, "cards": []}},
    )

    assert answer.status_code == 200
    assert answer.json()["data"]["identifier"] == alice
    stored = next(u for u in sim.state()["users"] if u["identifier"] == alice)["data"]
    assert stored == {
        "identity": {"firstName": "Alice", "email": "a@example.com", "lastName": "Liddell"},
        "cards": [],
    }


def test_put_user_creates_a_user_it_does_not_know(sim, person):
    carol = person("carol")

    answer = sim.api("PUT", "/user", json={"identifier": carol, "data": {"identity": {}}})

    assert answer.status_code == 200
    assert carol in {u["identifier"] for u in sim.state()["users"]}


def test_end_monitoring_is_recorded(sim, person):
    alice = person("alice")
    sim.access_token(alice)

    answer = sim.api("PUT", f"/user/{alice}/end-monitoring")

    assert answer.status_code == 200
    assert answer.json()["data"]["identifier"] == alice
    user = next(u for u in sim.state()["users"] if u["identifier"] == alice)
    assert user["monitoring_ended_at"]
