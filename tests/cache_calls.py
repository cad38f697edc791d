"""The default cache's round trips, counted: the name of each call a test's code makes on it."""

from __future__ import annotations

import pytest
from django.core.cache import caches

COUNTED = ("get", "get_many", "has_key", "add", "set", "set_many")


def cache_calls_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the default cache's calls from now on, in order. A call made inside another
    (the local memory cache's get_many calls its own get) is not a round trip of its own."""
    default = caches["default"]
    calls: list[str] = []
    depth = [0]

    def counted(name, original):
        def call(*args, **kwargs):
            if not depth[0]:
                calls.append(name)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in COUNTED:
        monkeypatch.setattr(default, name, counted(name, getattr(default, name)))
    return calls
