"""The measurements behind `make bench`; imported only after Django is set up.

Every figure is a ratio to a trivial login-required view timed in the same interleaved rounds,
so a slow or busy machine moves the yardstick and the figures alike.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import hmac
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from paylink.client import TaskStatusReport
from paylink.models import AccountSnapshot, Profile, Task
from paylink.services.accounts import accounts_store

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "accounts" / "hulu.json"
TASK_DONE = "bench-task-completed"
TASK_RUNNING = "bench-task-running"
SIZES = (1, 50, 200, 1000)
LAUNCH = "/hub/ launch page"


@dataclass(frozen=True)
class Target:
    """At most `ratio` times the trivial view and, when set, at most `queries` SQL queries;
    or, for work no page can stand as a yardstick for, under `seconds` by the wall clock."""

    ratio: float | None = None
    queries: int | None = None
    # The endpoint the ratio is to, when not the trivial view.
    relative_to: str = ""
    seconds: float | None = None

    def describe(self) -> str:
        parts = []
        if self.ratio is not None:
            parts.append(
                f"<= {self.ratio:g}x" + (f" {self.relative_to}" if self.relative_to else "")
            )
        if self.queries is not None:
            parts.append(f"<= {self.queries} q")
        if self.seconds is not None:
            parts.append(f"< {self.seconds:g} s")
        return ", ".join(parts) or "-"


@dataclass
class Endpoint:
    name: str
    request: Callable[[], int]
    ok_statuses: tuple[int, ...] = (200,)
    # Run untimed before each timed request: how a cold render gets its cold cache.
    prepare: Callable[[], None] | None = None
    # Timed in one round out of `every`: the slow cold renders would otherwise dominate the run.
    every: int = 1
    target: Target = field(default_factory=Target)
    # Wall-clock seconds per timed request, and this process's CPU seconds for the same request.
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)
    queries: int | None = None
    unavailable: str = ""


def accounts_payload(count: int) -> dict:
    hulu = json.loads(FIXTURE.read_text())["accounts"][0]
    accounts = []
    for index in range(count):
        account = copy.deepcopy(hulu)
        account["_id"] = f"bench{index:04d}"
        account["company"]["name"] = f"Biller {index}"
        account["account"]["billing"]["amount"] = round(9.99 + index, 2)
        accounts.append(account)
    return {"accounts": accounts}


def user_with_accounts(username: str, count: int) -> tuple[User, Profile]:
    user = User.objects.create_user(username)
    profile = Profile.objects.create(user=user)
    # Stored as a sync stores what it fetched, so the snapshot is what the host would have.
    accounts_store(profile=profile, payload=accounts_payload(count))
    return user, profile


def url_or_none(name: str, *args: str) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def webhook_request(client: Any, url: str, profile: Profile) -> Callable[[], int]:
    def send() -> int:
        body = json.dumps(
            {
                "eventType": "task-authentication-status-updated",
                "eventTime": timezone.now().isoformat(),
                "user": {"_id": "bench-user", "identifier": profile.identifier},
                "data": {"taskId": TASK_DONE, "authenticated": True},
            }
        ).encode()
        signature = hmac.new(settings.ATOMIC_API_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return client.post(
            url,
            data=body,
            content_type="application/json",
            headers={
                "X-HMAC-Signature-Sha-256": signature,
                "ce-id": str(uuid.uuid4()),
                "ce-specversion": "1.0",
                "ce-source": "com.atomicfi",
                "ce-type": "com.atomicfi.task-authentication-status-updated",
                "ce-time": timezone.now().isoformat(),
            },
        ).status_code

    return send


def _bump_version(profile: Profile) -> Callable[[], None]:
    # What a sync that found new data does: every render cache keyed on the version misses.
    def bump() -> None:
        AccountSnapshot.objects.filter(profile=profile).update(version=F("version") + 1)

    return bump


def _dashboard_poll(client: Any, profile: Profile) -> Callable[[], int]:
    version = AccountSnapshot.objects.get(profile=profile).version
    base = f"{reverse('paylink:dashboard-poll')}?since={version}"

    def poll() -> int:
        # A poll still waiting: nothing newer has landed since it began, a moment ago (a poll
        # older than the deadline would redraw the whole body instead).
        after = int(time.time() * 1000) - 2000
        return client.get(f"{base}&after={after}", headers={"HX-Request": "true"}).status_code

    return poll


# A client for a person (or for nobody): Django's test Client, or bench/server.py's over HTTP.
MakeClient = Callable[[User | None], Any]


def endpoints(make_client: MakeClient) -> list[Endpoint]:
    """Builds the users, snapshots and tasks, and one Endpoint per measured request."""

    def get(client: Any, url: str | None, **headers: str) -> Callable[[], int]:
        return lambda: client.get(url, headers=headers).status_code

    result: list[Endpoint] = []

    trivial_user = User.objects.create_user("bench-trivial")
    trivial = make_client(trivial_user)
    result.append(Endpoint("trivial view", get(trivial, url_or_none("bench-trivial"))))
    result.append(Endpoint(LAUNCH, get(trivial, url_or_none("paylink:hub"))))

    dashboard = url_or_none("paylink:dashboard")
    warm_profiles: dict[int, Profile] = {}
    for size in SIZES:
        user, profile = user_with_accounts(f"bench-cold-{size}", size)
        client = make_client(user)
        cold_target = Target(10) if size == 200 else Target()
        if size == 1000:
            cold_target = Target(10, relative_to=LAUNCH)
        result.append(
            Endpoint(
                f"/ cold, {size} accounts",
                get(client, dashboard),
                prepare=_bump_version(profile),
                every=5 if size >= 200 else 2,
                target=cold_target,
            )
        )
    for size in SIZES:
        user, profile = user_with_accounts(f"bench-warm-{size}", size)
        warm_profiles[size] = profile
        client = make_client(user)
        warm_target = Target(2, relative_to=LAUNCH) if size == 1000 else Target()
        result.append(
            Endpoint(f"/ warm, {size} accounts", get(client, dashboard), target=warm_target)
        )
    for size in (50, 1000):
        client = make_client(warm_profiles[size].user)
        result.append(
            Endpoint(
                f"dashboard poll, {size} accounts", _dashboard_poll(client, warm_profiles[size])
            )
        )

    owner = warm_profiles[50]
    Task.objects.create(
        profile=owner, atomic_id=TASK_DONE, status="completed", finished_at=timezone.now()
    )
    Task.objects.create(profile=owner, atomic_id=TASK_RUNNING, status="processing")
    poller = make_client(owner.user)
    for name, task_id, ok in (
        ("task poll, finished", TASK_DONE, (286,)),
        ("task poll, running", TASK_RUNNING, (200,)),
    ):
        url = url_or_none("paylink:task", task_id)
        result.append(
            Endpoint(
                name,
                get(poller, url, HX_Request="true"),
                ok_statuses=ok,
                target=Target(1.5, 2),
            )
        )

    webhook_url = url_or_none("paylink:atomic-webhook")
    if webhook_url:
        result.append(
            Endpoint(
                "webhook ingest (no processing)",
                webhook_request(make_client(None), webhook_url, owner),
            )
        )
    found = result + read_model_endpoints(make_client) + flat_endpoints(make_client)
    return endpoints_named(found)


def endpoints_named(found: list[Endpoint]) -> list[Endpoint]:
    """With BENCH_ONLY set, only the endpoints whose names hold one of its comma-separated
    parts, and the trivial view (every ratio's yardstick): a run that asks one question."""
    parts = [part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()]
    if not parts:
        return found
    return [e for e in found if e.name == "trivial view" or any(p in e.name for p in parts)]


def read_model_endpoints(make_client: MakeClient) -> list[Endpoint]:
    """The month view, the calendar feed and one reminder run at 1,000 accounts, each within
    the cost of a cold dashboard of as many: all read the same rows."""
    from reminders.services.delivery import reminders_send
    from reminders.services.preferences import (
        calendar_token_rotate,
        reminder_preferences_for_profile,
    )

    user, profile = user_with_accounts("bench-reads-1000", 1000)
    user.email = "bench-reads@example.com"
    user.save()
    preferences = reminder_preferences_for_profile(profile=profile)
    preferences.email_reminders = True
    preferences.save()
    client = make_client(user)
    within_cold = Target(1, relative_to="/ cold, 1000 accounts")
    feed = url_or_none("reminders:calendar-feed", calendar_token_rotate(preferences=preferences))

    def reminder_run() -> int:
        reminders_send(now=timezone.now())
        return 200

    return [
        Endpoint(
            "/calendar/ month, 1000 accounts",
            lambda: client.get(url_or_none("reminders:calendar-month")).status_code,
            target=within_cold,
            every=5,
        ),
        Endpoint(
            "calendar feed, 1000 accounts",
            lambda: make_client(None).get(feed).status_code,
            target=within_cold,
            every=5,
        ),
        Endpoint("reminder run, 1000 accounts", reminder_run, target=within_cold, every=5),
    ]


FLAT = 5000


def flat_endpoints(make_client: MakeClient) -> list[Endpoint]:
    """Issue 26's "flat in accounts": at 5,000 accounts the cold dashboard, the month view,
    the feed and the data download each within 20x the trivial view, and a sync that changed
    all 5,000 accounts stored in under a second.

    The month view, the feed and the download keep what they drew for a version of the
    person's data: they are timed for a person whose data stays as it is (what every visit
    but the first after a sync costs), and, without a target, for one whose version moves
    before each request (the first visit after a sync). The cold dashboard moves the version
    of a person of its own, so it cannot make the others' visits first ones."""
    from reminders.services.preferences import (
        calendar_token_rotate,
        reminder_preferences_for_profile,
    )

    def feed_url(profile: Profile) -> str | None:
        preferences = reminder_preferences_for_profile(profile=profile)
        return url_or_none(
            "reminders:calendar-feed", calendar_token_rotate(preferences=preferences)
        )

    export = url_or_none("paylink:account-export")

    def download(client: Any) -> Callable[[], int]:
        def read() -> int:
            response = client.get(export)
            # Streamed: the work is done as the body is read, so it is read to the end (the
            # server bench's client has read it already, and has no stream to read).
            b"".join(getattr(response, "streaming_content", ()))
            return response.status_code

        return read

    user, profile = user_with_accounts(f"bench-flat-{FLAT}", FLAT)
    client = make_client(user)
    feed = feed_url(profile)
    cold_user, cold_profile = user_with_accounts(f"bench-flat-cold-{FLAT}", FLAT)
    cold_client = make_client(cold_user)
    cold_feed = feed_url(cold_profile)
    resynced = _bump_version(cold_profile)

    # Two payloads that differ in every account: each store rewrites all of them.
    syncer = Profile.objects.create(user=User.objects.create_user(f"bench-sync-{FLAT}"))
    payloads = [accounts_payload(FLAT), accounts_payload(FLAT)]
    for account in payloads[1]["accounts"]:
        account["account"]["billing"]["amount"] += 1
    stores = iter(range(1_000_000))

    def store() -> int:
        accounts_store(profile=syncer, payload=payloads[next(stores) % 2])
        return 200

    within = Target(20)
    month = url_or_none("reminders:calendar-month")
    return [
        Endpoint(
            f"/ cold, {FLAT} accounts",
            lambda: cold_client.get(dashboard_url()).status_code,
            prepare=resynced,
            every=5,
            target=within,
        ),
        Endpoint(
            f"/calendar/ month, {FLAT} accounts",
            lambda: client.get(month).status_code,
            every=5,
            target=within,
        ),
        Endpoint(
            f"calendar feed, {FLAT} accounts",
            lambda: make_client(None).get(feed).status_code,
            every=5,
            target=within,
        ),
        Endpoint(f"data download, {FLAT} accounts", download(client), every=5, target=within),
        Endpoint(
            f"month {FLAT}, after a sync",
            lambda: cold_client.get(month).status_code,
            prepare=resynced,
            every=5,
        ),
        Endpoint(
            f"feed {FLAT}, after a sync",
            lambda: make_client(None).get(cold_feed).status_code,
            prepare=resynced,
            every=5,
        ),
        Endpoint(
            f"download {FLAT}, after a sync", download(cold_client), prepare=resynced, every=5
        ),
        Endpoint(f"sync store, {FLAT} changed accounts", store, every=20, target=Target(seconds=1)),
    ]


def dashboard_url() -> str | None:
    return url_or_none("paylink:dashboard")


def _count_queries(endpoint: Endpoint) -> int:
    if endpoint.prepare:
        endpoint.prepare()
    with CaptureQueriesContext(connection) as queries:
        endpoint.request()
    return len(queries)


def measure(
    measured: list[Endpoint],
    *,
    rounds: int,
    warmup: int,
    count_queries: bool,
) -> None:
    """Times every available endpoint in interleaved rounds, by the wall clock and by this
    process's CPU time (the whole cost in process; the client's share over HTTP)."""
    for endpoint in measured:
        if endpoint.prepare:
            endpoint.prepare()
        status = endpoint.request()
        if status not in endpoint.ok_statuses:
            endpoint.unavailable = f"answered {status}"
    live = [e for e in measured if not e.unavailable]
    if count_queries:
        for endpoint in live:
            endpoint.queries = _count_queries(endpoint)
    for _ in range(warmup):
        for endpoint in live:
            endpoint.request()
    # What setup and warm-up left behind is set aside, so the collector's passes during the
    # rounds cost what a long-running worker's would, not what this run's setup piled up.
    gc.collect()
    gc.freeze()
    # Interleaved: each round times every endpoint once, so drift hits all of them alike.
    for round_index in range(rounds):
        for endpoint in live:
            if round_index % endpoint.every:
                continue
            if endpoint.prepare:
                endpoint.prepare()
            wall, cpu = time.perf_counter(), time.process_time()
            endpoint.request()
            endpoint.cpu_samples.append(time.process_time() - cpu)
            endpoint.samples.append(time.perf_counter() - wall)


def _p90(samples: list[float]) -> float:
    # The tail: where a request that waits on something slow (Atomic, say) shows.
    return statistics.quantiles(samples, n=10)[-1] if len(samples) > 1 else samples[0]


def target_met(
    target: Target, *, ratio: float | None, queries: int | None, seconds: float | None = None
) -> bool | None:
    """None when there is no target; else whether the figures meet it (a ratio that could not
    be taken, with no yardstick, does not)."""
    if target.ratio is None and target.queries is None and target.seconds is None:
        return None
    ratio_ok = target.ratio is None or (ratio is not None and ratio <= target.ratio)
    queries_ok = target.queries is None or queries is None or queries <= target.queries
    seconds_ok = target.seconds is None or (seconds is not None and seconds < target.seconds)
    return ratio_ok and queries_ok and seconds_ok


def verdict(met: bool | None) -> str:
    """How a figure is judged in every table: "met", "MISSED", or blank without a target."""
    return "" if met is None else ("met" if met else "MISSED")


def report(
    measured: list[Endpoint], *, rounds: int, warmup: int, where: str, cpu: bool = True
) -> int:
    """Prints the table; returns how many targets were missed. Targets are judged on the
    wall-clock ratio (what a person waits); the CPU ratio is shown beside it."""
    medians = {e.name: statistics.median(e.samples) for e in measured if e.samples}
    cpu_medians = {e.name: statistics.median(e.cpu_samples) for e in measured if e.cpu_samples}
    trivial = medians.get("trivial view")
    trivial_cpu = cpu_medians.get("trivial view")
    print(f"{where}: {rounds} interleaved rounds after {warmup} warm-up rounds.")
    print("Cold renders are timed in one round of every 2 or 5 (a sync store, of 20).")
    print("Medians; ratios of medians.")
    print("Targets are judged on the wall-clock ratio.")
    print("Queries are counted in process only (one request each, after its preparation).\n")
    cpu_header = f" {'CPU ms':>8} {'x (CPU)':>8}" if cpu else ""
    header = (
        f"{'endpoint':<32} {'wall ms':>8} {'x trivial':>10}{cpu_header} {'p90 ms':>8}"
        f" {'queries':>8}  {'target':<15} verdict"
    )
    print(header)
    print("-" * len(header))
    missed = 0
    unavailable = 0
    for endpoint in measured:
        if endpoint.unavailable:
            has_target = endpoint.target != Target()
            unavailable += has_target
            print(
                f"{endpoint.name:<32} {'not available':>19} ({endpoint.unavailable})"
                + (f"  {endpoint.target.describe()} {verdict(False)}" if has_target else "")
            )
            continue
        median = medians[endpoint.name]
        ratio = median / trivial if trivial else None
        # A target may be relative to another page measured in the same rounds.
        base = medians.get(endpoint.target.relative_to) if endpoint.target.relative_to else None
        to_base = median / base if base else ratio
        met = target_met(endpoint.target, ratio=to_base, queries=endpoint.queries, seconds=median)
        missed += met is False
        queries = "-" if endpoint.queries is None else str(endpoint.queries)
        shown_ratio = f"{ratio:.2f}" if ratio is not None else "-"
        cpu_columns = ""
        if cpu:
            cpu_median = cpu_medians[endpoint.name]
            cpu_ratio = f"{cpu_median / trivial_cpu:.2f}" if trivial_cpu else "-"
            cpu_columns = f" {cpu_median * 1000:>8.2f} {cpu_ratio:>8}"
        print(
            f"{endpoint.name:<32} {median * 1000:>8.2f} {shown_ratio:>10}{cpu_columns}"
            f" {_p90(endpoint.samples) * 1000:>8.2f} {queries:>8}  "
            f"{endpoint.target.describe():<15} {verdict(met)}"
        )
    # An endpoint with a target that could not be timed has not met it either.
    missed += unavailable
    print(f"\n{missed} target(s) MISSED." if missed else "\nEvery target met.")
    return missed


class AtomicStub:
    """Atomic as the running task's poll sees it: still processing, after `delay` seconds."""

    def __init__(self, *, delay: float) -> None:
        self.delay = delay

    def task_status_get(self, *, task_id: str) -> TaskStatusReport:
        time.sleep(self.delay)
        return TaskStatusReport(status="processing", fail_reason=None, created_at=None)


def bench_run(*, rounds: int, warmup: int, atomic_delay: float) -> int:
    """In this process, through Django's test client, on a throwaway SQLite database."""
    from unittest import mock

    from django.core.management import call_command
    from django.test import Client

    def make_client(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    call_command("migrate", verbosity=0, interactive=False)
    cache.clear()
    # Other work on the machine stretches the wall clock (not the CPU time): say how much there was.
    load_before = os.getloadavg()
    with mock.patch("paylink.client.atomic_client", return_value=AtomicStub(delay=atomic_delay)):
        measured = endpoints(make_client)
        # The request, the database and the cache all run in this process: its CPU time is the
        # work, and the wall clock adds what it waited for (SQLite's writes reaching the disk).
        measure(measured, rounds=rounds, warmup=warmup, count_queries=True)
    print(
        f"{os.cpu_count()} cores; load average {', '.join(f'{n:.2f}' for n in load_before)}"
        f" before, {', '.join(f'{n:.2f}' for n in os.getloadavg())} after."
    )
    missed = report(
        measured,
        rounds=rounds,
        warmup=warmup,
        where="In process (wall clock and CPU time), SQLite, local memory cache",
    )
    return 1 if missed else 0
