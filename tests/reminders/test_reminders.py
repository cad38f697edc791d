"""Reminder emails and the weekly summary: from the stored snapshot, once per bill and due date,
in the person's language, with a one-click unsubscribe that needs no sign-in."""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone, translation

from paylink.services.profiles import profile_for_user
from paylink.tasks import send_due_reminders, send_weekly_summaries
from reminders.models import ReminderDelivery, ReminderKind
from reminders.services.delivery import reminders_send, weekly_summary_send
from tests.paylink.bills import FULL_NUMBER, bill_account, preferences_of, snapshot_with

pytestmark = pytest.mark.django_db

# A Tuesday; the week runs from Monday 30 November.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _hulu(due: date = date(2026, 12, 3), **kwargs) -> dict:
    return bill_account(account_id="acct-hulu", biller="Hulu", due=due, **kwargs)


def _unsubscribe_path(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http://") and header.endswith(">")
    return "/" + header[1:-1].split("/", 3)[3]


def test_alice_gets_one_email_for_a_bill_due_within_her_three_days(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(
        alice,
        _hulu(),
        bill_account(account_id="acct-far", biller="Netflix", due=date(2026, 12, 20)),
    )
    run = reminders_send(now=NOW)
    assert (run.sent, run.skipped, run.failed) == (1, 0, 0)
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reminder: your Hulu bill of $20.46 is due on Dec 3, 2026"
    assert "That is in 2 days." in message.body
    assert "Account ending 1919." in message.body
    assert "Netflix" not in message.body


def test_the_full_account_number_appears_nowhere_in_the_email(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    [message] = mailoutbox
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    everything = message.subject + message.body + html + str(message.extra_headers)
    assert FULL_NUMBER not in everything
    assert "1919" in message.body and "1919" in html


def test_a_short_account_number_is_not_shown_at_all(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu(number="4321"))
    reminders_send(now=NOW)
    [message] = mailoutbox
    assert "4321" not in message.body + message.alternatives[0][0]
    assert "Account ending" not in message.body


def test_the_email_has_plain_text_an_html_alternative_and_one_click_unsubscribe_headers(
    alice, mailoutbox
):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    [message] = mailoutbox
    html, _ = message.alternatives[0]
    assert "<p>" in html and "<p>" not in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = _unsubscribe_path(message)
    assert path.startswith("/reminders/unsubscribe/")
    assert path in message.body and path in html


def test_list_unsubscribe_goes_out_as_a_plain_url_as_rfc_8058_requires(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    [message] = mailoutbox
    # What the SMTP backend sends: a signed URL is longer than 78 characters, and was once
    # MIME-encoded (=?utf-8?q?...?=), which mail clients do not read as a one-click link.
    sent = message.message(policy=email.policy.SMTP).as_bytes().decode()
    [line] = [line for line in sent.split("\r\n") if line.startswith("List-Unsubscribe:")]
    url = message.extra_headers["List-Unsubscribe"]
    assert len(url) > 78
    assert line == f"List-Unsubscribe: {url}"
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in sent


def test_running_again_or_retrying_sends_nothing_more(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    second = reminders_send(now=NOW)
    assert (second.sent, second.skipped) == (0, 1)
    assert len(mailoutbox) == 1
    assert ReminderDelivery.objects.get().kind == ReminderKind.DUE


def test_a_days_before_change_does_not_repeat_a_reminder_already_sent(alice, mailoutbox):
    preferences = preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    preferences.days_before = 10
    preferences.save()
    reminders_send(now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert len(mailoutbox) == 1


def test_a_claim_made_by_another_run_stops_this_run_from_sending(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    ReminderDelivery.objects.create(
        profile=profile_for_user(user=alice),
        kind=ReminderKind.DUE,
        account_id="acct-hulu",
        due_date=date(2026, 12, 3),
        sent_at=NOW,
    )
    run = reminders_send(now=NOW)
    assert (run.sent, run.skipped) == (0, 1)
    assert mailoutbox == []


def test_a_run_that_loses_the_race_for_the_claim_sends_nothing(alice, mailoutbox):
    """Both runs saw no claim; the other committed first, so this one's insert hits the
    unique constraint inside its transaction and the email is not sent a second time."""
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    with mock.patch("reminders.services.delivery._already_sent", return_value=False):
        reminders_send(now=NOW)
        run = reminders_send(now=NOW)
    assert (run.sent, run.skipped) == (0, 1)
    assert len(mailoutbox) == 1


def test_a_failed_send_leaves_no_claim_so_the_next_run_sends_it(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=OSError("mail is down")):
        run = reminders_send(now=NOW)
    assert (run.sent, run.failed) == (0, 1)
    assert not ReminderDelivery.objects.exists()
    assert reminders_send(now=NOW).sent == 1
    assert len(mailoutbox) == 1


def test_nobody_is_emailed_without_asking(alice, bob, mailoutbox):
    preferences_of(alice)  # the defaults: reminders off
    snapshot_with(alice, _hulu())
    snapshot_with(bob, _hulu())  # no preferences at all
    assert reminders_send(now=NOW).sent == 0
    assert weekly_summary_send(now=NOW).sent == 0
    assert mailoutbox == []


def test_people_without_an_email_address_or_inactive_are_skipped(alice, bob, mailoutbox):
    preferences_of(alice, email_reminders=True)
    preferences_of(bob, email_reminders=True)
    snapshot_with(alice, _hulu())
    snapshot_with(bob, _hulu())
    alice.email = ""
    alice.save()
    bob.is_active = False
    bob.save()
    reminders_send(now=NOW)
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("due", "days_before", "sent"),
    [
        (date(2026, 11, 30), 3, 0),  # overdue: the weekly summary speaks of it, not a reminder
        (date(2026, 12, 1), 3, 1),  # today
        (date(2026, 12, 4), 3, 1),  # exactly three days ahead
        (date(2026, 12, 5), 3, 0),  # four days ahead: not yet
        (date(2026, 12, 1), 0, 1),  # on the day
        (date(2026, 12, 2), 0, 0),
        (date(2026, 12, 31), 30, 1),
    ],
)
def test_a_reminder_goes_only_within_the_chosen_days(alice, mailoutbox, due, days_before, sent):
    preferences_of(alice, email_reminders=True, days_before=days_before)
    snapshot_with(alice, _hulu(due=due))
    assert reminders_send(now=NOW).sent == sent
    assert len(mailoutbox) == sent


def test_a_new_due_date_for_the_same_account_gets_its_own_reminder(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu(due=date(2026, 12, 3)))
    reminders_send(now=NOW)
    snapshot_with(alice, _hulu(due=date(2027, 1, 3)), version=2)
    reminders_send(now=datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    assert [m.subject.rsplit(" on ", 1)[1] for m in mailoutbox] == ["Dec 3, 2026", "Jan 3, 2027"]


def test_each_person_hears_only_of_their_own_bills(alice, bob, mailoutbox):
    preferences_of(alice, email_reminders=True)
    preferences_of(bob, email_reminders=True)
    snapshot_with(alice, _hulu())
    snapshot_with(bob, bill_account(account_id="acct-bob", biller="Spotify", due=date(2026, 12, 2)))
    reminders_send(now=NOW)
    by_person = {m.to[0]: m for m in mailoutbox}
    assert set(by_person) == {"alice@example.com", "bob@example.com"}
    assert "Hulu" in by_person["alice@example.com"].body
    assert "Spotify" not in by_person["alice@example.com"].body
    assert "Spotify" in by_person["bob@example.com"].body
    assert "Hulu" not in by_person["bob@example.com"].body


@override_settings(LANGUAGE_CODE="es")
def test_the_email_is_written_in_the_persons_language(alice, mailoutbox):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    with translation.override("en"):
        reminders_send(now=NOW)
        # The person's language is used for their email only, then the caller's comes back.
        assert translation.get_language() == "en"
    [message] = mailoutbox
    html, _ = message.alternatives[0]
    assert '<html lang="es">' in html
    assert "3 dic 2026" in message.subject and "3 dic 2026" in message.body


def test_the_unsubscribe_link_asks_first_then_stops_reminders_without_signing_in(alice, mailoutbox):
    preferences_of(alice, email_reminders=True, weekly_summary=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    path = _unsubscribe_path(mailoutbox[0])
    anonymous = Client(enforce_csrf_checks=True)

    page = anonymous.get(path)
    assert page.status_code == 200
    assert b'method="post"' in page.content
    assert preferences_of(alice).email_reminders is True  # a link scanner's GET changes nothing
    # Nor does a HEAD: mail scanners send those too.
    assert anonymous.head(path).status_code == 200
    assert preferences_of(alice).email_reminders is True

    # What a mail client does for RFC 8058: a POST with no cookie and no CSRF token.
    done = anonymous.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert b"no longer get reminders" in done.content
    preferences = preferences_of(alice)
    assert preferences.email_reminders is False
    assert preferences.weekly_summary is True  # only the kind of email the link came with

    snapshot_with(alice, _hulu(due=date(2026, 12, 4)), version=2)
    reminders_send(now=NOW)
    assert len(mailoutbox) == 1


def test_the_weekly_summarys_link_stops_only_the_summary(alice, mailoutbox):
    preferences_of(alice, email_reminders=True, weekly_summary=True)
    snapshot_with(alice, _hulu())
    weekly_summary_send(now=NOW)
    [summary] = mailoutbox
    Client().post(_unsubscribe_path(summary))
    preferences = preferences_of(alice)
    assert (preferences.weekly_summary, preferences.email_reminders) == (False, True)


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + "xx", lambda t: "nonsense", lambda t: t + "a"]
)
def test_a_forged_or_altered_unsubscribe_token_is_a_404(alice, mailoutbox, mangle):
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    reminders_send(now=NOW)
    path = _unsubscribe_path(mailoutbox[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = f"/reminders/unsubscribe/{mangle(token)}/"
    assert Client().get(forged).status_code == 404
    assert Client().post(forged).status_code == 404
    assert preferences_of(alice).email_reminders is True


def test_the_weekly_summary_lists_the_week_the_overdue_and_the_savings_once_a_week(
    alice, mailoutbox
):
    preferences_of(alice, weekly_summary=True)
    snapshot_with(
        alice,
        _hulu(due=date(2026, 12, 4), savings=(10, 5)),
        bill_account(
            account_id="acct-late", biller="Comcast", due=date(2026, 11, 25), amount=76.99
        ),
        bill_account(account_id="acct-far", biller="Netflix", due=date(2026, 12, 20)),
    )
    assert weekly_summary_send(now=NOW).sent == 1
    [message] = mailoutbox
    assert message.subject == "Your bills this week"
    overdue, _, coming = message.body.partition("Due in the next seven days:")
    assert "Comcast: $76.99, was due on Nov 25, 2026 (account ending 1919)" in overdue
    assert "Hulu: $20.46, due on Dec 4, 2026 (account ending 1919)" in coming
    assert "Netflix" not in message.body
    # Two ways to save on one $20.46 bill are alternatives: up to $10, not $15.
    assert "Savings found: $10.00 a month." in message.body
    assert FULL_NUMBER not in message.body + message.alternatives[0][0]

    # Later the same week (Sunday), nothing more; the next Monday, a new one.
    assert weekly_summary_send(now=datetime(2026, 12, 6, 20, 0, tzinfo=UTC)).sent == 0
    assert weekly_summary_send(now=datetime(2026, 12, 7, 8, 0, tzinfo=UTC)).sent == 1
    assert len(mailoutbox) == 2


def test_nobody_is_sent_a_summary_about_nothing(alice, mailoutbox):
    preferences_of(alice, weekly_summary=True)
    snapshot_with(alice, _hulu(due=date(2026, 12, 20)))
    assert weekly_summary_send(now=NOW).sent == 0
    assert mailoutbox == []


def test_the_command_runs_both_once_and_reports(alice, mailoutbox, capsys):
    preferences_of(alice, email_reminders=True, weekly_summary=True)
    today = timezone.localdate()
    snapshot_with(alice, _hulu(due=today))
    call_command("paylink_reminders")
    call_command("paylink_reminders")
    out = capsys.readouterr().out
    assert "due reminders: 1 sent, 0 already sent, 0 failed" in out
    assert "weekly summaries: 1 sent, 0 already sent, 0 failed" in out
    assert "due reminders: 0 sent, 1 already sent, 0 failed" in out
    assert len(mailoutbox) == 2


def test_the_scheduled_tasks_send_each_email_once_however_often_they_run(alice, mailoutbox):
    preferences_of(alice, email_reminders=True, weekly_summary=True)
    snapshot_with(alice, _hulu(due=timezone.localdate()))
    for _ in range(2):
        send_due_reminders.call()
        send_weekly_summaries.call()
    assert sorted(m.subject.split(":")[0] for m in mailoutbox) == [
        "Reminder",
        "Your bills this week",
    ]


def test_a_deployment_whose_emailed_links_point_at_this_machine_is_warned(settings):
    from paylink.checks import site_url_check

    settings.DEBUG = settings.TESTING = settings.SIMULATOR_MODE = False
    settings.PAYLINK_SITE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in site_url_check()] == ["paylink.W001"]
    settings.PAYLINK_SITE_URL = "https://hub.example.com"
    assert site_url_check() == []


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_the_same_moment_send_one_email(alice, mailoutbox):
    """Two workers, each on its own database connection, both past the cheap check: the unique
    claim inside the sending transaction lets only one of them send."""
    import threading

    from django.db import connection

    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    both_checked = threading.Barrier(2, timeout=10)
    real_send = EmailMultiAlternatives.send
    runs = []

    def checked_by_both(**kwargs) -> bool:
        both_checked.wait()
        return False

    def slow_send(self, *args, **kwargs):
        # Hold the claim open a little, as an SMTP server would, so the other run meets it.
        threading.Event().wait(0.2)
        return real_send(self, *args, **kwargs)

    def worker() -> None:
        try:
            runs.append(reminders_send(now=NOW))
        finally:
            connection.close()

    with (
        mock.patch("reminders.services.delivery._already_sent", side_effect=checked_by_both),
        mock.patch.object(EmailMultiAlternatives, "send", slow_send),
    ):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted((r.sent, r.skipped, r.failed) for r in runs) == [(0, 1, 0), (1, 0, 0)]
    assert len(mailoutbox) == 1
    assert ReminderDelivery.objects.count() == 1


def _dashboard_due_day(client: Client, biller: str) -> str:
    """The day the dashboard's bills table shows for `biller`'s bill."""
    html = client.get("/").content.decode()
    [row] = [r for r in re.findall(r'<tr class="bill .*?</tr>', html, re.S) if biller in r]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return cells[1].split("<")[0].strip()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_reminder_writes_its_due_day_as_the_dashboard_does_in_the_persons_zone(
    alice, mailoutbox, language
):
    # Due at 23:59 UTC on 3 December: already 4 December in Tokyo, where Alice lives.
    profile = profile_for_user(user=alice)
    profile.language, profile.time_zone = language, "Asia/Tokyo"
    profile.save()
    preferences_of(alice, email_reminders=True)
    snapshot_with(alice, _hulu())
    client = Client()
    client.force_login(alice)
    shown = _dashboard_due_day(client, "Hulu")
    assert shown == {"en": "Dec 4, 2026", "es": "4 dic 2026"}[language]

    reminders_send(now=NOW)

    [message] = mailoutbox
    assert message.subject.endswith(shown)
    assert shown in message.body
    assert shown in message.alternatives[0][0]
