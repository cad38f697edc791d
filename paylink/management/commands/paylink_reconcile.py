"""Catch up on what webhooks missed (Atomic retries a webhook only three times).

Unconfirmed task ids older than PAYLINK_UNCONFIRMED_TASK_SECONDS expire first. Then two
passes: tasks stuck in queued/processing are asked about one by one (an unconfirmed one only
whose it is, and dropped when Atomic does not know it); then each user's task list is read
so tasks the host never heard of are recorded. Every item stands alone: an
error from Atomic is reported and the command moves on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from paylink import client
from paylink.models import Profile, Task, TaskStatus
from paylink.services.accounts import accounts_sync_request
from paylink.services.tasks import TaskOwnershipError, task_record, task_status_refresh


class Command(BaseCommand):
    help = "Ask Atomic about stuck tasks and record tasks the host never heard of."

    def handle(self, *args: Any, **options: Any) -> None:
        self._expire_unconfirmed()
        errors = self._stuck_tasks() + self._user_tasks(client.atomic_client())
        if errors:
            # A non-zero exit lets cron or a scheduler flag the run; the next run retries.
            raise CommandError(f"Reconcile finished with {errors} error(s).")
        self.stdout.write("Reconcile finished.")

    def _expire_unconfirmed(self) -> None:
        # A task id only a browser vouched for, that Atomic never confirmed in all this time,
        # was made up or mistyped: asking about it forever would fail every run.
        cutoff = timezone.now() - timedelta(seconds=settings.PAYLINK_UNCONFIRMED_TASK_SECONDS)
        expired, _ = Task.objects.filter(awaiting_confirmation=True, created_at__lt=cutoff).delete()
        if expired:
            self.stdout.write(f"{expired} unconfirmed task(s) expired")

    def _stuck_tasks(self) -> int:
        cutoff = timezone.now() - timedelta(seconds=settings.PAYLINK_RECONCILE_AFTER_SECONDS)
        stuck = (
            Task.objects.filter(
                status__in=[TaskStatus.QUEUED, TaskStatus.PROCESSING], updated_at__lt=cutoff
            )
            .select_related("profile")
            .order_by("updated_at", "pk")
        )
        errors = 0
        for task in stuck.iterator():
            refresh = task_status_refresh(task=task, windowed=False)
            if refresh.gone:
                # Atomic does not know it (404) or it is nobody's here: given up, not an error.
                self.stdout.write(f"task {task.atomic_id}: dropped, not a task of this user")
            elif refresh.error:
                errors += 1
                self.stderr.write(f"task {task.atomic_id}: {refresh.error}")
            elif refresh.task.status != task.status:
                self.stdout.write(f"task {task.atomic_id}: {task.status} -> {refresh.task.status}")
            else:
                self.stdout.write(f"task {task.atomic_id}: still {refresh.task.status}")
        return errors

    def _user_tasks(self, atomic: client.AtomicClient) -> int:
        # Only users who ever launched something or were synced can have tasks at Atomic.
        profiles = (
            Profile.objects.filter(Q(tasks__isnull=False) | Q(snapshot__isnull=False))
            .distinct()
            .select_related("user")
            .order_by("pk")
        )
        errors = 0
        for profile in profiles.iterator():
            name = profile.user.get_username()
            try:
                summaries = atomic.user_tasks_list(identifier=profile.identifier)
            except client.AtomicError as exc:
                errors += 1
                self.stderr.write(f"user {name}: {exc}")
                continue
            completed_any = False
            for summary in summaries:
                try:
                    change = task_record(
                        profile=profile,
                        atomic_id=summary.id[:64],
                        status=summary.status[:32] or None,
                        fail_reason=summary.fail_reason,
                        authenticated=summary.authenticated,
                        product=(summary.product or "")[:32],
                        company_id=(summary.company_id or "")[:64],
                        company_name=(summary.company_name or "")[:200],
                    )
                except TaskOwnershipError:
                    errors += 1
                    self.stderr.write(f"user {name}: task {summary.id} belongs to another user")
                    continue
                if change.created:
                    self.stdout.write(
                        f"user {name}: recorded task {summary.id} ({change.task.status})"
                    )
                elif change.status_changed:
                    self.stdout.write(f"user {name}: task {summary.id} -> {change.task.status}")
                completed_any = completed_any or change.completed_now
            if completed_any:
                # One sync covers every task that finished for this user.
                accounts_sync_request(profile=profile)
        return errors
