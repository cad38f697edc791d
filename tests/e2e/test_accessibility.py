"""axe-core on every host page, in English at desktop and phone widths and in Spanish at desktop
width: no serious or critical WCAG 2.1 A/AA violation anywhere. A width changes the layout (what
the media queries show, hide and restyle) and a language changes only the words, so each is
checked across every page without checking their every pairing. Then the keyboard alone: the Hub's launch button
hands focus to Transact and gets it back, the dashboard's Refresh keeps it, and every stop shows
where focus is. Status changes are spoken once each, from one live region.

axe is the vendored file under tests/vendor/axe-core/. The pages' CSP allows scripts only with
the response's nonce, so `page.add_script_tag` is refused ("Executing inline script violates the
following Content Security Policy directive"). axe comes in as an init script instead, which the
browser runs in each new document through its debugging protocol, outside CSP; the pages keep
their real policy (no `bypass_csp`) while axe looks at them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, BrowserContext, Page, expect

from paylink.models import AccountSnapshot, ReminderKind, Task
from paylink.rate_limits import THROTTLE_CACHE
from paylink.services.email_change import email_change_token_make
from paylink.services.profiles import profile_for_user
from paylink.services.reminder_preferences import reminder_preferences_for_profile
from paylink.services.tasks import task_record
from paylink.unsubscribe_tokens import unsubscribe_token_make
from tests.browser.pages import FRAME, connect_with_the_keyboard, log_in
from tests.browser_harness import DEFAULT_TIMEOUT_MS

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "accounts"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
# Violations on the dashboard, whose templates and CSS are being reworked on their own: listed so
# that this test still fails on anything else. Each must still occur (see the end of the test),
# so an entry goes as soon as its fix lands.
# Violations known and waiting for a fix: none. An entry here that axe no longer finds fails.
KNOWN_ON_THE_DASHBOARD: set[tuple[str, str]] = set()
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# The widths each language is checked at.
WIDTHS_CHECKED = {"en": ("desktop", "phone"), "es": ("desktop",)}
# Webhooks arrive within a second or two; htmx polls every PAYLINK_POLL_SECONDS (0.25 s here).
SETTLE_MS = 20_000

_AXE_RUN = """async tags => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return {
    width: window.innerWidth,
    violations: results.violations.map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
    })),
  };
}"""


@dataclass(frozen=True)
class Violation:
    page: str
    width: str
    rule: str
    impact: str
    help: str
    target: str
    summary: str

    def line(self) -> str:
        summary = " ".join(self.summary.split())
        return (
            f"  [{self.impact}] {self.rule} ({self.help}) on {self.page} [{self.width}]: "
            f"{self.target}\n"
            f"      {summary}"
        )


class Audit:
    """Runs axe on each page it is shown, at the language's widths, and keeps every violation,
    named by page and width. The page is drawn again at another width rather than loaded again:
    the same document, laid out by the other media queries, for half the loading."""

    def __init__(self, page: Page, *, language: str) -> None:
        self.page = page
        self.language = language
        self.widths = WIDTHS_CHECKED[language]
        self.width = next(w for w, size in WIDTHS.items() if size == page.viewport_size)
        self.violations: list[Violation] = []
        self.counts: dict[str, dict[str, int]] = {}

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        # The language served must be the language asked for, or both runs check English.
        assert page.evaluate("document.documentElement.lang") == self.language, name
        first = self.width
        for width in (first, *(w for w in self.widths if w != first)):
            if width != self.width:
                page.set_viewport_size(WIDTHS[width])
                self.width = width
            self._run_axe(name, width)

    def _run_axe(self, name: str, width: str) -> None:
        answer = self.page.evaluate(_AXE_RUN, WCAG_TAGS)
        # axe looked at the page as laid out at this width, not the other.
        assert answer["width"] == WIDTHS[width]["width"], (name, width, answer["width"])
        found = answer["violations"]
        counts = {"serious/critical": 0, "moderate/minor": 0}
        for rule in found:
            impact = rule["impact"] or "minor"
            key = "serious/critical" if impact in BLOCKING else "moderate/minor"
            counts[key] += len(rule["nodes"])
            for node in rule["nodes"]:
                self.violations.append(
                    Violation(
                        name,
                        width,
                        rule["id"],
                        impact,
                        rule["help"],
                        node["target"],
                        node["summary"] or "",
                    )
                )
        self.counts[f"{name} [{width}]"] = counts

    def visit(self, url: str, name: str) -> None:
        self.page.goto(url)
        self.check(name)

    def blocking(self) -> list[Violation]:
        return [
            v
            for v in self.violations
            if v.impact in BLOCKING and (v.page, v.rule) not in KNOWN_ON_THE_DASHBOARD
        ]

    def known_but_gone(self) -> set[tuple[str, str]]:
        return KNOWN_ON_THE_DASHBOARD - {(v.page, v.rule) for v in self.violations}

    def report(self) -> str:
        lines = [f"{name}: {json.dumps(c)}" for name, c in self.counts.items()]
        others = [v for v in self.violations if v.impact not in BLOCKING]
        return (
            "\n".join(["axe counts per page:", *lines, "moderate/minor:"])
            + "\n"
            + ("\n".join(v.line() for v in others) or "  none")
        )


@pytest.fixture
def audited_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts in a language, with axe in every page."""
    made: list[BrowserContext] = []

    def make(*, language: str) -> BrowserContext:
        context = browser.new_context(locale=language, viewport=WIDTHS["desktop"])
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(path=AXE)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def _sign_in(context: BrowserContext, host: str, user: User) -> None:
    """A session for `user` straight from Django, set as the browser's cookie."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": session.value, "url": host}])


def _task(user: User, atomic_id: str, **fields: str) -> str:
    Task.objects.create(
        profile=profile_for_user(user=user),
        atomic_id=atomic_id,
        company_name="Streamly",
        operation="manage",
        **fields,
    )
    return atomic_id


def _accounts() -> dict:
    """Hulu's account and the messy ones, with Hulu's bill due today: the dashboard then shows
    its due-soon badge and the month view a bill, whatever the date."""
    accounts = []
    for name in ("hulu.json", "messy.json"):
        accounts += json.loads((FIXTURES / name).read_text())["accounts"]
    due = timezone.localdate().isoformat() + "T12:00:00.000Z"
    accounts[0]["account"]["billing"]["dueDate"] = due
    return {"accounts": accounts}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_host_page_has_no_serious_or_critical_axe_violation(
    audited_context, host, simulator, alice, language
):
    context = audited_context(language=language)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    audit = Audit(page, language=language)
    # Each run asks for a reset link for the same address: start with fresh counters.
    caches[THROTTLE_CACHE].clear()

    audit.visit(host + "/accounts/login/", "sign-in")
    page.locator("input[name=username]").fill("alice")
    page.locator("input[name=password]").fill("not her password")
    page.locator("form.auth__form button[type=submit]").click()
    expect(page.locator(".alert--error")).to_be_visible()
    audit.check("sign-in with a form error")
    audit.visit(host + "/accounts/signup/", "sign-up")
    page.locator("form.auth__form button[type=submit]").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    audit.check("sign-up with form errors")
    audit.visit(host + "/accounts/password_reset/", "password reset")
    page.locator("input[name=email]").fill(alice.email)
    page.locator("form.auth__form button[type=submit]").click()
    page.wait_for_url("**/password_reset/done/")
    audit.check("password reset, link sent")
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    audit.visit(
        host + f"/accounts/reset/{uid}/{default_token_generator.make_token(alice)}/",
        "password reset, new password",
    )
    audit.visit(host + f"/accounts/reset/{uid}/not-a-token/", "password reset, expired link")
    preferences = reminder_preferences_for_profile(profile=profile_for_user(user=alice))
    token = unsubscribe_token_make(preferences=preferences, kind=ReminderKind.DUE)
    audit.visit(host + f"/reminders/unsubscribe/{token}/", "unsubscribe")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main p[role=status]")).to_be_visible()
    audit.check("unsubscribe, done")

    _sign_in(context, host, alice)
    audit.visit(host + "/", "dashboard, no accounts")
    audit.visit(host + "/hub/", "hub")
    simulator.control_faults(endpoint="access-token", kind="503", times=100)
    page.locator("[data-transact-launch]").click()
    expect(page.locator("#paylink-transact-messages .alert--error")).to_be_visible()
    audit.check("hub, the Payments Hub failed to open")
    simulator.reset()

    # Atomic's status check fails, so the running task stays running while axe looks at it.
    simulator.control_faults(endpoint="task-status", kind="503", times=1000)
    running = _task(alice, f"a11y-running-{language}", status="processing")
    audit.visit(host + f"/hub/tasks/{running}/", "task, running")
    simulator.reset()
    failed = _task(alice, f"a11y-failed-{language}", status="failed", fail_reason="bad-credentials")
    audit.visit(host + f"/hub/tasks/{failed}/", "task, failed")
    audit.visit(host + "/settings/reminders/", "reminder settings")
    audit.visit(host + "/account/", "your data")
    audit.visit(host + "/no-such-page/", "not found (404)")
    audit.visit(host + "/accounts/password_change/", "password change")
    audit.visit(host + "/settings/account/", "account settings")
    token = email_change_token_make(user=alice, new_email="alice@new.example")
    audit.visit(host + f"/settings/account/email/{token}/", "email confirmation")

    AccountSnapshot.objects.update_or_create(
        profile=profile_for_user(user=alice), defaults={"payload": _accounts(), "version": 1}
    )
    page.goto(host + "/")
    expect(page.locator("article.account-card").first).to_be_visible()
    audit.check("dashboard with accounts")
    page.goto(host + "/calendar/")
    expect(page.locator(".month__bills li").first).to_be_visible()
    audit.check("calendar month")

    print(f"\n[{language}] " + audit.report())
    # Every page was looked at, at each of the language's widths.
    assert len(audit.counts) == 23 * len(WIDTHS_CHECKED[language]), list(audit.counts)
    blocking = audit.blocking()
    assert not blocking, (
        f"{len(blocking)} serious or critical axe violation(s) [{language}]:\n"
        + "\n".join(v.line() for v in blocking)
    )
    assert not audit.known_but_gone(), (
        f"fixed, so take them out of KNOWN_ON_THE_DASHBOARD: {audit.known_but_gone()}"
    )
    assert not errors, f"the pages threw: {errors}"


_FOCUSED = """selector => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    target: element.matches(selector),
    name: element.tagName.toLowerCase() + " " + (element.textContent || "").trim().slice(0, 40),
    outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


