"""Work in proportion to what changed, measured: `python -m bench.scale` (`make bench-scale`).

Not a timed test: it prints each figure beside its target, judged met or MISSED (any MISSED
makes the command exit with 1), on PostgreSQL (a database of its own, created and dropped
here) with Redis (a database number of its own, emptied here), and a loopback stand-in for
Atomic that waits BENCH_ATOMIC_LATENCY seconds before each answer and counts the calls by kind.
The stack is production's: the release's collectstatic, gunicorn from gunicorn.conf.py, and
the task workers each measured path needs.

(a) the reconcile sweep with 10,000 then 100,000 people who all once opened Transact, 100 of
    them with an unsettled task, under the per-second budget;
(b) a burst of signed webhooks taken in by gunicorn, then drained by 1, 2 and 4 workers; then
    a burst taken in with no worker running and drained by as many started on it, the
    workers' own rate without gunicorn and the sender on the same cores (BENCH_DRAIN_ALONE=0
    leaves it out);
(c) 100 pollers on one running task, served by 2 gunicorn processes, with the worker of the
    atomic queue running the status checks they ask for;
(d) Refresh pressed 30 times at once by one person, then the atomic queue's worker;
(e) the searches by index: reconcile's selection among 1,000,000 people who all once opened
    Transact, and a person's webhook events among 100,000 (data download, account deletion).

Settings: BENCH_PG (server URL), BENCH_DB, BENCH_REDIS (a database URL), BENCH_ATOMIC_LATENCY,
BENCH_WEBHOOKS (the burst's size), BENCH_DRAIN_WORKERS (default 1,2,4), BENCH_POLL_SECONDS,
BENCH_PROFILES and BENCH_EVENTS (the sizes of (e)), BENCH_PARTS (e.g. `cd`) and BENCH_PORT
(gunicorn's port; a free one by default).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

if TYPE_CHECKING:
    # Django is set up once the bench has made its database, so its modules load late.
    from django.db.models import QuerySet

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://root@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "paylink_bench_scale")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
LATENCY = float(os.environ.get("BENCH_ATOMIC_LATENCY", "0.05"))
WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", "10000"))
POLL_SECONDS = float(os.environ.get("BENCH_POLL_SECONDS", "20"))
PROFILES = int(os.environ.get("BENCH_PROFILES", "1000000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
PORT = int(os.environ.get("BENCH_PORT", "0"))
# How many workers drain the burst of (b), in turn.
DRAIN_WORKERS = tuple(int(n) for n in os.environ.get("BENCH_DRAIN_WORKERS", "1,2,4").split(","))
# (b) also drains a burst taken in while no worker runs (BENCH_DRAIN_ALONE=0 leaves it out).
ALONE = os.environ.get("BENCH_DRAIN_ALONE", "1") != "0"
# Which of (a) to (e) to run, e.g. BENCH_PARTS=cd.
PARTS = os.environ.get("BENCH_PARTS", "abcde")
SECRET = "bench-scale-secret"
UNSETTLED = 100
POLLERS = 100
POLL_EVERY = 2.0
REFRESHES = 30
# Issue 26's drain target: events a second with 2 workers on a 2-core machine.
DRAIN_TARGET = 250
# Reconcile's selection among a million people, and a person's events among 100,000.
SELECTION_MS = 10.0


@dataclass
class Figure:
    label: str
    value: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    """The figures of a run, each printed as it is taken; targets judged met or MISSED."""

    figures: list[Figure] = field(default_factory=list)
    quiet: bool = False

    def row(self, label: str, value: str, target: str = "", met: bool | None = None) -> Figure:
        figure = Figure(label, value, target, met)
        self.figures.append(figure)
        if not self.quiet:
            verdict = "" if met is None else ("  met" if met else "  MISSED")
            shown = f"   target: {target}" if target else ""
            print(f"  {label:<52} {value:>16}{shown}{verdict}")
        return figure

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line)

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.met is False]


class AtomicStandIn:
    """Loopback Atomic: every call waits `latency`, answers "processing" and is counted by kind
    (and timed, so the busiest second can be judged against a budget)."""

    def __init__(self, latency: float) -> None:
        self.calls: Counter[str] = Counter()
        self.times: list[float] = []
        lock = threading.Lock()
        calls, times = self.calls, self.times

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                body: dict[str, Any]
                if path.endswith("/status"):
                    kind, body = "status", {"data": {"task": {"status": "processing"}}}
                elif path.endswith("/pay-link/accounts"):
                    kind, body = "accounts", {"accounts": []}
                elif path.endswith("/tasks"):
                    kind, body = "tasks", {"data": {"tasks": []}}
                else:
                    kind, body = "other", {}
                with lock:
                    calls[kind] += 1
                    times.append(time.monotonic())
                time.sleep(latency)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self) -> Counter[str]:
        """The calls so far, and a fresh count from now."""
        taken = Counter(self.calls)
        self.calls.clear()
        self.times.clear()
        return taken

    def busiest_second(self) -> int:
        """The most calls received within any one second so far (since the last `take`)."""
        times = sorted(self.times)
        most = 0
        first = 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(atomic_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hubsite.settings",
        # Production-like, as bin/smoke runs it.
        "DJANGO_DEBUG": "false",
        "PAYLINK_TESTING": "false",
        "DJANGO_SECRET_KEY": hashlib.sha256(os.urandom(32)).hexdigest(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DATABASE_URL": f"{PG}/{DB}",
        "CACHE_URL": REDIS,
        "PAYLINK_TASKS_BACKEND": "database",
        "ATOMIC_ENV": "simulator",
        "ATOMIC_API_URL": atomic_url,
        "ATOMIC_API_SECRET": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


# --- (a) reconcile ------------------------------------------------------------------------


def _people(first: int, count: int) -> None:
    """`count` people (users with profiles), created in bulk, who each opened Transact two days
    ago and whose task list was read a day ago: settled, none of reconcile's business."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from paylink.models import Profile

    now = timezone.now()
    batch = 5000
    for start in range(first, first + count, batch):
        stop = min(start + batch, first + count)
        users = User.objects.bulk_create(
            User(username=f"p{n}", password="!") for n in range(start, stop)
        )
        Profile.objects.bulk_create(
            Profile(
                user=user,
                identifier=f"hub_p{n}",
                transact_opened_at=now - timedelta(days=2),
                tasks_listed_at=now - timedelta(days=1),
            )
            for n, user in zip(range(start, stop), users, strict=True)
        )


