"""axe-core on every host page and state (form errors, flash messages, a failed and a completed
task, the admin's sign-in), in English at desktop and phone widths and in Spanish at desktop
width: every rule axe runs, WCAG and best practice alike, and no violation of any impact. A width
changes the layout (what the media queries show, hide and restyle) and a language changes only
the words, so each is checked across every page without checking their every pairing. Words do
change widths, though: every host page is also laid out at 390 pixels in both languages, where
nothing may scroll sideways. Then the keyboard alone: the Hub's launch button
hands focus to Transact and gets it back, the dashboard's Refresh keeps it, and every stop shows
where focus is. Status changes are spoken once each, from one live region.

axe is the vendored file under tests/vendor/axe-core/. The pages' CSP allows scripts only with
the response's nonce, so `page.add_script_tag` is refused ("Executing inline script violates the
following Content Security Policy directive"). axe comes in as an init script instead, which the
browser runs in each new document through its debugging protocol, outside CSP; the pages keep
their real policy (no `bypass_csp`) while axe looks at them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, BrowserContext, Page, expect

from paylink.lib.rate_limits import THROTTLE_CACHE
from paylink.models import AccountSnapshot, Task
from paylink.services.email_change import email_change_token_make
from paylink.services.profiles import profile_for_user
from paylink.services.tasks import task_record
from reminders.models import ReminderKind
from reminders.services.preferences import reminder_preferences_for_profile
from reminders.unsubscribe_tokens import unsubscribe_token_make
from tests.atomic_json import atomic_json
from tests.browser_harness import DEFAULT_TIMEOUT_MS
from tests.e2e.axe import AXE, AXE_RUN
from tests.people import password_of
from tests.transact_steps import FRAME, connect_with_the_keyboard, log_in

pytestmark = pytest.mark.django_db(transaction=True)

# Violations known and waiting for a fix, as (page, rule): none. An entry here that axe no longer
# finds fails, so it goes as soon as its fix lands.
KNOWN: set[tuple[str, str]] = set()
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# The widths each language is checked at.
WIDTHS_CHECKED = {"en": ("desktop", "phone"), "es": ("desktop",)}
# Webhooks arrive within a second or two; htmx polls every PAYLINK_POLL_SECONDS (0.25 s here).
SETTLE_MS = 20_000


# On a phone, what scrolls sideways: the page itself (how far, and the element reaching furthest
# that no scrolling or clipping box holds in, the innermost of equals: the one to fix), and any box
# inside it, such as a table in a scrolling region, which hides columns off screen just the same.
# A page without a device-width viewport is laid out 980 pixels wide and zoomed out: as bad.
_SIDEWAYS = """() => {
  const root = document.documentElement;
  const viewport = document.querySelector("meta[name=viewport]");
  const fitted = Boolean(viewport && /width=device-width/.test(viewport.content));
  const scrolls = element => ["auto", "scroll"].includes(getComputedStyle(element).overflowX)
    && element.scrollWidth > element.clientWidth + 1;
  const heldIn = element => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return true;
    }
    return false;
  };
  const describe = element => element.tagName.toLowerCase()
    + (element.id ? "#" + element.id : "") + [...element.classList].map(c => "." + c).join("")
    + ` "${(element.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
  let widest = null, right = 0;
  const boxes = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (scrolls(element)) {
      boxes.push(`${describe(element)} holds ${element.scrollWidth} px in ${element.clientWidth}`);
    }
    const box = element.getBoundingClientRect();
    if (box.right <= root.clientWidth || box.right < right || heldIn(element)) continue;
    widest = element;
    right = box.right;
  }
  return {
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    fitted,
    boxes,
    widest: widest
      ? `${describe(widest)}, ${Math.round(widest.getBoundingClientRect().width)} px wide,`
        + ` right edge at ${Math.round(right)}`
      : "no single element",
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
    named by page and width; and, at the phone's width in every language, whether the page
    scrolls sideways. The page is drawn again at another width rather than loaded again: the
    same document, laid out by the other media queries, for half the loading."""

    def __init__(self, page: Page, *, language: str) -> None:
        self.page = page
        self.language = language
        self.widths = WIDTHS_CHECKED[language]
        self.width = next(w for w, size in WIDTHS.items() if size == page.viewport_size)
        self.violations: list[Violation] = []
        self.counts: dict[str, int] = {}
        self.phone_checked: list[str] = []
        self.sideways: list[str] = []

    def check(self, name: str, *, host_page: bool = True) -> None:
        """`host_page=False` for a page whose layout is not the host's (the admin's): axe only."""
        page = self.page
        page.wait_for_load_state("load")
        # The language served must be the language asked for, or both runs check English.
        assert page.evaluate("document.documentElement.lang") == self.language, name
        # The width the page is laid out at first, if axe checks it in this language.
        for width in sorted(self.widths, key=lambda w: w != self.width):
            self._resize(width)
            self._run_axe(name, width)
            if width == "phone" and host_page:
                self._measure(name)
        if "phone" not in self.widths and host_page:
            self._resize("phone")
            self._measure(name)

    def _resize(self, width: str) -> None:
        if width != self.width:
            self.page.set_viewport_size(WIDTHS[width])
            self.width = width

    def _measure(self, name: str) -> None:
        self.phone_checked.append(name)
        found = self.page.evaluate(_SIDEWAYS)
        if not found["fitted"]:
            self.sideways.append(f"  {name}: no width=device-width viewport")
        if found["scrollWidth"] > found["clientWidth"]:
            self.sideways.append(
                f"  {name}: {found['scrollWidth']} px wide in {found['clientWidth']}; widest: "
                f"{found['widest']}"
            )
        self.sideways += [f"  {name}: {box}" for box in found["boxes"]]

    def _run_axe(self, name: str, width: str) -> None:
        answer = self.page.evaluate(AXE_RUN)
        # axe looked at the page as laid out at this width, not the other.
        assert answer["width"] == WIDTHS[width]["width"], (name, width, answer["width"])
        found = answer["violations"]
        self.counts[f"{name} [{width}]"] = sum(len(rule["nodes"]) for rule in found)
        for rule in found:
            impact = rule["impact"] or "minor"
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

    def visit(self, url: str, name: str, *, host_page: bool = True) -> None:
        self.page.goto(url)
        self.check(name, host_page=host_page)

    def unknown(self) -> list[Violation]:
        return [v for v in self.violations if (v.page, v.rule) not in KNOWN]

    def known_but_gone(self) -> set[tuple[str, str]]:
        return KNOWN - {(v.page, v.rule) for v in self.violations}

    def report(self) -> str:
        lines = [f"  {name}: {count}" for name, count in self.counts.items()]
        return "\n".join(["axe violations per page:", *lines])


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
    its due-soon badge and the month view a bill, whatever the date. Its bill is in the
    thousands and its first suggestion saves hundreds, so the summary's figures are as wide as
    a household's (in Spanish, "1 142,64 US$" and "301,00 US$/mes")."""
    accounts = []
    for name in ("hulu", "messy"):
        accounts += atomic_json(f"accounts/{name}")["accounts"]
    hulu = accounts[0]["account"]
    hulu["billing"]["dueDate"] = timezone.localdate().isoformat() + "T12:00:00.000Z"
    hulu["billing"]["amount"] = 1142.64
    hulu["suggestions"][0]["monthlySavings"] = 301
    return {"accounts": accounts}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_host_page_and_state_passes_axe_and_none_scrolls_sideways_on_a_phone(
    audited_context, host, simulator, alice, settings, language
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
    limits = settings.PAYLINK_RATE_LIMITS
    settings.PAYLINK_RATE_LIMITS = {**limits, "sign_in": "0/60"}
    page.locator("form.auth__form button[type=submit]").click()
    expect(page.locator("main .alert--warning[role=alert]")).to_be_visible()
    audit.check("sign-in, too many tries (429)")
    settings.PAYLINK_RATE_LIMITS = limits
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
    audit.visit(host + "/accounts/signup/", "sign-up")
    page.locator("form.auth__form button[type=submit]").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    audit.check("sign-up with form errors")
    page.locator("input[name=username]").fill(f"newcomer-{language}")
    for field in ("password1", "password2"):
        page.locator(f"input[name={field}]").fill(password_of("newcomer"))
    page.locator("form.auth__form button[type=submit]").click()
    page.wait_for_url(host + "/")
    expect(page.locator(".messages .alert--success")).to_be_visible()
    audit.check("signed up: the empty dashboard, with a message")

    _sign_in(context, host, alice)
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
    completed = _task(alice, f"a11y-completed-{language}", status="completed")
    audit.visit(host + f"/hub/tasks/{completed}/", "task, completed")
    audit.visit(host + "/settings/reminders/", "reminder settings")
    page.locator("form.reminders__form button[type=submit]").click()
    expect(page.locator(".messages .alert--success")).to_be_visible()
    audit.check("reminder settings, saved, with a message")
    page.locator("form[action$='/calendar-link/'] button[type=submit]").click()
    page.wait_for_url("**/settings/reminders/#calendar")
    expect(page.locator(".messages .alert--success")).to_be_visible()
    audit.check("reminder settings, a new calendar link, with a message")
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
    audit.visit(host + "/account/", "your data")
    page.locator("input[name=password]").fill(password_of("alice"))
    page.locator("form[action$='/account/delete/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.locator(".messages .alert--success")).to_be_visible()
    audit.check("account deleted: sign-in, with a message")
    audit.visit(host + "/admin/login/", "admin sign-in", host_page=False)

    print(f"\n[{language}] " + audit.report())
    # Every page and state was looked at, at each of the language's widths, and on a phone.
    assert len(audit.counts) == 29 * len(WIDTHS_CHECKED[language]), list(audit.counts)
    assert len(audit.phone_checked) == 28, audit.phone_checked
    # Both kinds of fault in one message: a fix for one often shows in the other.
    violations = audit.unknown()
    faults = []
    if violations:
        faults += [f"{len(violations)} axe violation(s):", *(v.line() for v in violations)]
    if audit.sideways:
        faults += ["pages that scroll sideways at 390 px:", *audit.sideways]
    assert not faults, f"[{language}]\n" + "\n".join(faults)
    assert not audit.known_but_gone(), f"fixed, so take them out of KNOWN: {audit.known_but_gone()}"
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
    launch = page.get_by_role("button", name="Connect an account")
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
    launch = page.get_by_role("button", name="Connect an account")
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
    launch = page.get_by_role("button", name="Connect an account")
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