# Every sentence the page's live regions are given, in order; and in `__settled`, the state of
# each status line htmx brings, once announce.js has had its turn at it (two frames later).
_RECORD_ANNOUNCEMENTS = """() => {
  window.__announced = [];
  window.__settled = [];
  document.addEventListener("htmx:load", event => {
    const root = event.target;
    const line = root.matches("[data-announce-key]") ? root : root.querySelector("[data-announce-key]");
    if (!line) return;
    const state = line.dataset.announceState;
    requestAnimationFrame(() => requestAnimationFrame(() => window.__settled.push(state)));
  });
  for (const id of ["status-announcer", "paylink-transact-messages"]) {
    const region = document.getElementById(id);
    if (!region) continue;
    new MutationObserver(() => {
      const text = region.textContent.trim();
      if (text) window.__announced.push(text);
    }).observe(region, {childList: true, characterData: true, subtree: true});
  }
}"""


def _tab_to(page: Page, selector: str) -> None:
    """Tab from the top of the page until `selector` has focus; every stop on the way must show
    where focus is (an outline: it survives forced-colours modes, a shadow does not)."""
    unmarked: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED, selector)
        if not focused["outlined"]:
            unmarked.append(focused["name"])
        if focused["target"]:
            break
    else:
        pytest.fail(f"twenty Tabs never reached {selector}")
    assert not unmarked, f"focus was invisible on: {unmarked}"


