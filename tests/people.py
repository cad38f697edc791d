"""The suite's named people: alice owns things, bob must not see them.

Each is a Django user with a name, an email and a password (`password_of`). Tests that work on
the host's side of a person use their Profile (`alice_profile`: identifier `hub_alice`); tests
against the simulator alone use an Atomic identifier (`person("alice")`).
"""

from __future__ import annotations

from django.contrib.auth.models import User

from paylink.models import Profile

_NAMES = {"alice": ("Alice", "Liddell"), "bob": ("Bob", "Marley")}


def password_of(username: str) -> str:
    return f"{username}-pass-1234"


def person_create(username: str) -> User:
    first, last = _NAMES.get(username, (username.title(), ""))
    return User.objects.create_user(
        username,
        f"{username}@example.com",
        password_of(username),
        first_name=first,
        last_name=last,
    )


def profile_of(user: User) -> Profile:
    """The person's Profile with a readable identifier (`hub_<username>`)."""
    profile, _ = Profile.objects.update_or_create(
        user=user, defaults={"identifier": f"hub_{user.get_username()}"}
    )
    return profile
