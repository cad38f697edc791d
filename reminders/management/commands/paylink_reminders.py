"""Send the reminder emails due now and this week's summaries, once, from the stored snapshots.

Run it from cron (or call the tasks `paylink.tasks.send_due_reminders` and
`paylink.tasks.send_weekly_summaries` from a scheduler); running it again sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reminders.services.delivery import ReminderRun, reminders_send, weekly_summary_send


class Command(BaseCommand):
    help = "Send due-date reminders and weekly summaries that are due; each email goes once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            choices=["reminders", "weekly"],
            help="Send only one kind of email.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failed = 0
        if options["only"] in (None, "reminders"):
            failed += self._report("due reminders", reminders_send(now=now))
        if options["only"] in (None, "weekly"):
            failed += self._report("weekly summaries", weekly_summary_send(now=now))
        if failed:
            # A non-zero exit lets cron flag the run; the failed emails go out on the next one.
            raise CommandError(f"{failed} email(s) could not be sent; the next run retries them.")

    def _report(self, what: str, run: ReminderRun) -> int:
        for failure in run.failures:
            self.stderr.write(failure)
        self.stdout.write(
            f"{what}: {run.sent} sent, {run.skipped} already sent, {run.failed} failed"
        )
        return run.failed
