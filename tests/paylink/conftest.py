"""People and seams shared by the host's tests: alice owns things, bob must not see them."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Throttles, poll locks and render caches must not leak from one test into the next.
    for alias in ("default", "throttle"):
        caches[alias].clear()
    yield
    for alias in ("default", "throttle"):
        caches[alias].clear()


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-pass-1234")


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def atomic() -> Iterator[mock.Mock]:
    """The one seam: the Atomic client every service reaches through `atomic_client()`."""
    with mock.patch("paylink.client.atomic_client") as factory:
        yield factory.return_value