def _unsettle(pks: list[int]) -> None:
    """The chosen tasks processing and quiet long enough for reconcile to ask about them."""
    from django.core.cache import cache
    from django.utils import timezone

    from paylink.models import Task

    Task.objects.filter(pk__in=pks).update(
        status="processing", updated_at=timezone.now() - timedelta(hours=1)
    )
    # A fresh sweep: no unit left claimed by the previous one.
    cache.clear()


@dataclass(frozen=True)
class Sweep:
    calls: int
    selecting: float  # s
    whole: float  # s
    busiest_second: int


def _sweep(atomic: AtomicStandIn, *, budget: int) -> Sweep:
    """One reconcile run with its units run inline under `budget` calls a second."""
    from django.conf import settings
    from django.test.utils import override_settings

    from paylink.services import reconcile

    inline = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASK_QUEUES,
        }
    }
    with override_settings(TASKS=inline, PAYLINK_RECONCILE_CALLS_PER_SECOND=budget):
        atomic.take()
        started = time.perf_counter()
        list(reconcile.reconcile_stuck_tasks())
        list(reconcile.reconcile_open_profiles())
        selected = time.perf_counter() - started
        started = time.perf_counter()
        reconcile.reconcile_enqueue()
        whole = time.perf_counter() - started
    busiest = atomic.busiest_second()
    return Sweep(sum(atomic.take().values()), selected, whole, busiest)


