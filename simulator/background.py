"""The simulator's background loops (task steps, webhook deliveries), one shape for both."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


def loop_start(*, name: str, step: Callable[[], float], wake: threading.Event) -> None:
    """Run `step` in a daemon thread, forever.

    `step` does what is due and returns the seconds until more is; `wake` cuts the wait short
    when new work is committed. Never sleeps more than a second, so a missed wake costs little.
    """

    def run() -> None:
        while True:
            wait = 1.0
            try:
                close_old_connections()
                wait = step()
            except Exception:
                logger.exception("%s failed; retrying shortly", name)
            finally:
                # Each pass gets a fresh connection: SQLite locks and PostgreSQL idle timeouts.
                connection.close()
            wake.wait(timeout=min(max(wait, 0.02), 1.0))
            wake.clear()

    threading.Thread(target=run, name=name, daemon=True).start()
