"""Alice sees her connected billers on the dashboard, pauses a plan from its card, and pages
through many accounts."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from bench.run import accounts_payload
from paylink.bill_rules import account_savings
from paylink.formatting import money
from paylink.models import AccountSnapshot
from paylink.payloads import accounts_parse
from paylink.services.profiles import profile_for_user
from tests.atomic_json import atomic_json
from tests.e2e.axe import AXE, AXE_RUN
from tests.simprocess import NOWHERE
from tests.transact_steps import FRAME, log_in
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Webhooks arrive within a second or two; htmx polls every PAYLINK_POLL_SECONDS (0.25 s here).
SETTLE_MS = 20_000


def _connect(page: Page, host: str, *, company: str) -> None:
    page.goto(host + "/hub/")
    page.get_by_role("button", name="Connect an account").click()
    frame = page.frame_locator(FRAME)
    log_in(frame, company=company, username="test-good")
    expect(frame.get_by_role("heading", name=f"Connected to {company}")).to_be_visible(
        timeout=SETTLE_MS
    )
    frame.get_by_role("button", name="Done").click()
    expect(page.locator(FRAME)).to_have_count(0)
    expect(page.locator("#paylink-task-status .task-status")).to_contain_text(
        "Completed", timeout=SETTLE_MS
    )


def _snapshot_with(alice, count: int) -> AccountSnapshot:
    """The host's snapshot once the syncs after the webhooks have stored `count` accounts."""

    def stored() -> AccountSnapshot | None:
        snapshot = AccountSnapshot.objects.filter(profile__user=alice).first()
        if snapshot and len(snapshot.payload.get("accounts", [])) >= count:
            return snapshot
        return None

    return wait_until(stored, what=f"the host to store {count} accounts", timeout=SETTLE_MS / 1000)


def _card(page: Page, company: str):
    return page.locator("article.account-card").filter(
        has=page.get_by_role("heading", name=company, exact=True)
    )


def _confirm_the_pause_in_transact(page: Page) -> None:
    """In the Transact a Pause plan button opened: confirm, press Done, and see Streamly's card
    show the plan paused."""
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Pause your Streamly plan?")).to_be_visible()
    frame.get_by_role("button", name="Confirm").click()
    expect(frame.get_by_role("heading", name="Your Streamly plan is paused")).to_be_visible(
        timeout=SETTLE_MS
    )
    frame.get_by_role("button", name="Done").click()
    expect(_card(page, "Streamly").locator("[data-plan-status]")).to_have_attribute(
        "data-plan-status", "paused", timeout=SETTLE_MS
    )


def test_in_the_newer_account_shape_alice_pauses_a_plan_atomic_does_for_her(
    signed_in: Page, host, alice, simulator
):
    # Newer apps list actions under each bill or expense, as {type, actionId, automated}.
    simulator.configure(account_shape="newer")
    page = signed_in
    _connect(page, host, company="Streamly")
    _snapshot_with(alice, 1)

    page.goto(host + "/")
    pause = _card(page, "Streamly").get_by_role("button", name="Pause plan")
    expect(pause).to_contain_text("done for you")
    pause.click()
    _confirm_the_pause_in_transact(page)


def test_a_pause_atomic_confirms_only_after_the_outcome_appeared_still_redraws_the_card(
    signed_in: Page, host, alice, simulator, settings
):
    # The outcome's first answer finds the task still running, so its line polls; the page
    # must hear of the end from the poll that brings it, as it does from a first answer.
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 1
    page = signed_in
    _connect(page, host, company="Streamly")
    _snapshot_with(alice, 1)
    page.goto(host + "/")
    page.evaluate("window.__sameDocument = true")
    simulator.configure(webhook_url=NOWHERE)
    for endpoint in ("task-status", "task-details", "accounts"):
        simulator.control_faults(endpoint=endpoint, kind="503", times=1000)
    streamly = _card(page, "Streamly")
    streamly.get_by_role("button", name="Pause plan").click()
    frame = page.frame_locator(FRAME)
    frame.get_by_role("button", name="Confirm").click()
    expect(frame.get_by_role("heading", name="Your Streamly plan is paused")).to_be_visible(
        timeout=SETTLE_MS
    )
    frame.get_by_role("button", name="Done").click()
    line = streamly.locator(".card-outcome__line")
    expect(line).to_have_attribute("hx-get", re.compile("outcome"), timeout=SETTLE_MS)
    expect(streamly.locator("[data-plan-status]")).to_have_attribute("data-plan-status", "active")
    # Atomic has not named the company yet: the card it was started from has.
    expect(streamly.locator(".card-outcome__title")).to_have_text("Pause · Streamly")

    # Atomic answers again: the line's next poll finds the task done, and the page redraws the
    # card from the sync that completion brought, without a reload.
    simulator.reset()
    expect(streamly.locator("[data-plan-status]")).to_have_attribute(
        "data-plan-status", "paused", timeout=SETTLE_MS
    )
    expect(streamly.locator(".card-outcome")).to_contain_text("Streamly is paused.")
    expect(page.locator("#paylink-transact-messages")).to_have_text("")
    assert page.evaluate("window.__sameDocument") is True


