"""Gives a staff member a TOTP device for the admin's two-factor sign-in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Create a TOTP device for a staff user and print its otpauth:// URL once, to be added "
        "to an authenticator app. --replace removes the user's earlier TOTP devices first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No staff user is named {options['username']!r}.")
        devices = TOTPDevice.objects.filter(user=user)
        if devices.exists() and not options["replace"]:
            raise CommandError("That user already has a TOTP device; pass --replace to renew it.")
        devices.delete()
        device = TOTPDevice.objects.create(user=user, name="admin", confirmed=True)
        # Printed to the operator's terminal once, the only time the key leaves the database.
        self.stdout.write(device.config_url)
