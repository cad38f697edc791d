"""The suite's one way to wait for something another thread or process does.

    task = wait_until(lambda: Task.objects.filter(status="completed").first(),
                      what="the task to complete")

Polls until the predicate returns something truthy and returns that; at the deadline it raises
AssertionError naming what never happened, so no test can pass by running out of time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until[T](
    predicate: Callable[[], T | None],
    *,
    what: str,
    timeout: float = 15.0,
    interval: float = 0.05,
    detail: Callable[[], str] | None = None,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(f"waited {timeout:g} s for {what}, in vain{extra}")
        time.sleep(interval)
