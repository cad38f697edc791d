"""Migration 0094 drops the calendar feed's plain token and keeps its digest: every feed URL
people hold keeps working, and nothing the database holds can be turned back into one."""

from __future__ import annotations

import hashlib

import pytest

BEFORE = [("paylink", "0090_linkedaccount_card")]
AFTER = [("paylink", "0091_calendar_token_digest_only")]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_dropping_the_plain_token_leaves_every_row_its_digest(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("auth", "User")
    Profile = old.get_model("paylink", "Profile")
    Preferences = old.get_model("paylink", "ReminderPreferences")
    for name, digest in (("alice", _sha256("tok-alice")), ("bob", "")):
        profile = Profile.objects.create(
            user=User.objects.create(username=name), identifier=f"hub_{name}"
        )
        Preferences.objects.create(
            profile=profile, calendar_token=f"tok-{name}", calendar_token_sha256=digest
        )

    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("paylink", "ReminderPreferences")
    digests = dict(new.objects.values_list("profile__user__username", "calendar_token_sha256"))
    assert digests == {"alice": _sha256("tok-alice"), "bob": _sha256("tok-bob")}
    assert "calendar_token" not in {field.name for field in new._meta.get_fields()}
