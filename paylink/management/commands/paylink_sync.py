"""Fetch users' PayLink accounts from Atomic now, without the task queue."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from paylink.models import Profile
from paylink.services.accounts import accounts_sync


class Command(BaseCommand):
    help = "Sync PayLink accounts from Atomic for one user (--user) or everyone (--all)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", metavar="USERNAME", help="Sync this user only.")
        who.add_argument(
            "--all", dest="everyone", action="store_true", help="Sync every user with a profile."
        )

    def handle(self, *args: Any, user: str | None, **options: Any) -> None:
        profiles = Profile.objects.select_related("user").order_by("pk")
        if user is not None:
            profiles = profiles.filter(user__username=user)
            if not profiles.exists():
                raise CommandError(f"No PayLink profile for user {user!r}.")
        failures = 0
        for profile in profiles.iterator():
            snapshot = accounts_sync(profile=profile)
            name = profile.user.get_username()
            if snapshot.last_error:
                failures += 1
                self.stderr.write(f"{name}: failed: {snapshot.last_error}")
                continue
            accounts = snapshot.payload.get("accounts", [])
            self.stdout.write(f"{name}: {len(accounts)} accounts, version {snapshot.version}")
        if failures:
            raise CommandError(f"{failures} user(s) could not be synced.")
