"""Account data is stable per user, differs between users, and actions change it."""

from __future__ import annotations

import time

import pytest

BILLER_SLUGS = (
    "streamly",
    "tunewave",
    "northpeak-mobile",
    "brightline-fiber",
    "harborline-auto",
    "keystone-renters",
    "cascade-auto-finance",
    "meridian-student-loans",
)


def without_action_ids(accounts):
    # Action ids are re-issued (with a new expiry) on every call; everything else is stable.
    return [{**a, "actions": [x["type"] for x in a["actions"]]} for a in accounts]


def linked(sim, name, companies=("streamly", "northpeak-mobile", "keystone-renters")):
    sim.access_token(name)
    task_ids = [sim.connect(name, company, wait=False) for company in companies]
    for task_id in task_ids:
        assert sim.wait_for_task(task_id)["status"] == "completed"
    return sim.accounts(name)


def test_the_same_user_always_gets_the_same_data(sim, person):
    alice = person("alice")
    first = linked(sim, alice)

    again = sim.accounts(alice)

    assert without_action_ids(again) == without_action_ids(first)


def test_two_users_get_different_data(sim, person):
    alice_accounts = linked(sim, person("alice"))
    bob_accounts = linked(sim, person("bob"))

    assert len(alice_accounts) == len(bob_accounts) == 3
    for alice_account, bob_account in zip(alice_accounts, bob_accounts, strict=True):
        assert alice_account["company"] == bob_account["company"]
        assert alice_account["_id"] != bob_account["_id"]
        assert alice_account["account"]["billing"] != bob_account["account"]["billing"]


def test_bills_are_dated_around_today(sim, person):
    accounts = linked(sim, person("alice"), companies=BILLER_SLUGS)

    due_dates = {a["account"]["billing"]["dueDate"][:10] for a in accounts}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    in_45_days = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 45 * 86400))
    a_month_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 31 * 86400))
    assert all(a_month_ago <= day <= in_45_days for day in due_dates)
    assert any(day >= today for day in due_dates)


def action(account, kind):
    return next(a["id"] for a in account["actions"] if a["type"] == kind)


def test_completing_pause_plan_pauses_the_plan_and_stops_the_bill(sim, person):
    alice = person("alice")
    (account,) = linked(sim, alice, companies=("streamly",))

    task_id = sim.run_action(alice, action(account, "pause-plan"))

    assert sim.task_status(task_id)["status"] == "completed"
    (after,) = sim.accounts(alice)
    assert after["account"]["data"]["plans"][0]["status"] == "paused"
    assert after["account"]["billing"]["amount"] == 0
    assert "pause-plan" not in [a["type"] for a in after["actions"]]
    assert after["_id"] == account["_id"]


def test_completing_cancel_plan_cancels_and_offers_nothing_more(sim, person):
    alice = person("alice")
    (account,) = linked(sim, alice, companies=("tunewave",))

    sim.run_action(alice, action(account, "cancel-plan"))

    (after,) = sim.accounts(alice)
    assert after["account"]["data"]["plans"][0]["status"] == "cancelled"
    assert after["actions"] == []


def test_completing_change_plan_moves_to_another_tier(sim, person):
    alice = person("alice")
    (account,) = linked(sim, alice, companies=("northpeak-mobile",))
    before = account["account"]["data"]["plans"][0]

    sim.run_action(alice, action(account, "change-plan"))

    (after,) = sim.accounts(alice)
    plan = after["account"]["data"]["plans"][0]
    assert plan["title"] != before["title"]
    assert plan["status"] == "active"


def test_action_ids_change_on_every_call_but_all_work(sim, person):
    alice = person("alice")
    (account,) = linked(sim, alice, companies=("streamly",))
    token = sim.access_token(alice)

    (again,) = sim.accounts(alice)

    old_id, new_id = action(account, "pause-plan"), action(again, "pause-plan")
    assert old_id != new_id
    # Both name the same action on the same account (what Transact's confirmation screen reads).
    described = [
        sim.session.get(
            f"{sim.url}/transact/api/actions/{action_id}",
            headers={"x-public-token": token},
            timeout=10,
        )
        for action_id in (old_id, new_id)
    ]
    assert [answer.status_code for answer in described] == [200, 200]
    assert [
        (answer.json()["action"]["actionType"], answer.json()["action"]["accountId"])
        for answer in described
    ] == [("pause-plan", account["_id"])] * 2
    # And the older one still acts.
    task_id = sim.run_action(alice, old_id)
    assert sim.task_status(task_id)["status"] == "completed"
    (after,) = sim.accounts(alice)
    assert after["account"]["data"]["plans"][0]["status"] == "paused"