def test_alice_sees_both_billers_and_pauses_one_without_a_reload(signed_in: Page, host, alice):
    page = signed_in
    expect(page.get_by_role("heading", name="Connect your first account")).to_be_visible()

    _connect(page, host, company="Streamly")
    _connect(page, host, company="Tunewave Music")
    snapshot = _snapshot_with(alice, 2)

    page.goto(host + "/")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.locator("article.account-card")).to_have_count(2)
    expect(_card(page, "Streamly")).to_be_visible()
    expect(_card(page, "Tunewave Music")).to_be_visible()

    # Both billers bill monthly in the simulator, so the monthly spend is the sum of the bills.
    accounts = accounts_parse(snapshot.payload)
    spend = sum((a.billing.amount for a in accounts), Decimal(0))
    # Each account's best suggestion, never more than its bill: alternatives are not added.
    savings = sum(
        (
            account_savings(
                savings=[s.monthly_savings for s in a.suggestions], monthly_bill=a.billing.amount
            )
            for a in accounts
        ),
        Decimal(0),
    )
    summary = page.locator(".summary-grid")
    expect(summary.locator(".summary-tile").nth(0)).to_contain_text("2")
    expect(summary.locator(".summary-tile").nth(2)).to_contain_text(money(spend))
    expect(summary.locator(".summary-tile").nth(3)).to_contain_text(money(savings))
    expect(page.locator("table.bills tbody tr")).to_have_count(2)
    for account in accounts:
        assert account.billing.account_number not in page.content()

    streamly = _card(page, "Streamly")
    expect(streamly.locator("[data-plan-status]")).not_to_have_attribute(
        "data-plan-status", "paused"
    )
    # A marker that a reload would wipe: the card must change without one.
    page.evaluate("window.__sameDocument = true")
    _pause_streamly_with_the_keyboard(page)
    expect(_card(page, "Tunewave Music").locator("[data-plan-status]")).not_to_have_attribute(
        "data-plan-status", "paused"
    )
    assert page.evaluate("window.__sameDocument") is True


def _tab_to(page: Page, locator, *, tabs: int = 60) -> None:
    for _ in range(tabs):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    pytest.fail("Tab never reached the button")


