"""Fixtures shared across the suite: the simulator process and a loopback webhook receiver.

- `simulator` (session): one simulator process, see `tests.simprocess.SimulatorProcess`.
- `sim`: the same process with faults, runtime config and unsent webhooks cleared before
  and after the test.
- the browser fixtures (`browser`, `context`, `page`, `browser_log`) of tests/browser_harness.py.
- `webhook_sink`: a receiver on a free loopback port that records every request and can be
  told to answer 500 to the next N.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from paylink.models import Profile
from tests.loopback import LoopbackServer
from tests.people import person_create, profile_of
from tests.simprocess import SimulatorProcess
from tests.waiting import wait_until

# One Playwright driver and one Chromium for the whole session, shared by every browser test.
pytest_plugins = ["tests.browser_harness"]

# The only tests that may skip: the published SDK's file is not ours to ship, so they run only
# when PUBLISHED_SDK_PATH points at a copy. Any other skip fails the run (see below).
ALLOWED_SKIPS = (
    "tests/simulator/browser/test_published_sdk.py::",
    "tests/test_settings.py::test_the_published_sdk_file_is_the_one_the_host_pins_",
)
_disallowed_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not report.nodeid.startswith(ALLOWED_SKIPS):
        _disallowed_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _disallowed_skips and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _disallowed_skips:
        terminalreporter.write_line(
            f"FAILED: {len(_disallowed_skips)} test(s) skipped outside the published-SDK check; "
            "a skip hides a test, so the run fails: " + ", ".join(_disallowed_skips[:5]),
            red=True,
        )


# The tests that hold a worker longest, mostly waiting on a browser, a clock or a fresh
# process: each of these files or tests runs a few seconds to a minute.
LONG = (
    "tests/simulator/browser/",
    "tests/e2e/",
    "tests/bench/",
    "tests/simulator/test_restart.py",
    "tests/paylink/test_cache_table_migration.py",
    "tests/paylink/test_snapshot_payload_migration.py",
    "tests/paylink/observability/test_metrics.py",
    "tests/paylink/observability/test_leaks.py",
    "tests/paylink/test_i18n.py::test_the_catalogues_hold_every_string_the_code_marks",
    "tests/test_imports.py",
    "tests/paylink/test_webhooks.py::test_three_hundred_mutated_signed_events_never_answer_5xx",
    "tests/paylink/lib/test_outage.py::test_the_production_stack",
    "tests/paylink/test_snapshot_accounts.py::test_a_five_thousand_account_sync",
    "tests/paylink/test_checks.py::test_the_release_check",
    "tests/simulator/test_host_against_variants.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deals the long tests to the front of every xdist worker's share.

    worksteal hands each worker one contiguous share of this list (a 1/n, then a 1/(n-1) of
    the rest, ...), and a worker out of work takes the back half of the longest queue left.
    In collection order (pytest-django's: database tests, then transactional, then the rest)
    the browser, end-to-end and bench tests fell into one or two shares and ran one after
    another there, the run's longest path. Dealt round-robin to the front of every share,
    they start at once on every worker, and short tests are left for the end.
    """
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    if workers < 2:
        return
    long = [item for item in items if item.nodeid.startswith(LONG)]
    chosen = set(long)
    rest = iter([item for item in items if item not in chosen])
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker in range(workers):
        share = left // (workers - worker)
        dealt = long[worker::workers]
        ordered += dealt + list(itertools.islice(rest, max(share - len(dealt), 0)))
        left -= share
    ordered += rest
    items[:] = ordered


@pytest.fixture(autouse=True)
def _language_and_zone_reset() -> Iterator[None]:
    """A request leaves its language and time zone active in the thread (Django resets neither
    when a response is done): each test starts from the site's own, whatever ran before it."""
    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture
def alice(db) -> User:
    """Alice, a signed-up person (see tests/people.py); a live-server test's `db` is transactional."""
    return person_create("alice")


@pytest.fixture
def bob(db) -> User:
    return person_create("bob")


@pytest.fixture
def alice_profile(alice) -> Profile:
    return profile_of(alice)


@pytest.fixture
def bob_profile(bob) -> Profile:
    return profile_of(bob)


@pytest.fixture
def person() -> Callable[[str], str]:
    """A fresh Atomic identifier for a named person, unique within the shared simulator process."""
    return lambda name: f"{name}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess().start()
    yield process
    process.stop()


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    yield simulator
    # Tests that take the plain `simulator` fixture must not inherit this test's faults.
    simulator.reset()


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # names lowercased
    body: bytes
    status: int  # what the sink answered
    at: float


class WebhookSink:
    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self._failures_left = 0
        self._failure_status = 500
        self._slow_left = 0
        self._slow_seconds = 0.0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with sink._lock:
                    status = 200
                    if sink._failures_left > 0:
                        sink._failures_left -= 1
                        status = sink._failure_status
                    delay = 0.0
                    if sink._slow_left > 0:
                        sink._slow_left -= 1
                        delay = sink._slow_seconds
                    sink.received.append(
                        ReceivedRequest(
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            status=status,
                            at=time.monotonic(),
                        )
                    )
                # A slow receiver: the sender's try stays in flight meanwhile.
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = LoopbackServer(Handler)
        self.url = f"{self.server.url}/webhooks/atomic/"

    def fail_next(self, count: int, *, status: int = 500) -> None:
        with self._lock:
            self._failures_left, self._failure_status = count, status

    def slow_next(self, count: int, *, seconds: float) -> None:
        """The next `count` requests are answered `seconds` late (each recorded on arrival)."""
        with self._lock:
            self._slow_left, self._slow_seconds = count, seconds

    def wait_for(
        self, predicate: Callable[[list[ReceivedRequest]], bool], *, timeout: float = 10.0
    ) -> list[ReceivedRequest]:
        """The requests received so far, once `predicate(received)` holds; raises at the deadline."""

        def snapshot() -> list[ReceivedRequest]:
            with self._lock:
                return list(self.received)

        wait_until(
            lambda: predicate(snapshot()),
            what="the webhook sink to receive what the test expects",
            timeout=timeout,
            detail=lambda: (
                f"received: {[(r.headers.get('ce-type'), r.status) for r in snapshot()]}"
            ),
        )
        return snapshot()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.stop()


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    """Migrations run by hand, for the tests of a migration on a database holding old rows."""
    executor = MigrationExecutor(connection)
    yield executor
    # Whatever the test did, the database is left fully migrated for the tests after it.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