def test_an_expired_action_id_is_refused(sim, person):
    alice = person("alice")
    sim.configure(action_lifetime_seconds=0)
    (account,) = linked(sim, alice, companies=("streamly",))

    answer = sim.session.post(
        f"{sim.url}/_sim/tasks",
        json={"identifier": alice, "actionId": action(account, "pause-plan")},
    )

    assert answer.status_code == 422
    assert "no longer available" in answer.json()["message"]


@pytest.mark.parametrize("forged", ["", "garbage", "eyJhIjoiMSJ9:1abc:deadbeef"])
def test_a_forged_action_id_is_refused(sim, person, forged):
    alice = person("alice")
    sim.access_token(alice)

    answer = sim.session.post(
        f"{sim.url}/_sim/tasks", json={"identifier": alice, "actionId": forged}
    )

    assert answer.status_code == 422


def test_bob_cannot_use_alices_action_id(sim, person):
    alice, bob = person("alice"), person("bob")
    (account,) = linked(sim, alice, companies=("streamly",))
    linked(sim, bob, companies=("streamly",))

    answer = sim.session.post(
        f"{sim.url}/_sim/tasks",
        json={"identifier": bob, "actionId": action(account, "pause-plan")},
    )

    assert answer.status_code == 422
    (alice_after,) = sim.accounts(alice)
    assert alice_after["account"]["data"]["plans"][0]["status"] == "active"


def test_accounts_show_the_identity_the_host_gave(sim, person):
    alice = person("alice")
    sim.access_token(alice, identity={"firstName": "Alice", "email": "alice@example.org"})
    sim.connect(alice, "streamly")

    (account,) = sim.accounts(alice)

    (identity,) = account["account"]["identities"]
    assert identity["firstName"] == "Alice"
    assert identity["email"] == "alice@example.org"
    assert identity["lastName"]  # still filled in by the biller


def test_the_newer_account_shape_nests_actions_the_host_still_finds(sim, person):
    from paylink.payloads import accounts_parse

    alice = person("alice")
    sim.access_token(alice)
    sim.connect(alice, "streamly")
    seed_actions = [(a["type"], a["id"]) for a in sim.accounts(alice)[0]["actions"]]

    sim.configure(account_shape="newer")
    (account,) = sim.accounts(alice)

    assert "actions" not in account
    (expense,) = account["expenses"]
    assert {tuple(sorted(a)) for a in expense["actions"]} == {("actionId", "automated", "type")}
    (parsed,) = accounts_parse({"accounts": [account]})
    assert [a.type for a in parsed.actions] == [kind for kind, _ in seed_actions]
    assert {a.automated for a in parsed.actions} <= {True, False}


# --- Named bills: one account managing several, each with its own actions ----------------------


def test_an_account_can_manage_several_named_bills_each_with_its_own_actions(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    sim.connect(alice, "orchard")
    sim.configure(account_shape="newer")

    (account,) = sim.accounts(alice)

    tv, ledger = account["expenses"]
    assert (tv["name"], tv["amount"], tv["status"]) == ("Orchard TV+", 9.99, "active")
    assert (ledger["name"], ledger["amount"]) == ("The Morning Ledger", 4.99)
    assert tv["dueDate"] == ledger["dueDate"] == account["account"]["billing"]["dueDate"]
    assert [a["type"] for a in tv["actions"]] == ["change-plan", "pause-plan", "cancel-plan"]
    assert [a["type"] for a in ledger["actions"]] == ["cancel-plan"]
    assert tv["_id"] != ledger["_id"]
    descriptions = [item["description"] for item in account["account"]["billing"]["items"]]
    assert descriptions[:2] == ["Orchard TV+", "The Morning Ledger"]


def test_an_action_on_one_named_bill_changes_that_bill_only(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    sim.connect(alice, "orchard")
    sim.configure(account_shape="newer")
    (account,) = sim.accounts(alice)
    ledger = account["expenses"][1]

    sim.run_action(alice, ledger["actions"][0]["actionId"])

    tv, ledger = sim.accounts(alice)[0]["expenses"]
    assert (ledger["status"], ledger["amount"], ledger["actions"]) == ("cancelled", 0.0, [])
    assert (tv["status"], tv["amount"]) == ("active", 9.99)
    assert len(tv["actions"]) == 3


def test_a_single_bill_account_names_its_bill_after_the_company(sim, person):
    alice = person("alice")
    sim.access_token(alice)
    sim.connect(alice, "northpeak-mobile")
    sim.configure(account_shape="newer")
    (bill,) = sim.accounts(alice)[0]["bills"]
    assert bill["name"] == "Northpeak Mobile"
    assert bill["title"] and bill["actions"]
