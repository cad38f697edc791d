"""Soak: every task page shows a task's final status within one poll window of the host
recording it: `.venv/bin/python -m bench.soak`.

Runs the stack as production does on one machine (gunicorn, one `db_worker` on every queue, the
shared cache in the database, SQLite in WAL mode) against the simulator, whose signed webhooks
bring each task's news. Each of BENCH_SOAK_CONNECTS connects (spread over BENCH_SOAK_PEOPLE
people, BENCH_SOAK_PARALLEL at a time) starts a task at the simulator, waits a random delay of
up to BENCH_SOAK_DELAY seconds (the person on Transact's result screen), reports Done to the
host as the browser does, then polls the task page with htmx's request every
PAYLINK_POLL_SECONDS as the page does. Beside it, the soak watches the host's own table: the
moment the final status is committed there. A page is behind when a poll sent after that moment
still shows the old status: it then shows the final one only a poll window (or more) later.

Prints each figure and exits non-zero when any poll sent after the host recorded a final status
still showed the old one, or a page never showed its final status.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from tests.simprocess import SimulatorProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
CONNECTS = int(os.environ.get("BENCH_SOAK_CONNECTS", "200"))
PEOPLE = int(os.environ.get("BENCH_SOAK_PEOPLE", "20"))
PARALLEL = int(os.environ.get("BENCH_SOAK_PARALLEL", "16"))
DELAY = float(os.environ.get("BENCH_SOAK_DELAY", "1.5"))
POLL = float(os.environ.get("PAYLINK_POLL_SECONDS", "2"))
# A poll's own time on a busy 2-core machine, on top of the window.
SLACK = float(os.environ.get("BENCH_SOAK_SLACK", "1.0"))
GIVE_UP = 60.0
USERNAMES = ("test-bad", "test-good", "test-failure", "test-declined")
COMPANIES = ("streamly", "tunewave")
FINAL = ("completed", "failed")


@dataclass
class Outcome:
    task_id: str
    recorded_at: float | None = None
    shown_at: float | None = None
    polls: int = 0
    # When each poll that answered with the old status was sent.
    stale_sent: list[float] = field(default_factory=list)

    @property
    def stale_after_recorded(self) -> int:
        """Polls sent after the host had committed the final status that still showed the old
        one: each is a page a poll window (or more) behind."""
        if self.recorded_at is None:
            return 0
        return sum(sent > self.recorded_at for sent in self.stale_sent)

    @property
    def lag(self) -> float | None:
        if self.recorded_at is None or self.shown_at is None:
            return None
        return max(0.0, self.shown_at - self.recorded_at)


def _wait_for(url: str, seconds: float = 60.0) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"Nothing answered at {url}.")


def _signed_in(base: str, username: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.trust_env = False
    page = session.get(f"{base}/accounts/login/", timeout=30).text
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert field is not None, "the sign-in page has no CSRF field"
    token = field.group(1)
    session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": "soak-pass-1234", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    )
    session.get(f"{base}/hub/", timeout=30)  # the profile, and its Atomic identifier
    csrf = str(session.cookies["csrftoken"])
    # Opening the Hub: the host's access token makes the person known at Atomic.
    session.post(
        f"{base}/hub/token/",
        headers={"X-CSRFToken": csrf, "Referer": f"{base}/hub/"},
        timeout=60,
    ).raise_for_status()
    return session, csrf


class HostTable:
    """Watches the host's task table (read-only) for the moment each final status commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.watched: dict[str, Outcome] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def watch(self, outcome: Outcome) -> None:
        with self.lock:
            self.watched[outcome.task_id] = outcome

    def run(self) -> None:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        while not self.stopped.is_set():
            with self.lock:
                waiting = {k: v for k, v in self.watched.items() if v.recorded_at is None}
            if waiting:
                marks = ",".join("?" * len(waiting))
                rows = db.execute(
                    f"SELECT atomic_id, status FROM paylink_task WHERE atomic_id IN ({marks})",  # noqa: S608
                    list(waiting),
                ).fetchall()
                now = time.monotonic()
                for atomic_id, status in rows:
                    if status in FINAL:
                        waiting[atomic_id].recorded_at = now
            time.sleep(0.02)
        db.close()


def _identifier(db_path: Path, username: str) -> str:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute(
            "SELECT p.identifier FROM paylink_profile p JOIN auth_user u ON u.id = p.user_id"
            " WHERE u.username = ?",
            (username,),
        ).fetchone()
    finally:
        db.close()
    return str(row[0])