def _pause_streamly_with_the_keyboard(page: Page) -> None:
    """Keyboard alone: Tab to Streamly's Pause plan, confirm and finish in Transact, then follow
    the outcome on the card through the dashboard's redraw, and dismiss it."""
    keys = page.keyboard
    streamly = _card(page, "Streamly")
    pause = streamly.get_by_role("button", name="Pause plan")
    _tab_to(page, pause)
    keys.press("Enter")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Pause your Streamly plan?")).to_be_visible()
    confirm = frame.get_by_role("button", name="Confirm")
    confirm.focus()
    keys.press("Enter")
    done = frame.get_by_role("button", name="Done")
    expect(frame.get_by_role("heading", name="Your Streamly plan is paused")).to_be_visible(
        timeout=SETTLE_MS
    )
    done.focus()
    keys.press("Enter")
    expect(page.locator(FRAME)).to_have_count(0)

    # The outcome is on the card the person acted from, and focus is on it.
    outcome = streamly.locator(".card-outcome")
    title = outcome.get_by_role("heading", name="Pause · Streamly")
    expect(title).to_be_focused(timeout=SETTLE_MS)
    # Where the outcome sits in the window: what is above it changes with the pause (the bill
    # goes), but what the person is reading must not move by itself.
    at = title.bounding_box()["y"]
    expect(outcome).to_contain_text("Streamly is paused.", timeout=SETTLE_MS)
    # The sync lands and the dashboard redraws: the card shows the plan paused, and keeps the
    # outcome and the focus; the page did not scroll by itself.
    expect(streamly.locator("[data-plan-status]")).to_have_attribute(
        "data-plan-status", "paused", timeout=SETTLE_MS
    )
    expect(outcome).to_contain_text("Streamly is paused.")
    expect(title).to_be_focused()
    assert abs(title.bounding_box()["y"] - at) <= 1
    # The outcome said it; no second copy far away at the page's end.
    expect(page.locator("#paylink-transact-messages")).to_have_text("")
    # axe, every rule it enables by default, on the dashboard after the card action: nothing.
    page.evaluate(AXE.read_text())
    found = page.evaluate(AXE_RUN)["violations"]
    assert found == [], [(rule["id"], [node["target"] for node in rule["nodes"]]) for rule in found]

    # Tab goes on within the card (not to the footer); Dismiss keeps focus on the card.
    keys.press("Tab")
    dismiss = outcome.get_by_role("button", name="Dismiss")
    expect(dismiss).to_be_focused()
    keys.press("Enter")
    expect(streamly.locator(".card-outcome")).to_have_count(0)
    assert page.evaluate(
        "() => document.activeElement.closest('article.account-card')?.id"
    ) == streamly.get_attribute("id")


def test_refresh_swaps_in_the_new_snapshot_without_a_reload(signed_in: Page, host, alice):
    page = signed_in
    expect(page.locator(".dash-freshness")).to_contain_text("Not synced yet")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".dash-freshness")).to_contain_text("Updated", timeout=SETTLE_MS)
    expect(page.locator("#dashboard-poll")).to_have_count(0)
    expect(page.get_by_role("heading", name="Connect your first account")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    assert AccountSnapshot.objects.get(profile__user=alice).fetched_at is not None


def test_show_more_appends_the_next_accounts_and_bills_in_place(signed_in: Page, host, alice):
    AccountSnapshot.objects.update_or_create(
        profile=profile_for_user(user=alice),
        defaults={"payload": accounts_payload(15), "version": 1, "fetched_at": timezone.now()},
    )
    page = signed_in
    page.goto(host + "/")
    cards = page.locator("article.account-card")
    bills = page.locator("table.bills tbody tr.bill")
    expect(cards).to_have_count(6)
    expect(bills).to_have_count(6)
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Show 6 more accounts").click()
    expect(cards).to_have_count(12)
    page.get_by_role("link", name="Show 3 more accounts").click()
    expect(cards).to_have_count(15)
    expect(page.get_by_role("link", name="more accounts")).to_have_count(0)
    page.get_by_role("link", name="Show 6 more bills").click()
    expect(bills).to_have_count(12)
    assert page.evaluate("window.__sameDocument") is True

    # Without JavaScript the same link is a page of its own.
    page.goto(host + "/?cards=2")
    expect(cards).to_have_count(6)
    expect(page.get_by_role("link", name="Earlier accounts")).to_be_visible()


def test_on_a_phone_in_spanish_every_badge_on_a_card_fits_inside_it(signed_in: Page, host, alice):
    # A bill due within the week: its badge, "Vence en 7 días o menos", is longer than half a
    # card is wide on a 390-pixel phone.
    payload = atomic_json("accounts/hulu")
    due = timezone.now() + timedelta(days=3)
    payload["accounts"][0]["account"]["billing"]["dueDate"] = due.isoformat()
    AccountSnapshot.objects.update_or_create(
        profile=profile_for_user(user=alice),
        defaults={"payload": payload, "version": 1, "fetched_at": timezone.now()},
    )
    page = signed_in
    # Alice has saved no language of her own: the browser's choice, in the language cookie.
    page.context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "es", "url": host}]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(host + "/")
    card = page.locator("article.account-card")
    expect(card.get_by_text("Vence en 7 días o menos")).to_be_visible()
    right = card.bounding_box()["x"] + card.bounding_box()["width"]
    badges = card.locator(".badge")
    assert badges.count() >= 2
    for index in range(badges.count()):
        box = badges.nth(index).bounding_box()
        assert box["x"] + box["width"] <= right, badges.nth(index).inner_text()
