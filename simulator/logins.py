"""The sandbox credentials: what each test username asks at login, and how its task ends.

Atomic's sandbox answers to these usernames with any password; any other username is a wrong
login. The host's empty dashboard lists the same names (tests/paylink/test_sandbox_guide.py reads
the table below to keep the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.models import SimTask, TaskStatus

MFA_QUESTION = "What was the name of your first pet?"


@dataclass(frozen=True)
class Outcome:
    authenticated: bool
    status: str
    fail_reason: str = ""


_OUTCOMES = {
    "test-good": Outcome(True, TaskStatus.COMPLETED),
    "test-code-mfa": Outcome(True, TaskStatus.COMPLETED),
    "test-question-mfa": Outcome(True, TaskStatus.COMPLETED),
    "test-failure": Outcome(True, TaskStatus.FAILED, "unknown-failure"),
    "test-declined": Outcome(True, TaskStatus.FAILED, "payment-method-declined"),
    "test-inactive": Outcome(True, TaskStatus.FAILED, "subscription-inactive"),
}
_BAD_LOGIN = Outcome(False, TaskStatus.FAILED, "bad-credentials")
_ACTION_OUTCOME = Outcome(True, TaskStatus.COMPLETED)


def login_step(username: str) -> str:
    """What the login form asks next: "ok", "mfa-code" or "mfa-question"."""
    match username.strip().lower():
        case "test-code-mfa":
            return "mfa-code"
        case "test-question-mfa":
            return "mfa-question"
        case _:
            return "ok"


def task_outcome(task: SimTask) -> Outcome:
    """How `task` ends: an action always succeeds; a connect follows its username."""
    if task.operation == "action":
        return _ACTION_OUTCOME
    return _OUTCOMES.get(task.username.strip().lower(), _BAD_LOGIN)
