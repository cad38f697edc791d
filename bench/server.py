"""`python -m bench --server`: the same endpoints against gunicorn on PostgreSQL and Redis.

The stack is production's: settings with debug and test mode off (so database connections are
kept across requests, CONN_MAX_AGE), the release's collectstatic, and gunicorn started from
`gunicorn.conf.py` (its worker class, threads and keep-alive). The bench process builds the
users and snapshots in the server's database, logs each user in (a session row the server then
reads), starts gunicorn and a stand-in for Atomic's status endpoint, and times each request
over HTTP: one at a time (latency, interleaved as in process, from this process), then with 1, 8
and 32 requests in flight (throughput), repeated, each figure beside its target.

BENCH_ENDPOINTS (comma-separated, e.g. `webhook`) times only the endpoints whose names contain
one of its words, besides /healthz, the trivial view and the pages their targets are relative to
(`bench.run.selected`). Unset, every endpoint is timed.

The throughput is Debian's wrk's (bin/ensure-wrk), a load generator the project did not write,
replaying requests this process recorded (bench/replay.lua): the cookies a browser would send
back (the session's, and those the host's answers set, such as the CSRF cookie), an htmx
header, a webhook signed anew for every request. Only the one-at-a-time table stays in Python:
a cold render needs a database write before each request, which wrk cannot make.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import runpy
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:  # bench.run needs Django set up, which happens at run time
    from bench.run import Endpoint

ROOT = Path(__file__).resolve().parent.parent
WRK = "/usr/bin/wrk"
HEALTHZ = "/healthz (no I/O)"
TRIVIAL = "trivial view"
# Issue 26's targets for the server, as ratios of throughput costs at every concurrency:
# the trivial signed-in view to /healthz, and the named pages to the trivial view (the task
# poll's is the one `make bench` holds it to in process).
TRIVIAL_TO_HEALTHZ = 3.0
SERVER_TARGETS = {
    "/ warm, ": 1.5,
    "webhook ingest": 1.5,
    "task poll": 1.5,
}
# The largest warm dashboard, beyond `make bench`'s sizes: flat from 1 to 5,000 accounts.
LARGEST = 5000


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


@dataclass(frozen=True)
class Recorded:
    """One request as a client would send it, for wrk to replay."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def raw(self, host: str) -> bytes:
        lines = [f"{self.method} {self.url} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.method != "GET":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class ServerClient:
    """The calls `bench.run.endpoints` makes on Django's test client, made over HTTP, with
    kept-alive connections; or, while `recording` is a list, written down there unsent (and
    answered 200), so wrk can send the same requests."""

    recording: list[Recorded] | None = None

    def __init__(self, base: str, session_cookie: tuple[str, str] | None) -> None:
        self.base = base
        self.http = requests.Session()
        # A kept-alive connection left idle past gunicorn's keep-alive (a slow page of another
        # client's took its turn) is closed by the server: a GET sent on it just then is sent
        # again on a new one, as a browser does. A POST is never sent twice.
        retry = Retry(total=2, allowed_methods={"GET"}, status=0, raise_on_status=False)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=retry)
        self.http.mount("http://", adapter)
        if session_cookie:
            self.http.cookies.set(*session_cookie)

    @staticmethod
    def _headers(headers: dict[str, str] | None) -> dict[str, str]:
        return {name.replace("_", "-"): value for name, value in (headers or {}).items()}

    @property
    def cookie(self) -> str:
        """The Cookie header a browser would send: the session's, and every cookie the host's
        answers gave this client (the CSRF cookie a page set, say), as a browser keeps them."""
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def _record(self, method: str, url: str, headers: dict[str, str], body: bytes = b"") -> bool:
        if ServerClient.recording is None:
            return False
        cookie = self.cookie
        # As this client's own requests go (and a browser's): compressed answers accepted.
        encoding = {"Accept-Encoding": str(self.http.headers["Accept-Encoding"])}
        sent = {**encoding, **headers, **({"Cookie": cookie} if cookie else {})}
        ServerClient.recording.append(Recorded(method, url, sent, body))
        return True

    def get(self, url: str, headers: dict[str, str] | None = None) -> _Response:
        if self._record("GET", url, self._headers(headers)):
            return _Response(200)
        answer = self.http.get(
            self.base + url, headers=self._headers(headers), allow_redirects=False, timeout=30
        )
        return _Response(answer.status_code)

    def post(
        self, url: str, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> _Response:
        sent = {"Content-Type": content_type, **self._headers(headers)}
        if self._record("POST", url, sent, data):
            return _Response(200)
        answer = self.http.post(
            self.base + url, data=data, headers=sent, allow_redirects=False, timeout=30
        )
        return _Response(answer.status_code)


def recorded(request: Callable[[], int], count: int) -> list[Recorded]:
    """What `request` would send, `count` times over (a signed webhook differs each time); empty
    when it sends nothing over HTTP (work run in this process)."""
    ServerClient.recording = []
    try:
        request()
        if ServerClient.recording and ServerClient.recording[0].method != "GET":
            for _ in range(count - 1):
                request()
        return ServerClient.recording
    finally:
        ServerClient.recording = None


def _atomic_stand_in(delay: float) -> ThreadingHTTPServer:
    """Answers GET /task/{id}/status with "processing" after `delay` seconds."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            body = json.dumps({"status": "processing"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def server_environment(*, database_url: str, cache_url: str) -> None:
    # Read by hubsite.settings in this process and, inherited, in gunicorn's: production's
    # settings (PAYLINK_TESTING would close the database connection after every request).
    os.environ["PAYLINK_TESTING"] = "false"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SECRET_KEY"] = hashlib.sha256(os.urandom(32)).hexdigest()
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ["DATABASE_URL"] = database_url
    os.environ["CACHE_URL"] = cache_url
    # The database is flushed each run, so ids and versions repeat: keys of this run's own keep
    # an earlier run's cached fragments from passing for this one's cold renders. (bench.wsgi
    # applies it: django-environ reads ?key_prefix= from the URL but Django never sees it.)
    os.environ["BENCH_CACHE_KEY_PREFIX"] = f"paylink-bench-{secrets.token_hex(4)}"
    os.environ["PAYLINK_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("ATOMIC_ENV", "simulator")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubsite.settings"


def server_caches(caches: dict[str, Any]) -> dict[str, Any]:
    """The caches as the server uses them (bench.wsgi) and this process must too: the default
    one under this run's own key prefix."""
    return {
        **caches,
        "default": {
            **caches["default"],
            "KEY_PREFIX": os.environ.get("BENCH_CACHE_KEY_PREFIX", ""),
        },
    }


def gunicorn_label(workers: int) -> str:
    """What gunicorn.conf.py makes of this environment: its worker class, processes, threads."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return (
        f"gunicorn.conf.py: {conf['worker_class']}, {workers} worker(s) x "
        f"{conf['threads']} threads, keep-alive {conf['keepalive']} s"
    )


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {process.returncode}):\n{_tail(log)}")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            # Not listening yet, or busy with its first request: either way, ask again.
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer within 30 s.")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Throughput:
    """Requests per second of each endpoint, per concurrency, one figure per repetition."""

    rates: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    # Cost of each run of an endpoint, as a multiple of its yardstick's runs on either side.
    ratios: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    # Endpoints whose unrepeatable requests (signed webhooks) ran out and were sent again.
    repeated: set[str] = field(default_factory=set)
    # (endpoint, level) where a run got no answer at all within its seconds.
    empty: set[tuple[str, int]] = field(default_factory=set)


@dataclass(frozen=True)
class WrkResult:
    rate: float
    # A status the endpoint should not answer, when one was answered; socket errors likewise.
    wrong_status: int | None
    socket_errors: int
    repeated: bool


# Unrepeatable requests written per second of a wrk run: above any rate this host reaches here.
POSTS_PER_SECOND = 4000


def wrk_run(
    requests_sent: list[Recorded],
    *,
    host: str,
    concurrency: int,
    seconds: int,
    ok: tuple[int, ...],
    workdir: Path,
) -> WrkResult:
    """Requests per second wrk gets with `concurrency` connections for `seconds`, replaying
    `requests_sent` in turn (bench/replay.lua)."""
    file = workdir / "requests.bin"
    file.write_bytes(b"".join(r.raw(host) + b"\0" for r in requests_sent))
    threads = 1  # One client thread: wrk's share of the two cores stays small.
    command = [
        WRK,
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{seconds}s",
        "--timeout=30s",
        f"--script={ROOT / 'bench' / 'replay.lua'}",
        f"http://{host}/",
        "--",
        ",".join(map(str, ok)),
        str(file),
        str(threads),
    ]
    # Fixed arguments and files of this run: nothing here comes from outside.
    output = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    line = next(
        (line for line in output.stdout.splitlines() if line.startswith("bench-result ")), None
    )
    if output.returncode or line is None:
        raise SystemExit(f"wrk failed (exit {output.returncode}):\n{output.stdout}{output.stderr}")
    figures = {k: int(v) for k, v in (pair.split("=") for pair in line.split()[1:])}
    return WrkResult(
        rate=figures["requests"] / (figures["microseconds"] / 1e6),
        wrong_status=figures["wrong_status"] if figures["wrong"] else None,
        socket_errors=figures["socket_errors"],
        repeated=figures["repeated"] > 0,
    )


def measure_concurrency(
    measured: list, *, host: str, levels: tuple[int, ...], repetitions: int, seconds: int
) -> Throughput:
    """Each repetition drives every endpoint with wrk at each level in turn, each run of an
    endpoint between two runs of its yardstick (/healthz's for the trivial view, the trivial
    view's for every other), and takes its cost against the geometric mean of those two: the
    machine's load drifting over the minutes of the table moves an endpoint and its yardstick
    alike. The requests are recorded afresh before each run (a poll's `after` is a moment ago). Cold
    renders (which prepare each request) and work run in this process are left to the
    one-at-a-time table."""
    result = Throughput()
    live = [e for e in measured if not e.unavailable and e.prepare is None]
    healthz = next((e for e in live if e.name == HEALTHZ), None)
    trivial = next((e for e in live if e.name == TRIVIAL), None)
    others = [e for e in live if e not in (healthz, trivial)]
    with tempfile.TemporaryDirectory(prefix="paylink-bench-wrk-") as tmp:

        def run(endpoint: Endpoint | None, level: int) -> float:
            """Requests per second of one run; NaN for none (a failure, a stall)."""
            if endpoint is None or endpoint.name in result.failures:
                return math.nan
            sent = recorded(endpoint.request, POSTS_PER_SECOND * seconds)
            if not sent:
                return math.nan
            outcome = wrk_run(
                sent,
                host=host,
                concurrency=level,
                seconds=seconds,
                ok=endpoint.ok_statuses,
                workdir=Path(tmp),
            )
            if outcome.wrong_status is not None or outcome.socket_errors:
                wrong = outcome.wrong_status or f"{outcome.socket_errors} socket errors"
                result.failures[endpoint.name] = f"answered {wrong} at c={level}"
                return math.nan
            if not outcome.rate:
                # A stall on a busy machine: this run has no figure (a gap in the table).
                result.empty.add((endpoint.name, level))
                return math.nan
            if outcome.repeated and sent[0].method != "GET":
                result.repeated.add(endpoint.name)
            result.rates.setdefault((endpoint.name, level), []).append(outcome.rate)
            return outcome.rate

        def bracketed(name: str, level: int, before: float, rate: float, after: float) -> None:
            yardstick = [1 / r for r in (before, after) if not math.isnan(r)]
            if math.isnan(rate) or not yardstick:
                return
            cost = (1 / rate) / statistics.geometric_mean(yardstick)
            result.ratios.setdefault((name, level), []).append(cost)

        for _ in range(repetitions):
            for level in levels:
                first = run(healthz, level)
                rate = run(trivial, level)
                bracketed(TRIVIAL, level, first, rate, run(healthz, level))
                before = run(trivial, level)
                for endpoint in others:
                    rate = run(endpoint, level)
                    after = run(trivial, level)
                    bracketed(endpoint.name, level, before, rate, after)
                    before = after
    return result


# Pages costing more than this many trivial views, one at a time, are left to that table: the
# requests a run of theirs leaves queued when wrk stops would hold the server into the next run
# (their targets are `make bench`'s, relative to a cold dashboard).
DRIVEN_WITHIN = 20


def _driven(endpoint: Endpoint, measured: list[Endpoint]) -> bool:
    trivial = next((e for e in measured if e.name == TRIVIAL and e.samples), None)
    if trivial is None or not endpoint.samples:
        return True
    cost = statistics.median(endpoint.samples) / statistics.median(trivial.samples)
    return cost <= DRIVEN_WITHIN


def _server_target(name: str) -> float | None:
    if name == TRIVIAL:
        return TRIVIAL_TO_HEALTHZ
    return next(
        (ratio for prefix, ratio in SERVER_TARGETS.items() if name.startswith(prefix)), None
    )


def report_concurrency(
    result: Throughput, *, names: list[str], levels: tuple[int, ...], repetitions: int
) -> int:
    """Prints /healthz's rate and every other endpoint's cost as a multiple of its yardstick
    (the trivial view's; the trivial view's own against /healthz), per repetition; the median
    of the repetitions is judged, and min-max shows their spread. Returns the targets missed."""
    from bench.run import verdict

    print(
        f"\nThroughput with 1 to {max(levels)} requests in flight, {repetitions} repetitions;"
        " cost = 1 / (requests per second), as a multiple of the trivial view's cost"
        " (the trivial view's: of /healthz's), each run against its yardstick's runs just before"
        " and after it. Median of the repetitions [min-max]."
        f" Load generator: {WRK}, one thread, one connection per request in flight.\n"
    )
    header = f"{'endpoint':<32}" + "".join(f" {f'c={level}':>22}" for level in levels)
    header += f"  {'target':<8} verdict"
    print(header)
    print("-" * len(header))
    missed = 0
    measured_names = {name for name, _ in result.rates} | set(result.failures)
    # Work run in this process (a reminder run) is not driven over HTTP: no row of its own here.
    for name in (name for name in names if name in measured_names):
        if name in result.failures:
            target = _server_target(name)
            missed += target is not None
            judged = verdict(None if target is None else False)
            print(f"{name:<32} not measured ({result.failures[name]})  {judged}")
            continue
        cells = []
        met_all: bool | None = None
        target = _server_target(name)
        for level in levels:
            if name == HEALTHZ:
                figures = result.rates.get((name, level), [])
                unit = "/s"
            else:
                figures = result.ratios.get((name, level), [])
                unit = "x"
            if not figures:
                cells.append(f"{'-':>22}")
                continue
            middle = statistics.median(figures)
            if unit == "/s":
                cells.append(f"{middle:>8.0f}/s [{min(figures):.0f}-{max(figures):.0f}]".rjust(22))
            else:
                cells.append(f"{middle:>6.2f}x [{min(figures):.2f}-{max(figures):.2f}]".rjust(22))
            if target is not None:
                ok = middle <= target
                met_all = ok if met_all is None else met_all and ok
        missed += met_all is False
        shown_target = f"<= {target:g}x" if target is not None else "-"
        print(
            f"{name:<32}"
            + "".join(f" {cell}" for cell in cells)
            + f"  {shown_target:<8} {verdict(met_all)}"
        )
    for name, level in sorted(result.empty):
        print(f"{name}: a run at c={level} got no answer within its time (left out).")
    for name in sorted(result.repeated):
        print(f"{name}: its recorded requests ran out and were sent again (duplicates).")
    print(
        f"\n{missed} throughput target(s) MISSED." if missed else "\nEvery throughput target met."
    )
    return missed


def server_run(
    *,
    rounds: int,
    warmup: int,
    atomic_delay: float,
    workers: int,
    port: int,
    levels: tuple[int, ...] = (1, 8, 32),
    repetitions: int = 3,
    seconds: int = 1,
) -> int:
    from django.conf import settings
    from django.test.utils import override_settings

    # This process writes what the server reads (snapshots whose writes retire kept pages, as a
    # worker's sync does): it shares the server's cache keys, as production's processes do.
    with override_settings(ROOT_URLCONF="bench.urls", CACHES=server_caches(settings.CACHES)):
        return _server_run(
            rounds=rounds,
            warmup=warmup,
            atomic_delay=atomic_delay,
            workers=workers,
            port=port,
            levels=levels,
            repetitions=repetitions,
            seconds=seconds,
        )


def _server_run(
    *,
    rounds: int,
    warmup: int,
    atomic_delay: float,
    workers: int,
    port: int,
    levels: tuple[int, ...],
    repetitions: int,
    seconds: int,
) -> int:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench.run import Endpoint, endpoints, measure, report, selected, user_with_accounts

    atomic = _atomic_stand_in(atomic_delay)
    os.environ["ATOMIC_API_URL"] = f"http://127.0.0.1:{atomic.server_address[1]}"
    call_command("migrate", verbosity=0, interactive=False)
    # The release step: production's static files storage serves from its manifest only.
    call_command("collectstatic", verbosity=0, interactive=False)
    # A fresh start each run: this database belongs to the bench alone.
    call_command("flush", verbosity=0, interactive=False)
    base = f"http://127.0.0.1:{port}"

    def make_client(user: User | None) -> ServerClient:
        if user is None:
            return ServerClient(base, None)
        browser = Client()
        browser.force_login(user)
        cookie = browser.cookies["sessionid"]
        return ServerClient(base, ("sessionid", cookie.value))

    anonymous = ServerClient(base, None)
    largest = make_client(user_with_accounts(f"bench-warm-{LARGEST}", LARGEST)[0])
    dashboard = reverse("paylink:dashboard")
    measured = [Endpoint(HEALTHZ, lambda: anonymous.get("/healthz").status_code)]
    for endpoint in selected(endpoints(make_client)):
        measured.append(endpoint)
        if endpoint.name == "/ warm, 1000 accounts":
            measured.append(
                Endpoint(f"/ warm, {LARGEST} accounts", lambda: largest.get(dashboard).status_code)
            )
    with connection.cursor() as cursor:
        # What autovacuum would have done by now in production (it is off on some machines):
        # plans made from the tables' statistics, not from PostgreSQL's defaults for a table
        # never analysed.
        cursor.execute("ANALYZE")
    connection.close()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    os.environ["WEB_CONCURRENCY"] = str(workers)
    label = gunicorn_label(workers)
    logs = Path(tempfile.mkdtemp(prefix="paylink-bench-gunicorn-"))
    # gunicorn.conf.py as production loads it (no access log of gunicorn's, the host's own line
    # per request), with the bench's URLconf (bench.wsgi) as the app; what the processes write
    # goes to a file (a line per request would bury the table).
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "bench.wsgi:application",
    ]
    with (logs / "output.log").open("wb") as output:
        # Our own interpreter and fixed arguments: nothing here comes from outside.
        gunicorn = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=output
        )
    load_before = os.getloadavg()
    try:
        _wait_for(base + "/healthz", gunicorn, logs / "output.log")
        measure(measured, rounds=rounds, warmup=warmup, count_queries=False)
        driven = [e for e in measured if _driven(e, measured)]
        concurrency = measure_concurrency(
            driven,
            host=f"127.0.0.1:{port}",
            levels=levels,
            repetitions=repetitions,
            seconds=seconds,
        )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        atomic.shutdown()
    load_after = os.getloadavg()
    print(
        f"{os.cpu_count()} cores; load average {', '.join(f'{n:.2f}' for n in load_before)}"
        f" before, {', '.join(f'{n:.2f}' for n in load_after)} after. Clients: this"
        " process one request at a time, then wrk; both on the same cores as the server."
    )
    missed = report(
        measured,
        rounds=rounds,
        warmup=warmup,
        where=(
            f"{label} (wall clock; CPU = this client process's share), PostgreSQL with"
            f" persistent connections, Redis; Atomic answers in {atomic_delay * 1000:g} ms"
        ),
    )
    missed += report_concurrency(
        concurrency,
        names=[e.name for e in driven if not e.unavailable and e.prepare is None],
        levels=levels,
        repetitions=repetitions,
    )
    if any(e.unavailable for e in measured):
        print(f"gunicorn's output, last lines:\n{_tail(logs / 'output.log')}")
    return 1 if missed else 0
