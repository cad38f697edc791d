"""Seams shared by the host's tests (the people, alice and bob, are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client

from paylink.client import TaskStatusReport


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Throttles, poll locks and render caches must not leak from one test into the next.
    for alias in ("default", "throttle"):
        caches[alias].clear()
    yield
    for alias in ("default", "throttle"):
        caches[alias].clear()


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def atomic() -> Iterator[mock.Mock]:
    """The one seam: the Atomic client every service reaches through `atomic_client()`,
    answering plausibly, offline: a token, a task still processing, no accounts and no tasks.
    A module that needs other answers extends it (`def atomic(atomic): ...`) or a test sets them.
    """
    with mock.patch("paylink.client.atomic_client") as factory:
        client = factory.return_value
        client.access_token_create.return_value = "public-token"
        client.task_status_get.return_value = TaskStatusReport("processing", None, None)
        client.accounts_get.return_value = {"accounts": []}
        client.user_tasks_list.return_value = []
        client.user_update.return_value = None
        yield client


def staff_login_with_code(client: Client, user: User) -> Client:
    """Signs staff in as the admin's two-factor sign-in would: password and a TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="admin", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def task_queue(settings):
    """A task backend that only records what is enqueued (`.results`), so nothing runs until the
    test says; it accepts the same queues as the real one."""
    from django.tasks import task_backends

    settings.TASKS = {
        "default": {
            **settings.TASKS["default"],
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
        }
    }
    backend = task_backends["default"]
    backend.clear()
    return backend
