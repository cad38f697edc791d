"""The one error the simulator raises for a request it refuses.

Every refusal is answered as Atomic answers it, JSON `{"message", "code"}` with `code` equal to
the HTTP status, so one class carries both: the views turn it into that answer (or, for a
Transact page that cannot start, the error screen).
"""

from __future__ import annotations


class SimulatorError(Exception):
    """A request the simulated Atomic refuses: `message` says why, `status` is the HTTP status."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
