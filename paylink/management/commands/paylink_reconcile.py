"""Catch up on what webhooks missed (Atomic retries a webhook only three times).

Asks Atomic only about what can still change (see paylink/services/reconcile.py): quiet tasks
that are not final, the task lists of people who opened Transact recently, and the accounts
of people whose last sync failed or whose copy is older than their last completed task. By
default each unit runs here, one after another, and is reported; `--enqueue` fans the units out as
background jobs instead, which is what the scheduler does. Every unit stands alone: an error
from Atomic is reported and the command moves on. Task ids only a browser vouched for that
Atomic never confirmed expire first (PAYLINK_UNCONFIRMED_TASK_SECONDS).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from paylink.services.reconcile import (
    reconcile_enqueue,
    reconcile_open_profiles,
    reconcile_profile_sync,
    reconcile_profile_tasks,
    reconcile_stale_profiles,
    reconcile_stuck_tasks,
    reconcile_task_check,
    reconcile_unconfirmed_expire,
)


class Command(BaseCommand):
    help = "Ask Atomic about quiet tasks, recently active people's task lists and stale accounts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Enqueue one background job per task, person or sync instead of running here.",
        )

    def handle(self, *args: Any, enqueue: bool = False, **options: Any) -> None:
        expired = reconcile_unconfirmed_expire()
        if expired:
            self.stdout.write(f"{expired} unconfirmed task(s) expired")
        if enqueue:
            tasks, people, syncs = reconcile_enqueue()
            self.stdout.write(
                f"Reconcile enqueued {tasks} task(s), {people} person(s) and {syncs} sync(s)."
            )
            return
        errors = 0
        outcomes = [reconcile_task_check(task=task) for task in reconcile_stuck_tasks()]
        outcomes += [
            reconcile_profile_tasks(profile=profile) for profile in reconcile_open_profiles()
        ]
        # After the task lists: a task found there may have left someone's accounts behind.
        outcomes += [
            reconcile_profile_sync(profile=profile) for profile in reconcile_stale_profiles()
        ]
        for outcome in outcomes:
            for line in outcome.lines:
                (self.stderr if line in outcome.errors else self.stdout).write(line)
            errors += len(outcome.errors)
        if errors:
            # A non-zero exit lets cron or a scheduler flag the run; the next run retries.
            raise CommandError(f"Reconcile finished with {errors} error(s).")
        self.stdout.write("Reconcile finished.")
