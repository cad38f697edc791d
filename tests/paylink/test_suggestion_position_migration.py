"""Each stored suggestion takes its account's position (migration 0099), whatever order the
accounts' keys are in."""

from __future__ import annotations

import pytest

BEFORE = [("paylink", "0098_linkedaccount_fillfactor")]
AFTER = [("paylink", "0099_suggestion_account_position")]


@pytest.mark.django_db(transaction=True)
def test_each_stored_suggestion_takes_its_accounts_position(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="alice")
    profile = old.get_model("paylink", "Profile").objects.create(user=user, identifier="hub_a")
    snapshot = old.get_model("paylink", "AccountSnapshot").objects.create(
        profile=profile, payload={}
    )
    for name, position in (("Hulu", 7), ("Netflix", 2), ("Geico", 0)):
        account = old.get_model("paylink", "LinkedAccount").objects.create(
            snapshot=snapshot, position=position, company_name=name
        )
        for index in range(2):
            old.get_model("paylink", "Suggestion").objects.create(
                snapshot=snapshot, account=account, position=index
            )

    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps
    found = new.get_model("paylink", "Suggestion").objects.order_by("pk")
    assert [(s.account.company_name, s.account_position) for s in found] == [
        ("Hulu", 7),
        ("Hulu", 7),
        ("Netflix", 2),
        ("Netflix", 2),
        ("Geico", 0),
        ("Geico", 0),
    ]
