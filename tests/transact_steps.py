"""The steps a person takes inside Transact (the simulator's, framed by any page), shared by the
simulator's browser tests (tests/simulator/browser) and the host's (tests/e2e)."""

from __future__ import annotations

import re

from playwright.sync_api import FrameLocator, Page, expect

# The iframe the SDK adds, whichever SDK it is (ours or Atomic's published one).
FRAME = "#atomic-transact-iframe"


def log_in(frame: FrameLocator, *, company: str, username: str) -> None:
    """From the Hub: pick the company from search and submit the sandbox credentials."""
    frame.get_by_role("button", name="Connect an account").click()
    query = company[:4]
    frame.get_by_label("Search for a company").fill(query)
    # Click only once the filtered list has replaced the full one: a list redrawn between
    # mouse-down and mouse-up swallows the click.
    frame.locator(f'#company-results[data-query="{query}"]').wait_for()
    frame.get_by_role("button", name=re.compile(re.escape(company))).click()
    frame.get_by_label("Username").fill(username)
    frame.get_by_label("Password").fill("any password at all")
    frame.get_by_role("button", name="Continue").click()


def connect_with_the_keyboard(page: Page, frame: FrameLocator, *, timeout: float = 5_000) -> None:
    """From the Hub's heading (focused), connect Streamly with test-good and press Done, keyboard
    alone: every step checks where focus landed."""
    keys = page.keyboard
    keys.press("Tab")
    expect(frame.get_by_role("button", name="Connect an account")).to_be_focused()
    keys.press("Enter")
    expect(frame.get_by_label("Search for a company")).to_be_focused()
    keys.type("Streamly")
    expect(frame.locator(".company")).to_have_count(1)
    keys.press("Tab")
    keys.press("Enter")
    expect(frame.get_by_label("Username")).to_be_focused()
    keys.type("test-good")
    keys.press("Tab")
    keys.type("any password at all")
    keys.press("Enter")
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_focused(
        timeout=timeout
    )
    keys.press("Tab")
    done = frame.get_by_role("button", name="Done")
    expect(done).to_be_focused()
    # Enter on Done removes the iframe that holds the focus. The button acts on the key going
    # down; the key coming up is sent only once the iframe is gone, to the page that then has
    # focus: sent to a frame being torn down, the browser may never acknowledge it, and the
    # press would hang.
    keys.down("Enter")
    expect(page.locator(FRAME)).to_have_count(0)
    keys.up("Enter")
