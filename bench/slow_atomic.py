"""The sign-in page's latency under gunicorn while Atomic takes SLOW seconds per call and a few
`POST /hub/token/` wait on it: `.venv/bin/python -m bench.slow_atomic`.

Serves the host with `gunicorn.conf.py` against a throwaway SQLite database and a loopback
stand-in for Atomic that sleeps before every answer. Extra gunicorn arguments (for example
`--worker-class sync --workers 2` to compare) come from BENCH_GUNICORN_ARGS; any setting
(ATOMIC_REQUEST_DEADLINE_SECONDS, WEB_CONCURRENCY, ...) from the environment.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SLOW = float(os.environ.get("BENCH_ATOMIC_SECONDS", "10"))
IN_FLIGHT = int(os.environ.get("BENCH_TOKENS_IN_FLIGHT", "4"))
SIGN_IN_PAGES = int(os.environ.get("BENCH_SIGN_IN_PAGES", "20"))


class _SlowAtomic(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(SLOW)
        body = b'{"data": {"publicToken": "bench-token"}}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the host gave up waiting, as it should


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 30.0) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"The host did not start at {url}.")


def _signed_in(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/").text
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert field is not None, "the sign-in page has no CSRF field"
    token = field.group(1)
    session.post(
        f"{base}/accounts/login/",
        data={"username": "bench", "password": "bench-pass-1234", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    session.get(f"{base}/hub/")
    return session, str(session.cookies["csrftoken"])


def main() -> int:
    atomic = ThreadingHTTPServer(("127.0.0.1", 0), _SlowAtomic)
    atomic.daemon_threads = True
    threading.Thread(target=atomic.serve_forever, daemon=True).start()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="paylink-slow-atomic-") as tmp:
        env = {
            **os.environ,
            "PAYLINK_TESTING": "true",
            "DATABASE_URL": f"sqlite:///{tmp}/host.sqlite3",
            "CACHE_URL": "locmemcache://",
            "ATOMIC_ENV": "simulator",
            "ATOMIC_API_URL": f"http://127.0.0.1:{atomic.server_address[1]}",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
        }
        # Every command below is this interpreter running our own files (hence the noqa).
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
        create = (
            "from django.contrib.auth.models import User; "
            "User.objects.create_user('bench', password='bench-pass-1234')"
        )
        subprocess.run(  # noqa: S603
            [*manage, "shell", "--no-imports", "-c", create], cwd=ROOT, env=env, check=True
        )
        extra = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(f"{base}/accounts/login/")
            sessions = [_signed_in(base) for _ in range(IN_FLIGHT)]

            def token(pair: tuple[requests.Session, str]) -> tuple[int, float]:
                session, csrf = pair
                started = time.monotonic()
                answer = session.post(
                    f"{base}/hub/token/",
                    headers={"X-CSRFToken": csrf, "Referer": f"{base}/hub/"},
                    timeout=120,
                )
                return answer.status_code, time.monotonic() - started

            with ThreadPoolExecutor(IN_FLIGHT) as pool:
                tokens = [pool.submit(token, pair) for pair in sessions]
                time.sleep(0.3)  # let every token request reach a worker first
                timings = []
                for _ in range(SIGN_IN_PAGES):
                    started = time.monotonic()
                    status = requests.get(f"{base}/accounts/login/", timeout=120).status_code
                    timings.append(time.monotonic() - started)
                    assert status == 200, status
                    if all(future.done() for future in tokens):
                        break
                results = [future.result() for future in tokens]
        finally:
            server.terminate()
            server.wait(timeout=30)
            atomic.shutdown()
    print(f"Atomic: {SLOW:g} s per call; {IN_FLIGHT} POST /hub/token/ in flight")
    print(f"gunicorn: gunicorn.conf.py {' '.join(extra)}".rstrip())
    print(
        f"sign-in page while they wait: {len(timings)} requests, "
        f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms"
    )
    for status, seconds in results:
        print(f"POST /hub/token/: {status} after {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
