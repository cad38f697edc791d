"""The reminders app is served by the same host: its tests use the host's fixtures (a clean
cache between tests, alice signed in, the Atomic seam, a recording task queue)."""

from tests.paylink.conftest import _clean_cache, alice_client, atomic, task_queue

__all__ = ["_clean_cache", "alice_client", "atomic", "task_queue"]
