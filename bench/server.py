"""`python -m bench --server`: the same endpoints against gunicorn on PostgreSQL and Redis.

The bench process builds the users and snapshots in the server's database, logs each user in
(a session row the server then reads), starts gunicorn and a stand-in for Atomic's status
endpoint, and times each request over HTTP, wall clock, interleaved as in process.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


class ServerClient:
    """The calls `bench.run.endpoints` makes on Django's test client, made over HTTP."""

    def __init__(self, base: str, session_cookie: tuple[str, str] | None) -> None:
        self.base = base
        self.http = requests.Session()
        if session_cookie:
            self.http.cookies.set(*session_cookie)

    @staticmethod
    def _headers(headers: dict[str, str] | None) -> dict[str, str]:
        return {name.replace("_", "-"): value for name, value in (headers or {}).items()}

    def get(self, url: str, headers: dict[str, str] | None = None) -> _Response:
        answer = self.http.get(
            self.base + url, headers=self._headers(headers), allow_redirects=False, timeout=30
        )
        return _Response(answer.status_code)

    def post(
        self, url: str, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> _Response:
        sent = {"Content-Type": content_type, **self._headers(headers)}
        answer = self.http.post(
            self.base + url, data=data, headers=sent, allow_redirects=False, timeout=30
        )
        return _Response(answer.status_code)


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
    # Read by hubsite.settings in this process and, inherited, in gunicorn's.
    os.environ["PAYLINK_TESTING"] = "true"  # plain static files, no secrets to provide
    os.environ["DATABASE_URL"] = database_url
    os.environ["CACHE_URL"] = cache_url
    # The database is flushed each run, so ids and versions repeat: keys of this run's own keep
    # an earlier run's cached fragments from passing for this one's cold renders. (bench.wsgi
    # applies it: django-environ reads ?key_prefix= from the URL but Django never sees it.)
    os.environ["BENCH_CACHE_KEY_PREFIX"] = f"paylink-bench-{secrets.token_hex(4)}"
    os.environ["PAYLINK_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    os.environ.setdefault("ATOMIC_ENV", "simulator")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubsite.settings"


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {process.returncode}); see its output above.")
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            # Not listening yet, or busy with its first request: either way, ask again.
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer within 30 s.")


def server_run(*, rounds: int, warmup: int, atomic_delay: float, workers: int, port: int) -> int:
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF="bench.urls"):
        return _server_run(
            rounds=rounds, warmup=warmup, atomic_delay=atomic_delay, workers=workers, port=port
        )


def _server_run(*, rounds: int, warmup: int, atomic_delay: float, workers: int, port: int) -> int:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from bench.run import endpoints, measure, report

    atomic = _atomic_stand_in(atomic_delay)
    os.environ["ATOMIC_API_URL"] = f"http://127.0.0.1:{atomic.server_address[1]}"
    call_command("migrate", verbosity=0, interactive=False)
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

    measured = endpoints(make_client)
    connection.close()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
    ]
    # Our own interpreter and fixed arguments: nothing here comes from outside.
    gunicorn = subprocess.Popen(command, cwd=ROOT)  # noqa: S603
    try:
        _wait_for(base + "/bench/trivial/", gunicorn)
        measure(measured, rounds=rounds, warmup=warmup, count_queries=False)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        atomic.shutdown()
    report(
        measured,
        rounds=rounds,
        warmup=warmup,
        where=(
            f"gunicorn ({workers} sync workers, wall clock), PostgreSQL, Redis;"
            f" Atomic answers in {atomic_delay * 1000:g} ms"
        ),
    )
    return 0