def bench_reconcile(
    atomic: AtomicStandIn,
    report: Report,
    *,
    sizes: tuple[int, int] = (10_000, 100_000),
    unsettled: int = UNSETTLED,
    budget: int = int(os.environ.get("BENCH_RECONCILE_BUDGET", "1000")),
) -> None:
    from paylink.models import Profile, Task

    small_size, large_size = sizes
    report.say(
        f"(a) reconcile sweep, units run inline, budget {budget} calls/s (BENCH_ATOMIC_LATENCY"
        " each); every person once opened Transact"
    )
    started = time.perf_counter()
    _people(0, small_size)
    creating = time.perf_counter() - started
    profiles = list(Profile.objects.order_by("pk").values_list("pk", flat=True)[:unsettled])
    Task.objects.bulk_create(
        Task(profile_id=pk, atomic_id=f"bench-unsettled-{pk}") for pk in profiles
    )
    tasks = list(Task.objects.filter(profile_id__in=profiles).values_list("pk", flat=True))
    _unsettle(tasks)
    small = _sweep(atomic, budget=budget)
    started = time.perf_counter()
    _people(small_size, large_size - small_size)
    creating += time.perf_counter() - started
    _unsettle(tasks)
    large = _sweep(atomic, budget=budget)
    report.row("(creating the people in bulk, s)", f"{creating:.1f}")
    for size, sweep in ((small_size, small), (large_size, large)):
        report.row(
            f"{size:,} people: Atomic calls",
            f"{sweep.calls}",
            f"= {unsettled}",
            sweep.calls == unsettled,
        )
    for size, sweep in ((small_size, small), (large_size, large)):
        report.row(
            f"{size:,} people: Atomic calls in the busiest second",
            f"{sweep.busiest_second}",
            f"<= {budget}",
            sweep.busiest_second <= budget,
        )
    report.row(f"{small_size:,} people: selecting the unsettled (s)", f"{small.selecting:.3f}")
    report.row(f"{large_size:,} people: selecting the unsettled (s)", f"{large.selecting:.3f}")
    report.row(f"{small_size:,} people: whole sweep (s)", f"{small.whole:.2f}")
    report.row(f"{large_size:,} people: whole sweep (s)", f"{large.whole:.2f}")
    ratio = large.whole / small.whole
    report.row(
        f"ratio of sweep times, {large_size:,} / {small_size:,}",
        f"{ratio:.2f}",
        f"<= 2 (not {large_size / small_size:g})",
        ratio <= 2,
    )


# --- processes ------------------------------------------------------------------------------


@contextmanager
def _gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    port = PORT or _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="paylink-bench-gunicorn-", suffix=".log")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and configuration
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            # No access log, as production runs it (the host writes its own line a request).
            f"--error-logfile={log.name}",
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{Path(log.name).read_text()[-2000:]}")
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > until:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        errors = [
            line
            for line in Path(log.name).read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line or "Forbidden" in line
        ]
        if errors:
            print("  gunicorn logged:\n    " + "\n    ".join(errors[:10]))
        log.close()


@contextmanager
def _workers(env: dict[str, str], queues: str, count: int) -> Iterator[None]:
    procs = [
        subprocess.Popen(  # noqa: S603 - our own script
            [str(ROOT / "bin" / "worker"), queues],
            cwd=ROOT,
            env={**env, "PYTHON": sys.executable},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def _wait(done: Callable[[], bool], seconds: float, every: float = 0.05) -> bool:
    until = time.monotonic() + seconds
    while not done():
        if time.monotonic() > until:
            return False
        time.sleep(every)
    return True


# --- (b) webhooks ---------------------------------------------------------------------------


def webhook_signed(n: int, identifier: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "eventType": "task-status-updated",
            "user": {"identifier": identifier},
            "data": {"taskId": f"bench-hook-{n}", "status": "processing"},
        }
    ).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "Content-Type": "application/json",
        "ce-id": f"bench-{n}",
        "ce-type": "com.atomicfi.task-status-updated",
        "X-HMAC-Signature-Sha-256": signature,
    }


# What the drain part needs from the stack: a way to post webhooks n..n+count-1 (returning
# the statuses answered), and `count` workers on `queue` for as long as a block runs.
Post = Callable[[int, int], Counter[int]]
Workers = Callable[[str, int], AbstractContextManager[None]]


# Connections the burst is sent over, each kept alive.
SENDERS = 16


