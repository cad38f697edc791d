"""Gives a staff member a TOTP device for the admin's two-factor sign-in, as a QR code."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from paylink.admin_totp import totp_device_replace, totp_qr_svg_file, totp_qr_terminal


class Command(BaseCommand):
    help = (
        "Create a TOTP device for a staff user and show it once, as a QR code to scan with an "
        "authenticator app (and its otpauth:// URL). --replace removes the user's earlier TOTP "
        "devices first; --svg FILE also writes the QR code as an SVG image. Staff signed in to "
        "the admin can renew their own at /admin/authenticator/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true")
        parser.add_argument("--svg", metavar="FILE", help="also write the QR code to FILE as SVG")

    def handle(self, *args: object, **options: object) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No staff user is named {options['username']!r}.")
        if TOTPDevice.objects.filter(user=user).exists() and not options["replace"]:
            raise CommandError("That user already has a TOTP device; pass --replace to renew it.")
        device = totp_device_replace(user=user)
        # Shown to the operator once, the only time the key leaves the database.
        self.stdout.write(
            f"Scan this with the authenticator app of {user.get_username()} "
            "(or type in the URL below):"
        )
        self.stdout.write(totp_qr_terminal(device), ending="")
        self.stdout.write(device.config_url)
        if options["svg"]:
            totp_qr_svg_file(device, str(options["svg"]))
            self.stdout.write(f"The QR code is also in {options['svg']} (SVG).")