def test_a_keyboard_user_tabs_to_the_hub_connects_inside_transact_and_lands_back_on_the_button(
    signed_in: Page, host
):
    page = signed_in
    page.goto(host + "/hub/")
    launch = page.get_by_role("button", name="Open Payments Hub")
    _tab_to(page, "[data-transact-launch]")
    expect(launch).to_be_focused()
    page.keyboard.press("Enter")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_focused()
    connect_with_the_keyboard(page, frame, timeout=SETTLE_MS)

    expect(page.locator(FRAME)).to_have_count(0)
    expect(launch).to_be_focused()
    # The outcome is spoken once, as a sentence, from the page's live region.
    announcer = page.locator("#status-announcer")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_have_text(
        re.compile(r"^Completed\s+Done\. The company accepted your request\.$"), timeout=SETTLE_MS
    )
    expect(
        page.locator("#paylink-task-status [aria-live], #paylink-task-status [role=status]")
    ).to_have_count(0)


def test_closing_transact_from_the_keyboard_hands_focus_back_and_says_so(signed_in: Page, host):
    page = signed_in
    page.goto(host + "/hub/")
    launch = page.get_by_role("button", name="Open Payments Hub")
    _tab_to(page, "[data-transact-launch]")

    page.keyboard.press("Space")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Payments Hub")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(frame.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator(FRAME)).to_have_count(0)
    expect(launch).to_be_focused()
    expect(page.locator("#paylink-transact-messages[role=status]")).to_have_text(
        "You closed the Payments Hub."
    )


