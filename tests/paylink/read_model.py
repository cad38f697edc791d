"""The dashboard's read model filled from a payload, for tests of what pages read from it."""

from __future__ import annotations

from datetime import date
from unittest import mock

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from paylink.models import AccountSnapshot
from paylink.selectors import dashboard as selectors
from paylink.selectors.dashboard import Dashboard, Filters, Pages, dashboard_for_snapshot
from paylink.services.accounts import accounts_store
from paylink.services.profiles import profile_for_user


def stored(payload: dict, *, username: str = "reader") -> AccountSnapshot:
    """`payload` stored as a sync stores it, for a person of that name."""
    user, _ = User.objects.get_or_create(username=username)
    return accounts_store(profile=profile_for_user(user=user), payload=payload)


def dashboard_of(
    payload: dict | AccountSnapshot,
    *,
    today: date,
    pages: Pages | None = None,
    filters: Filters | None = None,
) -> Dashboard:
    """The dashboard of `payload`; without `pages`, every list whole on one page."""
    snapshot = payload if isinstance(payload, AccountSnapshot) else stored(payload)
    filters = filters or Filters()
    if pages is not None:
        return dashboard_for_snapshot(snapshot=snapshot, today=today, pages=pages, filters=filters)
    whole = {"BILLS_PER_PAGE": 100_000, "SUGGESTIONS_PER_PAGE": 100_000, "CARDS_PER_PAGE": 100_000}
    with mock.patch.multiple(selectors, **whole):
        return dashboard_for_snapshot(
            snapshot=snapshot, today=today, pages=Pages(), filters=filters
        )


def cold_page(user: User) -> tuple[int, str]:
    """`user`'s dashboard drawn cold (nothing cached): how many queries it made, and its HTML."""
    client = Client()
    client.force_login(user)
    # The session's first request also keeps the person's time zone in it.
    client.get("/")
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries), response.content.decode()
