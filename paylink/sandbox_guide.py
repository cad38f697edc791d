"""What to try in the Payments Hub outside production: the test usernames and, against the
simulator, its billers. Shown on the empty dashboard so a newcomer need not look them up.

The usernames are Atomic's sandbox credentials (plus two of the simulator's own, README); the
biller names are the simulator's catalogue, which the host does not import: a test keeps this
list equal to `simulator.catalogue.BILLERS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TestUsername:
    username: str
    outcome: Promise
    simulator_only: bool = False


TEST_USERNAMES = (
    TestUsername("test-good", _("connects")),
    TestUsername("test-code-mfa", _("asks for a code first (any code works), then connects")),
    TestUsername(
        "test-question-mfa", _("asks a security question first (any answer), then connects")
    ),
    TestUsername("test-bad", _("fails: wrong username or password")),
    TestUsername("test-failure", _("fails for an unknown reason")),
    TestUsername("test-declined", _("fails: payment method declined"), simulator_only=True),
    TestUsername("test-inactive", _("fails: subscription inactive"), simulator_only=True),
)

SIMULATOR_BILLERS = (
    "Streamly",
    "Tunewave Music",
    "Northpeak Mobile",
    "Brightline Fiber",
    "Harborline Auto Insurance",
    "Keystone Renters Insurance",
    "Cascade Auto Finance",
    "Meridian Student Loans",
    "Orchard",
)


def sandbox_guide() -> dict[str, object] | None:
    """What to list, or None in production, where real people sign in to real billers."""
    if settings.ATOMIC_ENV == "production":
        return None
    simulator = settings.SIMULATOR_MODE
    return {
        "usernames": [name for name in TEST_USERNAMES if simulator or not name.simulator_only],
        "billers": SIMULATOR_BILLERS if simulator else (),
        "simulator_url": settings.ATOMIC_API_URL if simulator else "",
    }