def host_env(*, sim: SimulatorProcess, db_path: Path, port: int) -> dict[str, str]:
    """The environment of a host stack on SQLite at `db_path`, talking to the simulator `sim`,
    with gunicorn on `port`."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "ATOMIC_ENV": "simulator",
        "ATOMIC_API_URL": sim.url,
        "ATOMIC_TRANSACT_ORIGIN": sim.url,
        "ATOMIC_API_KEY": sim.api_key,
        "ATOMIC_API_SECRET": sim.api_secret,
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }


def host_stack_start(
    *, env: dict[str, str], tmp: Path, people: int, processes: list[subprocess.Popen]
) -> IO[bytes]:
    """The host's database migrated with `people` people (soak0, soak1, ...), then gunicorn and a
    worker on every queue started into `processes`, both writing to the log file returned."""
    manage = [sys.executable, "manage.py"]
    # Every command below is this interpreter running our own files (hence the noqa).
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    create = (
        "from django.contrib.auth.models import User\n"
        f"for n in range({people}):\n"
        "    User.objects.create_user(f'soak{n}', password='soak-pass-1234')"
    )
    subprocess.run(  # noqa: S603
        [*manage, "shell", "--no-imports", "-c", create], cwd=ROOT, env=env, check=True
    )
    logs = open(tmp / "stack.log", "wb")  # noqa: SIM115
    processes.append(
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
        )
    )
    processes.append(
        subprocess.Popen(  # noqa: S603
            [str(ROOT / "bin" / "worker"), "webhooks,default,atomic"],
            cwd=ROOT,
            env=env | {"PYTHON": sys.executable},
            stdout=logs,
            stderr=logs,
        )
    )
    return logs


def main() -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Seeded, for runs that can be compared; nothing secret.
    rng = random.Random(int(os.environ.get("BENCH_SOAK_SEED", "20")))  # noqa: S311
    sim = SimulatorProcess(
        step_seconds=0.4, retry_delay=1.0, webhook_url=f"{base}/webhooks/atomic/"
    )
    sim.start()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="paylink-soak-") as tmp:
        db_path = Path(tmp) / "host.sqlite3"
        env = {
            **host_env(sim=sim, db_path=db_path, port=port),
            "PAYLINK_POLL_SECONDS": str(POLL),
            "PYTHONUNBUFFERED": "1",
        }
        logs = host_stack_start(env=env, tmp=Path(tmp), people=PEOPLE, processes=processes)
        table = HostTable(db_path)
        watcher = threading.Thread(target=table.run, daemon=True)
        try:
            _wait_for(f"{base}/accounts/login/")
            people = [_signed_in(base, f"soak{n}") for n in range(PEOPLE)]
            identifiers = [_identifier(db_path, f"soak{n}") for n in range(PEOPLE)]
            watcher.start()
            plan = [
                (n % PEOPLE, rng.choice(USERNAMES), rng.choice(COMPANIES), rng.uniform(0, DELAY))
                for n in range(CONNECTS)
            ]

            done: list[Outcome] = []

            def connect(step: tuple[int, str, str, float]) -> Outcome:
                who, username, company, delay = step
                session, csrf = people[who]
                task_id = sim.connect(identifiers[who], company, username=username, wait=False)
                outcome = Outcome(task_id=task_id)
                table.watch(outcome)
                time.sleep(delay)  # on Transact's result screen, then Done
                answer = session.post(
                    f"{base}/hub/events/",
                    json={"kind": "finish", "payload": {"taskId": task_id}},
                    headers={"X-CSRFToken": csrf, "Referer": f"{base}/hub/"},
                    timeout=30,
                )
                answer.raise_for_status()
                url = base + answer.json()["statusUrl"]
                until = time.monotonic() + GIVE_UP
                while time.monotonic() < until:
                    sent = time.monotonic()
                    page = session.get(url, headers={"HX-Request": "true"}, timeout=30)
                    outcome.polls += 1
                    shown = re.search(r'data-task-status="([^"]+)"', page.text)
                    if shown and shown.group(1) in FINAL:
                        outcome.shown_at = time.monotonic()
                        break
                    outcome.stale_sent.append(sent)
                    time.sleep(POLL)
                done.append(outcome)
                if len(done) % 20 == 0:
                    print(f"{len(done)} connects done", flush=True)
                return outcome

            started = time.monotonic()
            with ThreadPoolExecutor(PARALLEL) as pool:
                outcomes = list(pool.map(connect, plan))
            took = time.monotonic() - started
        finally:
            table.stopped.set()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            logs.close()
            sim.stop()
    lags = [o.lag for o in outcomes if o.lag is not None]
    never = [o.task_id for o in outcomes if o.shown_at is None]
    late = [o for o in outcomes if o.stale_after_recorded]
    slow = [o for o in outcomes if o.lag is not None and o.lag > POLL + SLACK]
    print(f"{CONNECTS} connects by {PEOPLE} people, {PARALLEL} at a time, in {took:.0f} s")
    print(f"poll window {POLL:g} s (+{SLACK:g} s for the request)")
    print(f"random delay before Done: 0 to {DELAY:g} s")
    if lags:
        ordered = sorted(lags)
        print(
            "final status on the page after the host recorded it: "
            f"median {statistics.median(lags):.2f} s, "
            f"p95 {ordered[int(len(ordered) * 0.95) - 1]:.2f} s, max {max(lags):.2f} s"
        )
    print(f"polls per page: max {max(o.polls for o in outcomes)}")
    print(
        f"pages whose poll, sent after the host recorded the final status, showed the old one "
        f"(later than one poll window): {len(late)} of {CONNECTS}"
    )
    print(
        f"pages showing it more than {POLL + SLACK:g} s after the host recorded it "
        f"(the poll's own time on this machine included): {len(slow)}"
    )
    recorded = sum(o.recorded_at is not None for o in outcomes if o.shown_at is None)
    print(
        f"pages that never showed the final status in {GIVE_UP:g} s: {len(never)} "
        f"(of which the host had recorded it: {recorded})"
    )
    for outcome in late[:10]:
        print(f"  stale: {outcome.task_id}, {outcome.stale_after_recorded} stale poll(s)")
    return 1 if late or never else 0


if __name__ == "__main__":
    raise SystemExit(main())
