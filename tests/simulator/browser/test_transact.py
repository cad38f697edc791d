"""Transact in a real browser: an integrator's page on its own origin launches the simulator's
SDK, a person goes through the iframe, and the integrator's callbacks hear about it."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.simulator.browser.pages import (
    events,
    handshake_page,
    integrator_page,
    interaction_names,
    launch,
    manage_config,
    wait_for_event,
    wait_for_interaction,
)
from tests.transact_steps import FRAME, connect_with_the_keyboard, log_in


@pytest.fixture
def alice_id(sim) -> str:
    """A fresh Atomic identifier per test, so no test sees another's accounts."""
    return f"alice-{secrets.token_hex(4)}"


@pytest.fixture
def host_page(page: Page, integrator, simulator) -> Page:
    page.goto(integrator.serve("/hub", integrator_page(sdk_url=f"{simulator.url}/sdk/transact.js")))
    return page


def connect(page: Page, simulator, identifier: str, *, username: str = "test-good") -> str:
    """Connect Streamly through the iframe; the finished task's id."""
    token = simulator.access_token(identifier)
    frame = launch(page, simulator_url=simulator.url, config=manage_config(token))
    log_in(frame, company="Streamly", username=username)
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()
    frame.get_by_role("button", name="Done").click()
    return wait_for_event(page, "finish")["taskId"]


def test_a_person_connects_an_account_and_the_integrator_hears_the_finish(
    host_page: Page, simulator, alice_id: str
) -> None:
    task_id = connect(host_page, simulator, alice_id)

    assert simulator.task_status(task_id)["status"] == "completed"
    expect(host_page.locator(FRAME)).to_have_count(0)
    assert host_page.evaluate("document.body.style.overflow") == ""
    names = interaction_names(host_page)
    for name in (
        "Initialized Transact",
        "Viewed Payments Hub",
        "Viewed Search By Company Page",
        "Viewed Login Page",
        "Viewed Task Progress Page",
        "Viewed Task Completed Page",
    ):
        assert name in names
    completed = next(
        e["value"]
        for e in events(host_page, "interaction")
        if e["name"] == "Viewed Task Completed Page"
    )
    assert completed["state"] == "completed"
    assert completed["taskId"] == task_id
    login = next(
        e["value"] for e in events(host_page, "interaction") if e["name"] == "Viewed Login Page"
    )
    assert login["company"] == "Streamly"
    # The user has no identity stored, so Transact asks the host for it, once.
    [request] = events(host_page, "dataRequest")
    assert request["taskId"] == task_id
    assert request["identifier"] == alice_id
    assert request["fields"] == ["identity.firstName", "identity.lastName", "identity.email"]
    assert events(host_page, "close") == []