def _burst_over_http(base: str) -> Post:
    """Signed webhooks posted to gunicorn over SENDERS kept-alive connections, written out
    before the clock starts and read back for their status alone (`raw_http_send`): a sender
    this light leaves the cores to the host, where Python's `requests` spent a millisecond of
    CPU on each webhook, a sixth of what the host spent ingesting and draining it."""
    address = urlsplit(base)
    host = address.hostname or "127.0.0.1"
    port = address.port or 80

    def post(first: int, count: int) -> Counter[int]:
        raw = []
        for n in range(first, first + count):
            body, headers = webhook_signed(n, f"hub_p{n % 1000}")
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            raw.append(
                f"POST /webhooks/atomic/ HTTP/1.1\r\nHost: {host}:{port}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        return raw_http_send(host, port, raw, connections=SENDERS)

    return post


def raw_http_send(host: str, port: int, raw: list[bytes], *, connections: int) -> Counter[int]:
    """Each request of `raw` (whole HTTP/1.1 requests) sent once, over `connections` kept-alive
    connections in threads, in turn; the statuses answered (0 for a request whose connection
    failed: it is not sent again, as a webhook sent twice would be a duplicate)."""
    pending = iter(raw)
    lock = threading.Lock()

    def next_request() -> bytes | None:
        with lock:
            return next(pending, None)

    def sender(_: int) -> Counter[int]:
        statuses: Counter[int] = Counter()
        answers: _Answers | None = None
        while (request := next_request()) is not None:
            try:
                if answers is None:
                    answers = _Answers(socket.create_connection((host, port), timeout=60))
                answers.sock.sendall(request)
                status, close = answers.read()
            except OSError:
                status, close = 0, True
            statuses[status] += 1
            if close and answers is not None:
                answers.sock.close()
                answers = None
        if answers is not None:
            answers.sock.close()
        return statuses

    with ThreadPoolExecutor(connections) as pool:
        return sum(pool.map(sender, range(connections)), Counter())


class _Answers:
    """HTTP/1.1 answers read off one connection: the status, and whether the server closes it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buffer += data

    def _until(self, mark: bytes) -> bytes:
        while mark not in self.buffer:
            self._more()
        taken, _, self.buffer = self.buffer.partition(mark)
        return taken

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def read(self) -> tuple[int, bool]:
        lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get("transfer-encoding") == "chunked":
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                self._exactly(size + 2)
            self._until(b"\r\n")
        else:
            self._exactly(int(headers.get("content-length", "0")))
        return status, headers.get("connection") == "close"


def _drained(events: QuerySet[Any], count: int, seconds: float) -> bool:
    """Whether `count` events came in among `events` and none of them is left unprocessed,
    within `seconds`."""
    from django.db import close_old_connections

    from paylink.models import WebhookState

    def done() -> bool:
        return not events.filter(state=WebhookState.RECEIVED).exists() and events.count() == count

    # Twice a second, and by a range of ids rather than the list of the burst's 10,000 ce-ids:
    # the rate is taken from the events' own times, not from this, and asking about 10,000
    # ce-ids twenty times a second took a share of the cores the drain runs on.
    finished = _wait(done, seconds, every=0.5)
    close_old_connections()
    return finished


def bench_webhooks(
    post: Post,
    workers: Workers,
    report: Report,
    *,
    count: int = WEBHOOKS,
    worker_counts: tuple[int, ...] = DRAIN_WORKERS,
    queue: str = "webhooks",
    first_wait: float = 120,
    drain_wait: float = 1800,
    alone: bool = ALONE,
) -> None:
    from django.db.models import F, Max, Min

    from paylink.models import WebhookEvent, WebhookState

    counts = ", ".join(str(n) for n in worker_counts)
    report.say(f"(b) {count:,} signed webhooks into the host while {counts} worker(s) drain")
    report.say(f"    the {queue} queue; rate from the first event received")
    report.say("    to the last processed")
    rates: dict[int, float] = {}
    ingest_rates: dict[int, float] = {}
    for round_number, workers_count in enumerate(worker_counts):
        first = round_number * (count + 1)
        with workers(queue, workers_count):
            # One event first, so every figure below is of warm workers.
            post(first, 1)
            warm = WebhookEvent.objects.filter(ce_id=f"bench-{first}")
            if not _drained(warm, 1, seconds=first_wait):
                report.row(
                    f"{workers_count} worker(s): the first webhook processed",
                    "never",
                    f"within {first_wait:g} s",
                    False,
                )
                return
            # The burst's events: every one stored after the first (nothing else writes here).
            burst = WebhookEvent.objects.filter(pk__gt=warm.get().pk)
            started = time.perf_counter()
            statuses = post(first + 1, count)
            taken = time.perf_counter() - started
            drained = _drained(burst, count, seconds=drain_wait)
        events = burst.filter(state=WebhookState.PROCESSED)
        span = events.aggregate(start=Min("received_at"), end=Max("processed_at"))
        lags = sorted(
            lag.total_seconds()
            for lag in events.annotate(lag=F("processed_at") - F("received_at")).values_list(
                "lag", flat=True
            )
        )
        seconds = (span["end"] - span["start"]).total_seconds() if lags else 0.0
        rates[workers_count] = len(lags) / seconds if seconds else 0.0
        report.row(
            f"{workers_count} worker(s): answers to the burst",
            ", ".join(f"{n}x{status}" for status, n in sorted(statuses.items())),
            f"all {count} 200",
            statuses == Counter({200: count}),
        )
        ingest_rates[workers_count] = count / taken
        report.row(f"{workers_count} worker(s): ingest (webhooks/s)", f"{count / taken:.0f}")
        report.row(
            f"{workers_count} worker(s): drained",
            f"{len(lags)} of {count}",
            f"all, within {drain_wait:g} s",
            drained,
        )
        if workers_count == 2:
            report.row(
                "2 workers: drain rate (events/s)",
                f"{rates[2]:.0f}",
                f">= {DRAIN_TARGET}",
                rates[2] >= DRAIN_TARGET,
            )
        else:
            report.row(
                f"{workers_count} worker(s): drain rate (events/s)", f"{rates[workers_count]:.0f}"
            )
        if lags:
            p99 = lags[max(0, math.ceil(len(lags) * 0.99) - 1)]
            report.row(
                f"{workers_count} worker(s): lag p99, received -> processed (s)", f"{p99:.1f}"
            )
    drain_growth_row(report, rates=rates, ingest_rates=ingest_rates)
    if rates.get(1) and 4 in rates:
        # Four workers on two cores: shown, not judged (issue 26 asks for growth to 2).
        report.row("drain rate ratio, 4 / 1 workers", f"{rates[4] / rates[1]:.2f}")
    if alone:
        _drain_alone(post, workers, report, count=count, worker_counts=worker_counts, queue=queue)


# A drain rate within this share of the ingest rate kept pace with it (the two are measured over
# slightly different spans: the drain's from the first event received to the last processed).
KEEPS_PACE = 0.9


def drain_growth_row(
    report: Report, *, rates: dict[int, float], ingest_rates: dict[int, float]
) -> None:
    """The drain rate of 2 workers against 1's, while gunicorn takes the burst in: judged
    (> 1) only where 1 worker fell behind the ingest. Where it kept pace, a second had nothing
    more to take: growth cannot show there, and is judged on the drain alone."""
    if not rates.get(1) or 2 not in rates:
        return
    ratio = rates[2] / rates[1]
    if rates[1] >= KEEPS_PACE * ingest_rates.get(1, math.inf):
        report.row("drain rate ratio, 2 / 1 workers (1 kept pace)", f"{ratio:.2f}")
    else:
        report.row("drain rate ratio, 2 / 1 workers", f"{ratio:.2f}", "> 1", ratio > 1)


def _drain_alone(
    post: Post,
    workers: Workers,
    report: Report,
    *,
    count: int,
    worker_counts: tuple[int, ...],
    queue: str,
    drain_wait: float = 1800,
) -> None:
    """The burst taken in with no worker running, then drained by 1, 2... workers started on
    it: the workers' own rate, from their first claim to their last result (a job's started_at
    and finished_at), without gunicorn and the sender taking the cores as above."""
    from django.db.models import Max, Min
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from paylink.models import WebhookEvent

    report.say(f"    then {count:,} more taken in with no worker running, and drained by")
    report.say("    workers started on them: rate from their first claim to their last result")
    rates: dict[int, float] = {}
    for round_number, workers_count in enumerate(worker_counts):
        first = (len(worker_counts) + round_number) * (count + 1)
        last = WebhookEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        moment = timezone.now()
        started = time.perf_counter()
        statuses = post(first, count)
        taken = time.perf_counter() - started
        report.row(
            f"no worker: answers to the burst (round {round_number + 1})",
            ", ".join(f"{n}x{status}" for status, n in sorted(statuses.items())),
            f"all {count} 200",
            statuses == Counter({200: count}),
        )
        report.row(
            f"no worker: ingest (webhooks/s, round {round_number + 1})", f"{count / taken:.0f}"
        )
        with workers(queue, workers_count):
            drained = _drained(WebhookEvent.objects.filter(pk__gt=last), count, drain_wait)
        span = DBTaskResult.objects.filter(queue_name=queue, enqueued_at__gte=moment).aggregate(
            start=Min("started_at"), end=Max("finished_at")
        )
        seconds = (span["end"] - span["start"]).total_seconds() if drained else 0.0
        rates[workers_count] = count / seconds if seconds else 0.0
        report.row(
            f"{workers_count} worker(s) alone: drained",
            "all" if drained else "not all",
            f"all, within {drain_wait:g} s",
            drained,
        )
        report.row(
            f"{workers_count} worker(s) alone: drain rate (events/s)",
            f"{rates[workers_count]:.0f}",
        )
    if rates.get(1) and rates.get(2):
        ratio = rates[2] / rates[1]
        report.row("drain alone: rate ratio, 2 / 1 workers", f"{ratio:.2f}", "> 1", ratio > 1)


# --- (c) pollers and (d) Refresh --------------------------------------------------------------


def signed_in_cookie(username: str) -> str:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


def csrf_from_page(html: str) -> str:
    """The CSRF token a page hands to htmx (`hx-headers` on <body>); empty when it has none."""
    found = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return found.group(1) if found else ""


class Browser:
    """One person's browser against the host over HTTP: a cookie jar, and the CSRF token the
    page hands to htmx (`hx-headers` on <body>), sent back as htmx sends it."""

    def __init__(self, base: str, session_cookie: str) -> None:
        self.base = base
        self.http = requests.Session()
        if session_cookie:
            # Kept under the host's name and path, as a browser keeps the cookie the host set:
            # when the host sets it again (a session it saved anew), the new one replaces it.
            # Without them the jar held both, sent both, and the copies below could not tell
            # them apart.
            host = urlsplit(base).hostname or ""
            self.http.cookies.set("sessionid", session_cookie, domain=host, path="/")
        self.csrf = ""

    def page(self, url: str) -> tuple[int, str]:
        answer = self.http.get(self.base + url, timeout=30, allow_redirects=False)
        self.csrf = csrf_from_page(answer.text)
        return answer.status_code, answer.text[:200]

    def get(self, url: str, headers: dict[str, str]) -> int:
        return self.http.get(self.base + url, headers=headers, timeout=30).status_code

    def post(self, url: str, headers: dict[str, str]) -> int:
        sent = {"X-CSRFToken": self.csrf, "Referer": f"{self.base}/", **headers}
        return self.http.post(
            self.base + url, headers=sent, timeout=30, allow_redirects=False
        ).status_code

    def copy(self) -> Browser:
        twin = Browser(self.base, "")
        twin.http.cookies.update(self.http.cookies)
        twin.csrf = self.csrf
        return twin


# A signed-in browser for the person with this session cookie, and the worker(s) of the
# atomic queue for as long as a block runs.
Browse = Callable[[str], Browser]
AtomicWorker = Callable[[], AbstractContextManager[None]]


def bench_pollers(
    browse: Browse,
    atomic_worker: AtomicWorker,
    atomic: AtomicStandIn,
    report: Report,
    *,
    pollers: int = POLLERS,
    every: float = POLL_EVERY,
    seconds: float = POLL_SECONDS,
    identifier: str = "hub_p1",
) -> None:
    from django.conf import settings

    from paylink.models import Profile, Task

    window = settings.PAYLINK_STATUS_REFRESH_SECONDS
    profile = Profile.objects.select_related("user").get(identifier=identifier)
    Task.objects.create(profile=profile, atomic_id="bench-running", status="processing")
    cookie = signed_in_cookie(profile.user.username)
    report.say(f"(c) {pollers} pollers on one running task, every {every:g} s for")
    report.say(f"    {seconds:g} s, with the atomic queue's worker (window {window} s)")
    answers: Counter[int] = Counter()
    with atomic_worker():
        stop = time.monotonic() + seconds

        def poll(offset: int) -> None:
            browser = browse(cookie)
            time.sleep(offset * every / pollers)
            while time.monotonic() < stop:
                answers[browser.get("/hub/tasks/bench-running/", {"HX-Request": "true"})] += 1
                time.sleep(every)

        atomic.take()
        started = time.monotonic()
        with ThreadPoolExecutor(pollers) as pool:
            list(pool.map(poll, range(pollers)))
        elapsed = time.monotonic() - started
        # The last checks enqueued have a moment to reach Atomic.
        time.sleep(min(2.0, every))
        calls = atomic.take()["status"]
    # Windows begun while polling: the first call opens one, each lasts `window` seconds (a
    # window of 0, no coalescing at all, is counted per second).
    windows = math.ceil(elapsed / max(window, 1))
    report.row(
        "polls answered",
        f"{sum(answers.values())} ({dict(answers)})",
        "all 200",
        set(answers) == {200},
    )
    report.row(
        "Atomic status calls",
        f"{calls} in {elapsed:.1f} s",
        ">= 1 (the worker runs the checks)",
        calls >= 1,
    )
    report.row(
        "Atomic status calls per task per window",
        f"{calls / windows:.2f}",
        f"<= 1 ({windows} windows)",
        calls <= windows,
    )


def bench_refresh(
    browse: Browse,
    atomic_worker: AtomicWorker,
    atomic: AtomicStandIn,
    report: Report,
    *,
    presses: int = REFRESHES,
    identifier: str = "hub_p2",
    wait: float = 120,
) -> None:
    from paylink.models import AccountSnapshot, Profile

    profile = Profile.objects.select_related("user").get(identifier=identifier)
    cookie = signed_in_cookie(profile.user.username)
    report.say(f"(d) Refresh pressed {presses} times at once by one person, then the atomic")
    report.say("    queue's worker")
    page = browse(cookie)
    # The dashboard as a browser loads it first: it hands over the CSRF token the presses send.
    status, start = page.page("/")
    report.row(
        "the dashboard before the presses",
        f"{status}",
        "200, with a CSRF token",
        status == 200 and bool(page.csrf),
    )
    if status != 200:
        report.say(f"    it answered: {start!r}")
    atomic.take()
    with ThreadPoolExecutor(presses) as pool:
        answers = Counter(pool.map(lambda _: page.copy().post("/refresh/", {}), range(presses)))
    synced = AccountSnapshot.objects.filter(profile=profile, fetched_at__isnull=False)
    with atomic_worker():
        _wait(synced.exists, seconds=wait)
        # Anything else the burst enqueued has had time to run too.
        time.sleep(min(3.0, wait))
    report.row(
        "answers (302 taken, 429 over the per-person limit)",
        f"{dict(answers)}",
        "302 and 429 only, one 302 at least",
        set(answers) <= {302, 429} and answers[302] >= 1,
    )
    calls = atomic.take()["accounts"]
    report.row("Atomic accounts calls", f"{calls}", "= 1", calls == 1)


# --- (e) searches by index ---------------------------------------------------------------------


def _plan(queryset: QuerySet[Any]) -> str:
    return queryset.explain()


def _index_used(plan: str, index: str) -> bool:
    return re.search(rf"\b{re.escape(index)}\b", plan) is not None


def _median_ms(run: Callable[[], object], repeat: int = 7) -> float:
    run()  # warm: the plan and the pages it reads are cached, as in a long-running process
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _many_people(count: int, open_count: int) -> None:
    """`count` people who all opened Transact and were settled, `open_count` of them still open:
    in SQL on PostgreSQL (a million in seconds), through the ORM elsewhere."""
    from django.db import connection
    from django.utils import timezone

    from paylink.models import Profile

    first = 10_000_000
    if connection.vendor != "postgresql":
        _people(first, count)
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,"
                " email, is_staff, is_active, date_joined)"
                " SELECT '!', false, 'p' || n, '', '', '', false, true, now()"
                " FROM generate_series(%s, %s) AS n",
                [first, first + count - 1],
            )
            cursor.execute(
                "INSERT INTO paylink_profile (user_id, identifier, created_at, transact_opened_at,"
                " tasks_listed_at, language, time_zone)"
                " SELECT id, 'hub_' || username, now(), now() - interval '2 days',"
                " now() - interval '1 day', '', '' FROM auth_user WHERE username ~ '^p[0-9]+$'"
                " AND substr(username, 2)::bigint >= %s",
                [first],
            )
            cursor.execute("ANALYZE auth_user")
    # The newest, just created: still open (a task list never read since a recent opening).
    now = timezone.now()
    open_pks = list(Profile.objects.order_by("-pk").values_list("pk", flat=True)[:open_count])
    Profile.objects.filter(pk__in=open_pks).update(
        transact_opened_at=now - timedelta(minutes=1), tasks_listed_at=None
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE paylink_profile")


def _many_events(count: int, identifiers: int) -> str:
    """`count` signed webhook events spread over `identifiers` people; returns one of them."""
    from django.db import connection
    from django.utils import timezone

    from paylink.models import WebhookEvent, WebhookState

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO paylink_webhookevent (state, ce_id, event_type, identifier,"
                " task_atomic_id, body, body_size, body_sha256, headers, received_at, note,"
                " attempts, error, traceback)"
                " SELECT %s, 'scan-' || n, 'task-status-updated', 'hub_scan' || (n %% %s), '',"
                " '{}', 2, md5(n::text), '{}'::jsonb, now(), '', 0, '', ''"
                " FROM generate_series(1, %s) AS n",
                [WebhookState.PROCESSED, identifiers, count],
            )
            cursor.execute("ANALYZE paylink_webhookevent")
    else:
        now = timezone.now()
        WebhookEvent.objects.bulk_create(
            WebhookEvent(
                state=WebhookState.PROCESSED,
                ce_id=f"scan-{n}",
                event_type="task-status-updated",
                identifier=f"hub_scan{n % identifiers}",
                body="{}",
                body_size=2,
                body_sha256=hashlib.sha256(str(n).encode()).hexdigest(),
                received_at=now,
            )
            for n in range(1, count + 1)
        )
    return "hub_scan7"


def bench_indexes(
    report: Report,
    *,
    profiles: int = PROFILES,
    open_profiles: int = 10,
    events: int = EVENTS,
) -> None:
    """Each search timed (median of 7, warm) and its plan checked for the index that serves it."""
    from paylink.models import WebhookEvent, WebhookState
    from paylink.services.reconcile import reconcile_open_profiles, reconcile_open_profiles_query

    report.say(
        f"(e) searches by index: reconcile's selection among {profiles:,} people who all"
        f" opened Transact ({open_profiles} still open), a person's events among {events:,}"
    )
    started = time.perf_counter()
    _many_people(profiles, open_profiles)
    report.row("(creating the people, s)", f"{time.perf_counter() - started:.1f}")
    selection = reconcile_open_profiles
    selected = len(list(selection()))
    report.row("people selected", f"{selected}", f"= {open_profiles}", selected == open_profiles)
    plan = _plan(reconcile_open_profiles_query())
    report.row(
        "reconcile's selection: uses profile_reconcile_open",
        "yes" if _index_used(plan, "profile_reconcile_open") else "no",
        "yes",
        _index_used(plan, "profile_reconcile_open"),
    )
    selection_ms = _median_ms(lambda: list(selection()))
    report.row(
        f"reconcile's selection among {profiles:,} (ms)",
        f"{selection_ms:.2f}",
        f"< {SELECTION_MS:g}",
        selection_ms < SELECTION_MS,
    )
    started = time.perf_counter()
    identifier = _many_events(events, identifiers=max(1, events // 20))
    report.row("(creating the events, s)", f"{time.perf_counter() - started:.1f}")
    download = (
        WebhookEvent.objects.filter(identifier=identifier)
        .exclude(state=WebhookState.REJECTED_SIGNATURE)
        .order_by("received_at")
    )
    deletion = WebhookEvent.objects.filter(identifier=identifier)
    for name, queryset, run in (
        ("data download's events", download, lambda: list(download.values_list("body"))),
        ("account deletion's events", deletion, lambda: deletion.count()),
    ):
        used = _index_used(_plan(queryset), "webhookevent_identifier")
        report.row(f"{name}: uses webhookevent_identifier", "yes" if used else "no", "yes", used)
        report.row(f"{name} among {events:,} (ms)", f"{_median_ms(run):.2f}")


# --- the run --------------------------------------------------------------------------------


def _postgres(command: str, *args: str, check: bool = True) -> None:
    # PostgreSQL's own client programs, with fixed arguments.
    subprocess.run([command, "-h", "127.0.0.1", "-U", "root", *args], check=check)  # noqa: S603


def _load() -> str:
    return ", ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    sys.path.insert(0, str(ROOT))
    atomic = AtomicStandIn(LATENCY)
    env = _environment(atomic.url)
    os.environ.update(env)
    _postgres("dropdb", "--if-exists", DB)
    _postgres("createdb", DB)
    report = Report()
    try:
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        # The release step: production's static files are served from collectstatic's manifest
        # (without it every page that links a stylesheet answers 500).
        call_command("collectstatic", verbosity=0, interactive=False)
        cache.clear()
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        print(f"PostgreSQL {DB}, Redis {REDIS}, Atomic stand-in {LATENCY * 1000:.0f} ms per call")
        # The machine's load, as every figure below shares its cores with whatever else runs.
        print(f"{os.cpu_count()} cores, load average {_load()} at the start")

        def browse(cookie: str) -> Browser:
            return Browser(base, cookie)

        def atomic_worker() -> AbstractContextManager[None]:
            return _workers(env, "atomic", 1)

        def workers(queue: str, count: int) -> AbstractContextManager[None]:
            return _workers(env, queue, count)

        if "a" in PARTS:
            bench_reconcile(atomic, report)
        else:
            _people(0, 1000)
        if "b" in PARTS:
            with _gunicorn(env) as base:
                bench_webhooks(_burst_over_http(base), workers, report)
        if "c" in PARTS:
            with _gunicorn(env) as base:
                bench_pollers(browse, atomic_worker, atomic, report)
        if "d" in PARTS:
            with _gunicorn(env) as base:
                bench_refresh(browse, atomic_worker, atomic, report)
        if "e" in PARTS:
            bench_indexes(report)
        print(f"load average {_load()} at the end")
    finally:
        from django.db import connections

        connections.close_all()
        _postgres("dropdb", "--if-exists", DB, check=False)
        atomic.stop()
    missed = report.missed
    if missed:
        print(f"\n{len(missed)} target(s) MISSED: " + "; ".join(f.label for f in missed))
        return 1
    print("\nEvery target met.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
