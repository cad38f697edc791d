"""Alice connects a biller through the Payments Hub, and the host follows the task to its end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from paylink.models import SdkEvent, Task, WebhookEvent
from tests.e2e.conftest import sign_in_through_the_page
from tests.simprocess import NOWHERE
from tests.transact_steps import FRAME, log_in
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Webhooks arrive within a second or two; htmx polls every PAYLINK_POLL_SECONDS (0.25 s here).
SETTLE_MS = 20_000


def _open_hub_and_log_in(page: Page, host: str, *, username: str) -> None:
    page.goto(host + "/hub/")
    expect(page.get_by_role("heading", name="Connect your accounts")).to_be_visible()
    # A marker that a reload would wipe: the status must arrive without one.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Connect an account").click()
    frame = page.frame_locator(FRAME)
    log_in(frame, company="Streamly", username=username)


def _finished_task(page: Page) -> Task:
    status = page.locator("#paylink-task-status [data-task-id]")
    expect(status).to_have_count(1, timeout=SETTLE_MS)
    return Task.objects.get(atomic_id=status.get_attribute("data-task-id"))


def test_alice_signs_in_through_the_sign_in_page(page: Page, host, alice):
    sign_in_through_the_page(page, host)
    expect(page.get_by_role("heading", name="Connect your first account")).to_be_visible()


def test_alice_connects_a_biller_and_watches_the_task_complete(signed_in: Page, host, alice):
    page = signed_in
    _open_hub_and_log_in(page, host, username="test-good")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()
    frame.get_by_role("button", name="Done").click()

    expect(page.locator(FRAME)).to_have_count(0)
    status = page.locator("#paylink-task-status .task-status")
    expect(status).to_contain_text("Completed", timeout=SETTLE_MS)
    expect(status).to_contain_text("Done. The company accepted your request.")
    assert page.evaluate("window.__sameDocument") is True

    task = _finished_task(page)
    assert task.profile.user == alice
    assert task.status == "completed"
    assert task.operation == "manage"
    assert SdkEvent.objects.filter(kind="finish", task_atomic_id=task.atomic_id).exists()
    assert SdkEvent.objects.filter(kind="interaction", name="Initialized Transact").exists()
    # The simulator's signed webhook reached the host and was accepted.
    webhook = WebhookEvent.objects.filter(task_atomic_id=task.atomic_id, state="processed")
    assert webhook.exists(), list(WebhookEvent.objects.values("event_type", "state"))
    assert webhook.first().identifier == task.profile.identifier

    # The finished task's HX-Trigger refreshed the recent list, still without a reload.
    expect(page.locator("#hub-recent .task-list")).to_contain_text("Completed")
    assert page.evaluate("window.__sameDocument") is True


def test_the_status_arrives_by_polling_when_atomic_was_briefly_unreachable(
    signed_in: Page, host, simulator, settings
):
    page = signed_in
    settings.PAYLINK_STATUS_REFRESH_SECONDS = 1
    # No webhook, and Atomic's task endpoints failing: the finish cannot even be confirmed as
    # alice's, so the page can only show the local row, waiting.
    simulator.configure(webhook_url=NOWHERE)
    for endpoint in ("task-status", "task-details", "accounts"):
        simulator.control_faults(endpoint=endpoint, kind="503", times=1000)
    _open_hub_and_log_in(page, host, username="test-good")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible()
    frame.get_by_role("button", name="Done").click()

    status = page.locator("#paylink-task-status .task-status")
    expect(status).to_contain_text("confirming this request with Atomic", timeout=SETTLE_MS)
    task = _finished_task(page)
    assert (task.status, task.awaiting_confirmation) == ("queued", True)

    # Atomic answers again: the next poll finds the task finished, in place.
    simulator.reset()
    expect(status).to_contain_text("Completed", timeout=SETTLE_MS)
    assert page.evaluate("window.__sameDocument") is True
    task.refresh_from_db()
    assert task.status == "completed"
    assert task.status_checked_at is not None
    # No webhook ever arrived, yet the completion the poll saw synced the accounts: the
    # dashboard shows the new account.
    page.goto(host + "/")
    expect(
        page.locator("article.account-card").get_by_role("heading", name="Streamly", exact=True)
    ).to_be_visible()


def test_bad_credentials_show_the_failure_sentence(signed_in: Page, host, alice):
    page = signed_in
    _open_hub_and_log_in(page, host, username="test-bad")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("button", name="Done")).to_be_visible()
    frame.get_by_role("button", name="Done").click()

    status = page.locator("#paylink-task-status .task-status")
    expect(status).to_contain_text("Failed", timeout=SETTLE_MS)
    expect(status).to_contain_text(
        "The username or password wasn't accepted by the company. Check them and try again."
    )
    assert page.evaluate("window.__sameDocument") is True
    task = _finished_task(page)
    assert (task.status, task.fail_reason) == ("failed", "bad-credentials")
    assert WebhookEvent.objects.filter(task_atomic_id=task.atomic_id, state="processed").exists()


# Every close Atomic publishes, as the simulator's close button sends it, and what the page says.
CLOSE_SENTENCES = {
    "unknown": "You closed the Payments Hub.",
    "dismissed": "The Payments Hub was dismissed before you finished.",
    "task-pending": "Your request is still being processed; we will update this page.",
    "zero-search-results": "We couldn't find that company.",
    "manual-fallback": "This company can't be connected automatically yet.",
    "handoff:exit-prompt": "You left before signing in to the company. Nothing was changed.",
    "handoff:high-latency": "The company is taking longer than usual to answer.",
}


def test_closing_the_hub_says_so_for_every_published_close(signed_in: Page, host, simulator):
    page = signed_in
    page.goto(host + "/hub/")
    messages = page.locator("#paylink-transact-messages")
    for reason, sentence in CLOSE_SENTENCES.items():
        simulator.configure(close_reason=reason)
        page.get_by_role("button", name="Connect an account").click()
        frame = page.frame_locator(FRAME)
        expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible(timeout=SETTLE_MS)
        frame.get_by_role("button", name=re.compile("Close", re.I)).first.click()
        expect(messages).to_contain_text(sentence, timeout=SETTLE_MS)
        expect(page.locator(FRAME)).to_have_count(0)
        expect(page.get_by_role("button", name="Connect an account")).to_be_enabled()

    # Each close is also reported to the host, in the background.
    def closes() -> list[dict]:
        return [e.payload for e in SdkEvent.objects.filter(kind="close").order_by("created_at")]

    wait_until(lambda: len(closes()) == len(CLOSE_SENTENCES), what="every close to be recorded")
    assert closes()[-2:] == [{"handoff": "exit-prompt"}, {"handoff": "high-latency"}]


def test_transact_refusing_to_start_says_so_and_keeps_the_button(signed_in: Page, host):
    page = signed_in
    page.goto(host + "/hub/")
    # As an SDK that will not run PayLink in this browser would: it throws when called.
    page.evaluate(
        "() => { window.Atomic.transact = () => {"
        " throw new Error('PayLink is not supported on web.'); }; }"
    )
    page.get_by_role("button", name="Connect an account").click()
    expect(page.locator("#paylink-transact-messages")).to_contain_text(
        "The Payments Hub could not open in this browser."
    )
    expect(page.get_by_role("button", name="Connect an account")).to_be_enabled()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    # Recorded too, so the conformance report shows the refusal.
    wait_until(
        lambda: SdkEvent.objects.filter(kind="close", payload__reason="sdk-refused").exists(),
        what="the refusal to be recorded as a close",
    )


def test_done_in_the_hub_without_a_task_says_so_and_refreshes_the_accounts(
    signed_in: Page, host, alice
):
    page = signed_in
    page.goto(host + "/hub/")
    page.get_by_role("button", name="Connect an account").click()
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_visible()

    frame.get_by_role("button", name="Done").click()

    expect(page.locator("#paylink-transact-messages")).to_contain_text(
        "You're done in the Payments Hub."
    )
    expect(page.locator(FRAME)).to_have_count(0)
    finish = SdkEvent.objects.get(profile__user=alice, kind="finish")
    assert finish.task_atomic_id == ""
    assert not Task.objects.filter(profile__user=alice).exists()
    assert alice.paylink_profile.snapshot.fetched_at is not None


def test_a_token_failure_offers_to_try_again(signed_in: Page, host, simulator, settings):
    page = signed_in
    # Over the rate limit first: the sentence stands alone, with no button that cannot work yet.
    limits = settings.PAYLINK_RATE_LIMITS
    settings.PAYLINK_RATE_LIMITS = {**limits, "hub_token": "0/2"}
    page.goto(host + "/hub/")
    opener = page.get_by_role("button", name="Connect an account")
    opener.click()
    messages = page.locator("#paylink-transact-messages")
    expect(messages).to_contain_text("Too many attempts to open the Payments Hub")
    expect(messages.get_by_role("button")).to_have_count(0)
    expect(opener).to_be_disabled()
    settings.PAYLINK_RATE_LIMITS = limits

    # Once the wait is over, trying again can work, and is offered; Atomic then fails it.
    simulator.control_faults(endpoint="access-token", kind="503", times=100)
    messages.get_by_role("button", name="Try again").click()
    expect(messages.locator(".alert--error")).to_be_visible()
    expect(page.locator(FRAME)).to_have_count(0)

    simulator.reset()
    messages.get_by_role("button", name="Try again").click()
    expect(
        page.frame_locator(FRAME).get_by_role("button", name="Connect an account")
    ).to_be_visible()
