"""Work in proportion to what changed, measured: `python -m bench.scale` (`make bench-scale`).

Not a timed test: it prints each figure beside its target, on PostgreSQL (a database of its
own, created and dropped here) with Redis (a database number of its own, emptied here), and a
loopback stand-in for Atomic that waits BENCH_ATOMIC_LATENCY seconds before each answer and
counts the calls by kind.

(a) the reconcile sweep with 10,000 then 100,000 people, 100 of them with an unsettled task;
(b) a burst of signed webhooks taken in by gunicorn, then drained by 1, 2 and 4 workers;
(c) 100 pollers on one running task, served by 2 gunicorn processes;
(d) Refresh pressed 30 times at once by one person.

Settings: BENCH_PG (server URL), BENCH_DB, BENCH_REDIS (a database URL), BENCH_ATOMIC_LATENCY,
BENCH_WEBHOOKS (the burst's size), BENCH_POLL_SECONDS, BENCH_PARTS (e.g. `cd`), and
PAYLINK_TASKS_BACKEND (database or rq: the broker the workers of (b) and (d) use).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://root@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "paylink_bench_scale")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
LATENCY = float(os.environ.get("BENCH_ATOMIC_LATENCY", "0.05"))
# 10,000 take one db_worker minutes to drain on a shared 2-core machine; 3,000 show the same.
WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", "3000"))
POLL_SECONDS = float(os.environ.get("BENCH_POLL_SECONDS", "20"))
BACKEND = os.environ.get("PAYLINK_TASKS_BACKEND", "database")
# Which of (a) to (d) to run, e.g. BENCH_PARTS=cd.
PARTS = os.environ.get("BENCH_PARTS", "abcd")
SECRET = "bench-scale-secret"
UNSETTLED = 100
POLLERS = 100
POLL_EVERY = 2.0
REFRESHES = 30


class AtomicStandIn:
    """Loopback Atomic: every call waits LATENCY, answers "processing" and is counted by kind."""

    def __init__(self, latency: float) -> None:
        self.calls: Counter[str] = Counter()
        lock = threading.Lock()
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
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
        return taken


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
        "PAYLINK_TASKS_BACKEND": BACKEND,
        "ATOMIC_ENV": "simulator",
        "ATOMIC_API_URL": atomic_url,
        "ATOMIC_API_SECRET": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


def _row(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<52} {value:>16}" + (f"   target: {target}" if target else ""))


# --- (a) reconcile ------------------------------------------------------------------------


def _people(first: int, count: int) -> None:
    """`count` people (users with profiles, never in Transact), created in bulk."""
    from django.contrib.auth.models import User

    from paylink.models import Profile

    batch = 5000
    for start in range(first, first + count, batch):
        stop = min(start + batch, first + count)
        users = User.objects.bulk_create(
            User(username=f"p{n}", password="!") for n in range(start, stop)
        )
        Profile.objects.bulk_create(
            Profile(user=user, identifier=f"hub_p{n}")
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


def _sweep(atomic: AtomicStandIn) -> tuple[int, float, float]:
    """One reconcile run with its units run inline: (Atomic calls, fan-out s, whole run s)."""
    from django.conf import settings
    from django.test.utils import override_settings

    from paylink.services import reconcile

    inline = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASK_QUEUES,
        }
    }
    with override_settings(TASKS=inline, PAYLINK_RECONCILE_CALLS_PER_SECOND=1000):
        atomic.take()
        started = time.perf_counter()
        list(reconcile.reconcile_stuck_tasks())
        list(reconcile.reconcile_open_profiles())
        selected = time.perf_counter() - started
        started = time.perf_counter()
        reconcile.reconcile_enqueue()
        whole = time.perf_counter() - started
    return sum(atomic.take().values()), selected, whole


def bench_reconcile(atomic: AtomicStandIn) -> None:
    from paylink.models import Profile, Task

    print("(a) reconcile sweep, units run inline, budget 1000 calls/s (BENCH_ATOMIC_LATENCY each)")
    started = time.perf_counter()
    _people(0, 10_000)
    creating = time.perf_counter() - started
    profiles = list(Profile.objects.order_by("pk").values_list("pk", flat=True)[:UNSETTLED])
    Task.objects.bulk_create(
        Task(profile_id=pk, atomic_id=f"bench-unsettled-{pk}") for pk in profiles
    )
    tasks = list(Task.objects.values_list("pk", flat=True))
    _unsettle(tasks)
    small = _sweep(atomic)
    started = time.perf_counter()
    _people(10_000, 90_000)
    creating += time.perf_counter() - started
    _unsettle(tasks)
    large = _sweep(atomic)
    _row("(creating the people in bulk, s)", f"{creating:.1f}")
    _row("10,000 people: Atomic calls", f"{small[0]}", f"= {UNSETTLED}")
    _row("100,000 people: Atomic calls", f"{large[0]}", f"= {UNSETTLED}")
    _row("10,000 people: selecting the unsettled (s)", f"{small[1]:.3f}")
    _row("100,000 people: selecting the unsettled (s)", f"{large[1]:.3f}")
    _row("10,000 people: whole sweep (s)", f"{small[2]:.2f}")
    _row("100,000 people: whole sweep (s)", f"{large[2]:.2f}")
    _row("ratio of sweep times, 100,000 / 10,000", f"{large[2] / small[2]:.2f}", "≈ 1 (not 10)")


# --- processes ------------------------------------------------------------------------------


@contextmanager
def _gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until = time.monotonic() + 60
        while True:
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


def _wait(done: Callable[[], bool], seconds: float) -> bool:
    until = time.monotonic() + seconds
    while not done():
        if time.monotonic() > until:
            return False
        time.sleep(0.05)
    return True


# --- (b) webhooks ---------------------------------------------------------------------------


def _webhook(n: int, identifier: str) -> tuple[bytes, dict[str, str]]:
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


def _burst(base: str, first: int, count: int) -> float:
    """`count` signed webhooks posted by 16 senders; seconds it took gunicorn to take them."""
    local = threading.local()

    def send(n: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        body, headers = _webhook(n, f"hub_p{n % 1000}")
        return local.session.post(
            f"{base}/webhooks/atomic/", data=body, headers=headers, timeout=60
        ).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        statuses = Counter(pool.map(send, range(first, first + count)))
    if set(statuses) != {200}:
        print(f"  webhook answers: {dict(statuses)}")
    return time.perf_counter() - started


def _drained(ce_ids: list[str], seconds: float) -> bool:
    from django.db import connection

    from paylink.models import WebhookEvent, WebhookState

    def done() -> bool:
        left = WebhookEvent.objects.filter(ce_id__in=ce_ids, state=WebhookState.RECEIVED)
        return not left.exists() and WebhookEvent.objects.filter(ce_id__in=ce_ids).count() == len(
            ce_ids
        )

    finished = _wait(done, seconds)
    connection.close()
    return finished


def bench_webhooks(env: dict[str, str]) -> None:
    from django.db.models import F, Max, Min

    from paylink.models import WebhookEvent, WebhookState

    print(f"(b) {WEBHOOKS:,} signed webhooks into gunicorn (2 processes) while 1, 2 or 4")
    print(f"    workers drain the webhooks queue ({BACKEND} backend, bin/worker); rate from the")
    print("    first event received to the last processed")
    rates = {}
    with _gunicorn(env) as base:
        for round_number, count in enumerate((1, 2, 4)):
            first = round_number * (WEBHOOKS + 1)
            with _workers(env, "webhooks", count):
                # One event first, so every figure below is of warm workers.
                _burst(base, first, 1)
                if not _drained([f"bench-{first}"], seconds=120):
                    raise SystemExit("the workers never processed the first webhook")
                ce_ids = [f"bench-{n}" for n in range(first + 1, first + 1 + WEBHOOKS)]
                taken = _burst(base, first + 1, WEBHOOKS)
                drained = _drained(ce_ids, seconds=1800)
            events = WebhookEvent.objects.filter(ce_id__in=ce_ids, state=WebhookState.PROCESSED)
            span = events.aggregate(start=Min("received_at"), end=Max("processed_at"))
            seconds = (span["end"] - span["start"]).total_seconds()
            lags = sorted(
                lag.total_seconds()
                for lag in events.annotate(lag=F("processed_at") - F("received_at")).values_list(
                    "lag", flat=True
                )
            )
            rates[count] = len(lags) / seconds
            p99 = lags[max(0, math.ceil(len(lags) * 0.99) - 1)]
            note = "" if drained else f" ({len(lags)} only)"
            _row(f"{count} worker(s): ingest by gunicorn (webhooks/s)", f"{WEBHOOKS / taken:.0f}")
            _row(
                f"{count} worker(s): drain rate (events/s)",
                f"{rates[count]:.0f}{note}",
                "grows with workers",
            )
            _row(f"{count} worker(s): lag p99, received -> processed (s)", f"{p99:.1f}")
    _row("drain rate ratio, 2 / 1 workers", f"{rates[2] / rates[1]:.2f}", "> 1")
    _row("drain rate ratio, 4 / 1 workers", f"{rates[4] / rates[1]:.2f}", "> ratio 2 / 1")


# --- (c) pollers and (d) Refresh --------------------------------------------------------------


def _signed_in_cookie(username: str) -> str:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


def bench_pollers(env: dict[str, str], atomic: AtomicStandIn) -> None:
    from django.conf import settings

    from paylink.models import Profile, Task

    window = settings.PAYLINK_STATUS_REFRESH_SECONDS
    profile = Profile.objects.select_related("user").get(identifier="hub_p1")
    Task.objects.create(profile=profile, atomic_id="bench-running", status="processing")
    cookie = _signed_in_cookie(profile.user.username)
    print(f"(c) {POLLERS} pollers on one running task, every {POLL_EVERY:g} s for")
    print(f"    {POLL_SECONDS:g} s, served by 2 gunicorn processes (window {window} s)")
    with _gunicorn(env) as base:
        url = f"{base}/hub/tasks/bench-running/"
        stop = time.monotonic() + POLL_SECONDS
        answers: Counter[int] = Counter()

        def poll(offset: int) -> None:
            session = requests.Session()
            session.cookies.set("sessionid", cookie)
            time.sleep(offset * POLL_EVERY / POLLERS)
            while time.monotonic() < stop:
                answers[
                    session.get(url, headers={"HX-Request": "true"}, timeout=30).status_code
                ] += 1
                time.sleep(POLL_EVERY)

        atomic.take()
        started = time.monotonic()
        with ThreadPoolExecutor(POLLERS) as pool:
            list(pool.map(poll, range(POLLERS)))
        elapsed = time.monotonic() - started
        calls = atomic.take()["status"]
    # Windows begun while polling: the first call opens one, each lasts `window` seconds.
    windows = math.ceil(elapsed / window)
    _row("polls answered", f"{sum(answers.values())} ({dict(answers)})")
    _row("Atomic status calls", f"{calls} in {elapsed:.1f} s = {windows} windows")
    _row("Atomic status calls per task per window", f"{calls / windows:.2f}", "≤ 1")


def bench_refresh(env: dict[str, str], atomic: AtomicStandIn) -> None:
    from paylink.models import AccountSnapshot, Profile

    profile = Profile.objects.select_related("user").get(identifier="hub_p2")
    cookie = _signed_in_cookie(profile.user.username)
    print(f"(d) Refresh pressed {REFRESHES} times at once by one person, then the atomic")
    print(f"    queue's worker ({BACKEND} backend)")
    with _gunicorn(env) as base:
        page = requests.Session()
        page.cookies.set("sessionid", cookie)
        page.get(f"{base}/", timeout=30)
        csrf = page.cookies.get("csrftoken", "")

        def press(_: int) -> int:
            session = requests.Session()
            session.cookies.set("sessionid", cookie)
            session.cookies.set("csrftoken", csrf)
            return session.post(
                f"{base}/refresh/",
                headers={"X-CSRFToken": csrf},
                timeout=30,
                allow_redirects=False,
            ).status_code

        atomic.take()
        with ThreadPoolExecutor(REFRESHES) as pool:
            answers = Counter(pool.map(press, range(REFRESHES)))
    synced = AccountSnapshot.objects.filter(profile=profile, fetched_at__isnull=False)
    with _workers(env, "atomic", 1):
        _wait(synced.exists, seconds=120)
        # Anything else the burst enqueued has had time to run too.
        time.sleep(3)
    _row("answers (302 taken, 429 over the per-person limit)", f"{dict(answers)}")
    _row("Atomic accounts calls", f"{atomic.take()['accounts']}", "= 1")


def _postgres(command: str, *args: str, check: bool = True) -> None:
    # PostgreSQL's own client programs, with fixed arguments.
    subprocess.run([command, "-h", "127.0.0.1", "-U", "root", *args], check=check)  # noqa: S603


def main() -> int:
    sys.path.insert(0, str(ROOT))
    atomic = AtomicStandIn(LATENCY)
    env = _environment(atomic.url)
    os.environ.update(env)
    _postgres("dropdb", "--if-exists", DB)
    _postgres("createdb", DB)
    try:
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        cache.clear()
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        print(
            f"PostgreSQL {DB}, Redis {REDIS}, Atomic stand-in {LATENCY * 1000:.0f} ms per call, "
            f"tasks backend {BACKEND}"
        )
        # The machine's load, as every figure below shares its cores with whatever else runs.
        load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"{os.cpu_count()} cores, load average {load} at the start")
        if "a" in PARTS:
            bench_reconcile(atomic)
        else:
            _people(0, 1000)
        if "b" in PARTS:
            bench_webhooks(env)
        if "c" in PARTS:
            bench_pollers(env, atomic)
        if "d" in PARTS:
            bench_refresh(env, atomic)
    finally:
        from django.db import connections

        connections.close_all()
        _postgres("dropdb", "--if-exists", DB, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
