"""Fidelity: Atomic's published SDK drives the simulator's Transact as our own script does.

The published file is not ours to ship, so it never enters the repository: point
PUBLISHED_SDK_PATH at a local copy (`npm pack @atomicfi/transact-javascript@3.2.0` in a scratch
folder, then unpack it) to run these tests; they are skipped otherwise, and named as skipped in
the summary. With it set, tests/testenv.py also makes the simulator serve that file in place of
ours, so the whole browser suite runs against Atomic's script.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.simulator.browser.pages import (
    events,
    integrator_page,
    interaction_names,
    launch,
    manage_config,
    wait_for_event,
)
from tests.transact_steps import FRAME, log_in

PUBLISHED_SDK = os.environ.get("PUBLISHED_SDK_PATH", "")

pytestmark = pytest.mark.skipif(
    not PUBLISHED_SDK, reason="PUBLISHED_SDK_PATH is not set (the published-SDK check)"
)


def test_the_published_sdk_connects_an_account_through_the_simulator(
    page: Page, integrator, sim
) -> None:
    sdk_url = integrator.serve(
        "/vendor/transact.js", Path(PUBLISHED_SDK).read_bytes(), "application/javascript"
    )
    page.goto(integrator.serve("/hub", integrator_page(sdk_url=sdk_url)))
    token = sim.access_token("alice-published-sdk")

    frame = launch(page, simulator_url=sim.url, config=manage_config(token))
    log_in(frame, company="Streamly", username="test-good")
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()
    frame.get_by_role("button", name="Done").click()

    task_id = wait_for_event(page, "finish")["taskId"]
    assert sim.task_status(task_id)["status"] == "completed"
    expect(page.locator(FRAME)).to_have_count(0)
    assert "Viewed Task Completed Page" in interaction_names(page)
    assert events(page, "dataRequest")[0]["taskId"] == task_id


def test_the_published_sdk_relays_the_close_button(page: Page, integrator, sim) -> None:
    sdk_url = integrator.serve(
        "/vendor/transact.js", Path(PUBLISHED_SDK).read_bytes(), "application/javascript"
    )
    page.goto(integrator.serve("/hub", integrator_page(sdk_url=sdk_url)))
    token = sim.access_token("alice-published-close")

    frame = launch(page, simulator_url=sim.url, config=manage_config(token))
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()
    frame.get_by_role("button", name="Close").click()

    assert wait_for_event(page, "close") == {"reason": "unknown"}
    expect(page.locator(FRAME)).to_have_count(0)


def test_the_simulator_serves_the_published_file_in_place_of_its_own(simulator) -> None:
    served = simulator.session.get(f"{simulator.url}/sdk/transact.js", timeout=5).content
    assert served == Path(PUBLISHED_SDK).read_bytes()
