"""Start-up: the task stepper and the webhook sender, started once per process.

They start with the first request (`simulator.middleware.EngineStartMiddleware`), never at
import, so `migrate` and other management commands run no threads.
"""

from __future__ import annotations

import threading

from simulator import tasks, webhooks

_started = False
_start_lock = threading.Lock()


def engine_start() -> None:
    """Start the task stepper and the webhook sender, once per process."""
    global _started
    if _started:
        return
    with _start_lock:
        if _started:
            return
        tasks.stepper_start()
        webhooks.sender_start()
        _started = True
