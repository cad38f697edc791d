"""The Transact page's own calls and its entry URL, over HTTP: scoped to the token's user,
and every bad input a clear 4xx, never a 500. The flows that make these calls are driven in a
browser in tests/simulator/browser/."""

from __future__ import annotations

import base64
import json

import pytest


def _get(sim, path: str, token: str = ""):
    return sim.session.get(f"{sim.url}{path}", headers={"x-public-token": token}, timeout=10)


def _post(sim, path: str, token: str, body: object):
    return sim.session.post(
        f"{sim.url}{path}", headers={"x-public-token": token}, json=body, timeout=10
    )


def _encoded(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_bob_cannot_read_alices_task(sim) -> None:
    sim.access_token("alice-scope")
    task_id = sim.connect("alice-scope", "streamly")
    bob = sim.access_token("bob-scope")

    answer = _get(sim, f"/transact/api/tasks/{task_id}", bob)

    assert answer.status_code == 404
    assert answer.json()["message"]


def test_bob_cannot_use_alices_action(sim) -> None:
    sim.access_token("alice-action-scope")
    sim.connect("alice-action-scope", "streamly")
    [account] = sim.accounts("alice-action-scope")
    plans_before = account["account"]["data"]["plans"]
    action_id = account["actions"][0].get("id") or account["actions"][0]["actionId"]
    bob = sim.access_token("bob-action-scope")

    assert _get(sim, f"/transact/api/actions/{action_id}", bob).status_code == 422
    assert _post(sim, f"/transact/api/actions/{action_id}", bob, {}).status_code == 422
    assert sim.accounts("alice-action-scope")[0]["account"]["data"]["plans"] == plans_before


def test_a_missing_token_is_a_401_with_a_message(sim) -> None:
    answer = _get(sim, "/transact/api/session")

    assert answer.status_code == 401
    assert answer.json()["message"] == "A public token is required."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "test-good", "password": "x"}, "The company is required."),
        ({"companyId": "nope", "username": "test-good", "password": "x"}, "No company"),
        ({"companyId": "COMPANY", "password": "x"}, "Username is required."),
        ({"companyId": "COMPANY", "username": "test-good"}, "Password is required."),
        ([1, 2], "The request body must be a JSON object."),
    ],
)
def test_a_bad_login_is_a_clear_4xx(sim, body: object, message: str) -> None:
    token = sim.access_token("alice-bad-login")
    company_id = _get(sim, "/transact/api/companies?q=streamly", token).json()["companies"][0]["id"]
    if isinstance(body, dict) and body.get("companyId") == "COMPANY":
        body = body | {"companyId": company_id}

    answer = _post(sim, "/transact/api/login", token, body)

    assert 400 <= answer.status_code < 500
    assert answer.json()["message"].startswith(message)


def test_mfa_is_refused_for_a_login_that_never_asked_for_it(sim) -> None:
    token = sim.access_token("alice-no-mfa")
    company_id = _get(sim, "/transact/api/companies", token).json()["companies"][0]["id"]

    answer = _post(
        sim,
        "/transact/api/mfa",
        token,
        {"companyId": company_id, "username": "test-good", "answer": "123456"},
    )

    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("not-base64!", "not valid base64"),
        (base64.b64encode(b"{nope").decode(), "not valid JSON"),
        (_encoded([1]), "must be a JSON object"),
        (_encoded({"scope": "pay-link"}), "needs a tasks list"),
        (_encoded({"tasks": [{"operation": "switch"}]}), "not supported"),
        (_encoded({"tasks": [{"operation": "action", "action": {}}]}), "needs action.id"),
        (_encoded({"tasks": [{"operation": "manage", "apps": ["nope"]}]}), "Unknown Payments"),
        (_encoded({"scope": "deposit", "tasks": [{"operation": "manage"}]}), "pay-link scope"),
    ],
)
def test_a_bad_transact_config_is_a_400_error_screen(sim, encoded: str, message: str) -> None:
    answer = sim.session.get(f"{sim.url}/initialize/{encoded}", timeout=10)

    assert answer.status_code == 400
    assert message in answer.text
    assert "frame-ancestors *" in answer.headers["Content-Security-Policy"]


def test_the_transact_page_carries_the_config_but_no_inline_script(sim) -> None:
    config = {
        "inSdk": True,
        "scope": "pay-link",
        "tasks": [{"operation": "manage", "apps": ["expenses"]}],
        "theme": {"brandColor": "red;}</style><script>alert(1)</script>"},
        "deferPublicToken": True,
    }

    answer = sim.session.get(f"{sim.url}/initialize/{_encoded(config)}", timeout=10)

    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "<script>alert" not in answer.text
    assert '"brandColor": ""' in answer.text
    # The progress screen's pace is the simulator's setting (the test process sets 100 ms).
    assert '<body data-task-poll-ms="100" ' in answer.text
