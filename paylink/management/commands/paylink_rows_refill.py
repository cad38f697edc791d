"""Rebuild the read model (accounts, bills, suggestions, payments) from the stored payloads."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from paylink.models import AccountSnapshot
from paylink.services.account_rows import accounts_rows_refill


class Command(BaseCommand):
    help = (
        "Rebuild the typed rows every page reads from each stored accounts payload, after a "
        "change to the read model. Calls nobody: the payloads are the record."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", metavar="USERNAME", help="Only this user's accounts.")

    def handle(self, *args: Any, user: str | None, **options: Any) -> None:
        snapshots = AccountSnapshot.objects.order_by("pk")
        if user is not None:
            snapshots = snapshots.filter(profile__user__username=user)
            if not snapshots.exists():
                raise CommandError(f"No stored accounts for user {user!r}.")
        people = accounts = 0
        for pk in snapshots.values_list("pk", flat=True).iterator():
            # One at a time: a payload can be megabytes.
            written = accounts_rows_refill(snapshot=AccountSnapshot.objects.get(pk=pk))
            people += 1
            accounts += written.created
        self.stdout.write(f"Rebuilt the rows of {accounts} accounts for {people} people.")