def test_the_hub_shows_the_connected_bill_with_only_the_last_four_digits(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    simulator.connect(alice_id, "streamly")
    [account] = simulator.accounts(alice_id)
    number = account["account"]["billing"]["accountNumber"]

    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    bills = frame.locator("[data-app=expenses]")
    expect(bills).to_contain_text("Streamly")
    expect(bills).to_contain_text(f"Account ending in {number[-4:]}")
    expect(bills).not_to_contain_text(number)
    expect(frame.locator("[data-app=suggestions]")).to_contain_text("Save up to")


def test_bad_credentials_show_the_failure_sentence(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    log_in(frame, company="Streamly", username="test-bad")

    expect(frame.get_by_text("The username or password was not accepted.")).to_be_visible()
    expect(frame.get_by_role("button", name="Try again")).to_be_visible()
    failed = wait_for_interaction(host_page, "Viewed Task Failed Page")
    assert failed["value"]["failReason"] == "bad-credentials"
    frame.get_by_role("button", name="Done").click()
    finish = wait_for_event(host_page, "finish")
    assert simulator.task_status(finish["taskId"])["status"] == "failed"


@pytest.mark.parametrize(
    ("username", "prompt", "answer", "kind"),
    [
        ("test-code-mfa", "Enter the code Streamly sent you", "123456", "code"),
        ("test-question-mfa", "What was the name of your first pet?", "Rex", "question"),
    ],
)
def test_a_second_factor_is_asked_for_then_the_account_connects(
    host_page: Page, simulator, alice_id: str, username: str, prompt: str, answer: str, kind: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    log_in(frame, company="Streamly", username=username)
    frame.get_by_label(prompt).fill(answer)
    frame.get_by_role("button", name="Verify").click()

    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()
    mfa = wait_for_interaction(host_page, "Viewed MFA Page")
    assert mfa["value"]["type"] == kind


def test_the_close_button_reports_unknown_and_removes_the_iframe(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()

    frame.get_by_role("button", name="Close").click()

    assert wait_for_event(host_page, "close") == {"reason": "unknown"}
    expect(host_page.locator(FRAME)).to_have_count(0)


def test_a_search_with_no_results_offers_to_close(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    frame.get_by_role("button", name="Connect an account").click()

    frame.get_by_label("Search for a company").fill("no such biller")
    frame.locator("[data-empty=companies]").get_by_role("button", name="Close").click()

    assert wait_for_event(host_page, "close") == {"reason": "zero-search-results"}


def test_a_wrong_handshake_id_shows_the_verification_error(
    page: Page, integrator, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    html = handshake_page(
        simulator_url=simulator.url,
        token=token,
        sent_id="ffffffffffffffff",
        frame_id="0123456789abcdef",
    )
    page.goto(integrator.serve("/handmade", html))

    frame = page.frame_locator(FRAME)
    expect(frame.get_by_text("This session could not be verified")).to_be_visible()
    expect(frame.get_by_role("heading", name="Payments Hub")).to_have_count(0)
    assert page.evaluate("window.requests") == 1


def test_the_right_handshake_id_from_a_hand_made_page_is_accepted(
    page: Page, integrator, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    html = handshake_page(
        simulator_url=simulator.url,
        token=token,
        sent_id="0123456789abcdef",
        frame_id="0123456789abcdef",
    )
    page.goto(integrator.serve("/handmade", html))

    expect(page.frame_locator(FRAME).get_by_role("heading", name="Payments Hub")).to_be_visible()


@pytest.mark.parametrize("expired", [True, False], ids=["expired", "unknown"])
def test_an_expired_or_unknown_token_shows_the_expiry_error(
    host_page: Page, simulator, alice_id: str, expired: bool
) -> None:
    token = simulator.access_token(alice_id)
    if expired:
        simulator.expire_token(token)
    else:
        token = "test-" + secrets.token_hex(8)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    expect(frame.get_by_text("This link has expired. Close and try again.")).to_be_visible()
    frame.get_by_role("alert").get_by_role("button", name="Close").click()
    assert wait_for_event(host_page, "close") == {"reason": "unknown"}
    assert "Initialized Transact" not in interaction_names(host_page)


def test_an_action_pauses_the_plan_and_the_account_reflects_it(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    simulator.connect(alice_id, "streamly")
    [account] = simulator.accounts(alice_id)
    pause = next(a for a in account["actions"] if a["type"] == "pause-plan")
    action_id = pause.get("id") or pause["actionId"]

    config = {
        "scope": "pay-link",
        "publicToken": token,
        "tasks": [{"operation": "action", "action": {"id": action_id}}],
    }
    frame = launch(host_page, simulator_url=simulator.url, config=config)
    expect(frame.get_by_role("heading", name="Pause your Streamly plan?")).to_be_visible()
    frame.get_by_role("button", name="Confirm").click()
    expect(frame.get_by_role("heading", name="Your Streamly plan is paused")).to_be_visible()
    frame.get_by_role("button", name="Done").click()

    # The finish reaches the page's handler a moment after the click: wait for it.
    task_id = wait_for_event(host_page, "finish")["taskId"]
    assert simulator.task_status(task_id)["status"] == "completed"
    [after] = simulator.accounts(alice_id)
    assert after["account"]["data"]["plans"][0]["status"] == "paused"


def test_an_unknown_action_id_shows_a_clear_error(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    config = {
        "scope": "pay-link",
        "publicToken": token,
        "tasks": [{"operation": "action", "action": {"id": "not-an-action"}}],
    }
    frame = launch(host_page, simulator_url=simulator.url, config=config)

    expect(frame.get_by_text("This action is no longer available")).to_be_visible()
    frame.get_by_role("alert").get_by_role("button", name="Close").click()
    assert wait_for_event(host_page, "close") == {"reason": "unknown"}


def test_the_sdk_ignores_messages_from_another_origin(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()

    # Posted by the integrator's own origin: right shape, wrong origin and source.
    host_page.evaluate(
        """() => {
          window.postMessage({event: "atomic-transact-finish", payload: {taskId: "forged"}}, "*");
          window.postMessage({event: "atomic-transact-close", payload: {reason: "forged"}}, "*");
        }"""
    )
    frame.get_by_role("button", name="Close").click()

    assert wait_for_event(host_page, "close") == {"reason": "unknown"}
    assert events(host_page, "finish") == []
    assert len(events(host_page, "close")) == 1


def test_closing_while_a_task_runs_reports_task_pending(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    # Slow the task down so it is surely still running when the person closes.
    simulator.configure(task_step_seconds=5)
    try:
        log_in(frame, company="Streamly", username="test-good")
        expect(frame.locator("[data-step=signing-in]")).to_be_visible()
        frame.get_by_role("button", name="Close").click()
    finally:
        simulator.configure(task_step_seconds=None)

    assert wait_for_event(host_page, "close") == {"reason": "task-pending"}


def test_theme_language_and_deeplink_are_honoured(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    companies = simulator.session.get(
        f"{simulator.url}/transact/api/companies", headers={"x-public-token": token}, timeout=10
    ).json()["companies"]
    streamly = next(c for c in companies if c["name"] == "Streamly")
    config = manage_config(
        token,
        theme={"brandColor": "#ff0000", "dark": True},
        language="es",
        deeplink={"companyId": streamly["id"]},
    )
    frame = launch(host_page, simulator_url=simulator.url, config=config)

    expect(frame.get_by_role("heading", name="Inicia sesión en Streamly")).to_be_visible()
    submit = frame.get_by_role("button", name="Continuar")
    expect(submit).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(frame.locator("html")).to_have_class("dark")


def test_a_bad_config_is_a_clear_error_page_not_a_crash(page: Page, simulator) -> None:
    response = page.goto(f"{simulator.url}/initialize/this-is-not-base64!")

    assert response is not None
    assert response.status == 400
    expect(page.get_by_text("The Transact configuration is not valid base64.")).to_be_visible()
    expect(page.get_by_role("button", name="Close").first).to_be_visible()


def test_the_sdk_script_is_served_as_javascript(simulator) -> None:
    response = simulator.session.get(f"{simulator.url}/sdk/transact.js", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "window" in response.text


def test_an_action_taken_from_the_hub_shows_on_the_hub_afterwards(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    simulator.connect(alice_id, "streamly")
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    frame.get_by_role("button", name="Pause plan").click()
    frame.get_by_role("button", name="Confirm").click()
    expect(frame.get_by_role("heading", name="Your Streamly plan is paused")).to_be_visible()
    frame.get_by_role("button", name="Back to Hub").click()

    expect(frame.locator("[data-app=expenses] .badge", has_text="paused")).to_be_visible()
    assert simulator.accounts(alice_id)[0]["account"]["data"]["plans"][0]["status"] == "paused"
    assert events(host_page, "finish") == []


def test_the_billers_site_link_goes_to_the_integrators_open_url_callback(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    simulator.connect(alice_id, "streamly")
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    frame.get_by_role("button", name="Manage on Streamly's site").click()

    assert wait_for_event(host_page, "openUrl") == {"url": "https://www.streamly.com"}


def test_no_data_request_when_the_host_already_gave_the_identity(
    host_page: Page, simulator, alice_id: str
) -> None:
    identity = {"firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com"}
    token = simulator.access_token(alice_id, identity=identity)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))

    log_in(frame, company="Streamly", username="test-good")
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()

    assert events(host_page, "dataRequest") == []


def test_a_container_hosts_the_iframe_inline_and_the_integrator_clears_it_after_close(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(
        host_page, simulator_url=simulator.url, config=manage_config(token), container="#slot"
    )
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()
    iframe = host_page.locator(f"#slot > {FRAME}")
    expect(iframe).to_have_count(1)
    assert iframe.evaluate("el => getComputedStyle(el).position") != "fixed"
    assert host_page.evaluate("document.body.style.overflow") == ""

    frame.get_by_role("button", name="Close").click()

    # Atomic's SDK removes only a modal iframe (a child of <body>); a container's stays until
    # the integrator clears it.
    assert wait_for_event(host_page, "close") == {"reason": "unknown"}
    expect(iframe).to_have_count(1)
    assert host_page.evaluate("document.body.style.overflow") == ""


def test_text_outside_latin_1_in_the_config_throws_before_anything_is_framed(
    host_page: Page, simulator
) -> None:
    # The SDK base64-encodes the config with btoa(), which takes Latin-1 only.
    error = host_page.evaluate(
        """origin => {
          try {
            Atomic.transact({config: {scope: "pay-link", customer: {name: "Łukasz"}},
                             environmentOverride: origin});
            return null;
          } catch (e) { return e.name; }
        }""",
        simulator.url,
    )

    assert error == "InvalidCharacterError"
    expect(host_page.locator(FRAME)).to_have_count(0)


def test_latin_1_text_in_the_config_reaches_transact(host_page: Page, simulator, alice_id) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(
        host_page,
        simulator_url=simulator.url,
        config=manage_config(token, customer={"name": "José Núñez"}),
    )
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()
    src = host_page.locator(FRAME).get_attribute("src")
    encoded = src.split("/initialize/")[1].split("#")[0]
    config = json.loads(base64.b64decode(encoded).decode("latin-1"))
    assert config["customer"] == {"name": "José Núñez"}
    assert config["deferPublicToken"] is True and "publicToken" not in config
    assert config["platform"]["sdkVersion"] == "3.2.0"


def test_a_second_launch_stacks_a_second_iframe_and_a_stale_close_removes_the_first(
    host_page: Page, simulator
) -> None:
    tokens = [simulator.access_token(f"alice-{secrets.token_hex(4)}") for _ in range(2)]
    host_page.evaluate(
        """([origin, tokens]) => {
          window.handles = tokens.map(token => Atomic.transact({
            config: {scope: "pay-link", publicToken: token, tasks: [{operation: "manage"}]},
            environmentOverride: origin,
          }));
        }""",
        [simulator.url, tokens],
    )
    expect(host_page.locator(f"body > {FRAME}")).to_have_count(2)
    first_src, second_src = host_page.locator(FRAME).evaluate_all("els => els.map(e => e.src)")

    # close() is not bound to its launch: it removes the first iframe on the page.
    host_page.evaluate("window.handles[1].close()")

    expect(host_page.locator(FRAME)).to_have_count(1)
    assert host_page.locator(FRAME).get_attribute("src") == second_src != first_src
    assert host_page.evaluate("document.body.style.overflow") == ""


def test_a_token_in_the_config_itself_is_used_without_a_handshake(
    page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    config = {"scope": "pay-link", "publicToken": token, "tasks": [{"operation": "manage"}]}
    encoded = base64.b64encode(json.dumps(config).encode()).decode()

    page.goto(f"{simulator.url}/initialize/{encoded}")

    expect(page.get_by_role("heading", name="Payments Hub")).to_be_visible()
    expect(page.locator("[data-app=orders]")).to_contain_text("No orders yet.")


def test_a_person_can_connect_with_the_keyboard_alone(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_focused()

    connect_with_the_keyboard(host_page, frame)

    assert simulator.task_status(wait_for_event(host_page, "finish")["taskId"])["status"] == (
        "completed"
    )


def test_try_again_after_a_failure_goes_back_to_the_login(
    host_page: Page, simulator, alice_id: str
) -> None:
    token = simulator.access_token(alice_id)
    frame = launch(host_page, simulator_url=simulator.url, config=manage_config(token))
    log_in(frame, company="Streamly", username="test-declined")
    expect(frame.get_by_text("The payment method was declined.")).to_be_visible()

    frame.get_by_role("button", name="Try again").click()

    expect(frame.get_by_role("heading", name="Log in to Streamly")).to_be_visible()
    expect(frame.get_by_label("Username")).to_have_value("")
