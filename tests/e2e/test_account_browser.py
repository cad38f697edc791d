"""One walk through a person's own account, in Chromium: a Spanish sign-up (its error summary
first), the Spanish reminder email and calendar feed that follow, then the account page:
language, email (confirmed by the mailed link) and password."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from paylink.models import Profile
from reminders.services.delivery import reminders_send
from reminders.services.preferences import calendar_token_rotate
from tests.paylink.bills import bill_account, preferences_of, snapshot_with

PASSWORD = "una-Clave-larga-42"
NEW_PASSWORD = "otra-Clave-larga-43"


def _focused_class(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.className")


def test_a_spanish_sign_up_then_email_language_and_password_changes(
    page: Page, live_server, mailoutbox
):
    host = live_server.url
    # The language is picked before signing up, in the footer's switcher.
    page.goto(host + "/accounts/signup/")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("h1")).to_have_text("Crear una cuenta")

    # A mistake first: the summary takes focus and links to the field.
    page.locator("#id_username").fill("dana")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD + "x")
    page.locator("#id_password2").press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary a[href='#id_password2']")).to_be_visible()
    assert "error-summary" in _focused_class(page)

    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_time_zone").select_option("America/Bogota")
    page.get_by_role("button", name="Crear cuenta").click()
    page.wait_for_url(host + "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    dana = User.objects.get(username="dana")
    profile = Profile.objects.get(user=dana)
    assert (profile.language, profile.time_zone) == ("es", "America/Bogota")

    # Her first reminder email and her calendar feed speak Spanish.
    dana.email = "dana@example.com"
    dana.save(update_fields=["email"])
    now = timezone.now()
    due = (now + timedelta(days=2)).date()
    snapshot_with(dana, bill_account(account_id="acct-1", biller="Streamly", due=due))
    preferences = preferences_of(dana, email_reminders=True)
    assert reminders_send(now=now).sent == 1
    (reminder,) = mailoutbox
    assert reminder.subject.startswith("Recordatorio: su factura de Streamly")
    assert "Hola" in reminder.body
    token = calendar_token_rotate(preferences=preferences)
    feed = Client().get(f"/calendar/{token}.ics").content.decode()
    assert "Factura de Streamly" in feed
    mailoutbox.clear()

    # The account page, from the header: English from now on.
    page.get_by_role("link", name="Cuenta", exact=True).click()
    expect(page.locator("h1")).to_have_text("Su cuenta")
    page.locator("#id_profile-language").select_option("en")
    page.get_by_role("button", name="Guardar").click()
    expect(page.locator("h1")).to_have_text("Your account")
    expect(page.get_by_text("Your settings are saved.")).to_be_visible()
    profile.refresh_from_db()
    assert profile.language == "en"

    # A new email address, used only once the mailed link is confirmed.
    page.locator("#id_email-email").fill("dana@new.example")
    page.locator("#id_email-password").fill(PASSWORD)
    page.get_by_role("button", name="Change email").click()
    expect(page.get_by_text("We sent a link to dana@new.example.")).to_be_visible()
    dana.refresh_from_db()
    assert dana.email == "dana@example.com"
    (confirmation,) = mail.outbox
    assert confirmation.to == ["dana@new.example"]
    link = re.search(r"http://\S+/settings/account/email/\S+/", confirmation.body).group(0)
    page.goto(host + "/" + link.split("/", 3)[3])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your email address is now dana@new.example.")).to_be_visible()
    dana.refresh_from_db()
    assert dana.email == "dana@new.example"

    # And a new password; this session stays signed in.
    page.get_by_role("link", name="Change your password").click()
    page.locator("#id_old_password").fill(PASSWORD)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Your account")
    dana.refresh_from_db()
    assert dana.check_password(NEW_PASSWORD)