def test_a_polled_task_announces_its_change_once_and_its_unchanged_polls_not_at_all(
    signed_in: Page, host, simulator, alice
):
    page = signed_in
    # Atomic's status check fails, so each poll redraws the same running state.
    simulator.control_faults(endpoint="task-status", kind="503", times=1000)
    task_id = _task(alice, "a11y-polled", status="processing")
    page.goto(host + f"/hub/tasks/{task_id}/")
    page.evaluate(_RECORD_ANNOUNCEMENTS)
    page.wait_for_function("() => window.__settled.includes('processing')")
    assert page.evaluate("window.__announced") == []

    # As a webhook would tell it (through the service, which also drops the poll's cached row).
    task = Task.objects.get(atomic_id=task_id)
    task_record(profile=task.profile, atomic_id=task_id, status="completed")

    page.wait_for_function("() => window.__settled.includes('completed')", timeout=SETTLE_MS)
    expect(page.locator("#status-announcer")).to_have_text(
        re.compile(r"^Completed\s+Done\. The company accepted your request\.$")
    )
    assert page.evaluate("window.__announced") == [
        page.locator("#status-announcer").text_content().strip()
    ]


def test_a_status_shown_in_a_card_says_the_outcome_once_though_two_regions_show_it(
    signed_in: Page, host
):
    page = signed_in
    page.goto(host + "/hub/")
    # A card's status box, as the dashboard has: the outcome also goes to the page's messages,
    # since the card is redrawn (and its status gone) once the accounts change.
    page.evaluate("""() => {
      const box = document.createElement("div");
      box.id = "card-task";
      document.getElementById("main").append(box);
    }""")
    page.evaluate(_RECORD_ANNOUNCEMENTS)
    page.evaluate("() => window.PaymentsHub.launch({taskTarget: '#card-task'})")
    frame = page.frame_locator(FRAME)
    log_in(frame, company="Streamly", username="test-good")
    expect(frame.get_by_role("heading", name="Connected to Streamly")).to_be_visible(
        timeout=SETTLE_MS
    )
    frame.get_by_role("button", name="Done").click()

    page.wait_for_function("() => window.__settled.includes('completed')", timeout=SETTLE_MS)
    expect(page.locator("#card-task")).to_contain_text("Completed")
    expect(page.locator("#paylink-transact-messages")).to_have_text(
        "Done. The company accepted your request."
    )
    spoken = page.evaluate("window.__announced")
    assert sum("The company accepted your request." in text for text in spoken) == 1, spoken


def test_a_keyboard_user_refreshes_the_dashboard_and_keeps_focus_on_the_button(
    signed_in: Page, host
):
    page = signed_in
    refresh = page.get_by_role("button", name="Refresh")
    _tab_to(page, "form[action$='/refresh/'] button")
    expect(refresh).to_be_focused()
    page.evaluate("window.__sameDocument = true")

    page.keyboard.press("Enter")

    expect(page.locator(".dash-freshness")).to_contain_text("Updated", timeout=SETTLE_MS)
    # The accounts were redrawn around it; the button, outside them, keeps the focus.
    expect(refresh).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True


def test_when_the_hub_cannot_open_the_keyboard_stays_on_the_button_and_the_reason_is_said(
    signed_in: Page, host, simulator
):
    page = signed_in
    simulator.control_faults(endpoint="access-token", kind="503", times=100)
    page.goto(host + "/hub/")
    launch = page.get_by_role("button", name="Open Payments Hub")
    _tab_to(page, "[data-transact-launch]")

    page.keyboard.press("Enter")

    expect(page.locator("#paylink-transact-messages[role=status] .alert--error")).to_contain_text(
        "Try again"
    )
    expect(launch).to_be_focused()


# Each stop gets a number of its own the first time focus reaches it.
_FOCUS_WALK = """() => {
  const element = document.activeElement;
  if (element === document.body) return {key: "", name: "", outlined: true};
  if (!element.dataset.walk) {
    window.__walk = (window.__walk || 0) + 1;
    element.dataset.walk = String(window.__walk);
  }
  const style = getComputedStyle(element);
  return {
    key: element.dataset.walk,
    name: element.tagName.toLowerCase() + " " + (element.textContent || "").trim().slice(0, 40),
    outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def test_every_stop_on_the_dashboard_with_accounts_shows_where_focus_is(
    signed_in: Page, host, alice
):
    page = signed_in
    AccountSnapshot.objects.update_or_create(
        profile=profile_for_user(user=alice), defaults={"payload": _accounts(), "version": 1}
    )
    page.goto(host + "/")
    expect(page.locator("article.account-card").first).to_be_visible()
    stops: list[str] = []
    unmarked: list[str] = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUS_WALK)
        if not focused["key"] or focused["key"] in stops:
            break  # past the last stop, back to the page or the first one
        stops.append(focused["key"])
        if not focused["outlined"]:
            unmarked.append(focused["name"])
    # The walk went through the cards' actions, not just the header.
    expect(page.locator("article.account-card button[data-walk]").first).to_be_attached()
    assert not unmarked, f"focus was invisible on: {unmarked}"
