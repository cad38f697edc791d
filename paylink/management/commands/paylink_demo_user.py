"""Creates (or resets) the demo user that `make run` prints, in simulator mode only."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from paylink.services.profiles import profile_for_user


class Command(BaseCommand):
    help = "Create the demo user for simulator mode and print its login."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.SIMULATOR_MODE:
            raise CommandError(
                "The demo user exists only in simulator mode (ATOMIC_ENV=simulator)."
            )
        username = settings.PAYLINK_DEMO_USERNAME
        password = settings.PAYLINK_DEMO_PASSWORD
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": "Demo", "email": f"{username}@example.com"}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        profile_for_user(user=user)
        port = settings.PORT
        self.stdout.write(
            f"Demo login: username {username!r}, password {password!r} at http://127.0.0.1:{port}/"
        )
