"""Storm: nobody is left without the accounts Atomic holds once an outage at Atomic is over:
`.venv/bin/python -m bench.storm`.

The stack as for `bench.soak` (gunicorn, one `db_worker` on every queue, SQLite) against the
simulator. BENCH_STORM_PEOPLE people each connect 3 or 4 billers at once; the webhooks of those
tasks arrive while the simulator's accounts endpoint answers 500, 429, 503 and slowly (its
faults, mixed). Failed syncs are retried with backoff and jitter (PAYLINK_SYNC_RETRY_*, short
here so they run out during the storm). Then the faults clear, and the scheduler's reconcile
runs once (`paylink_reconcile --enqueue`, the job it enqueues every period): within that one
period, every person's dashboard copy must hold every account Atomic holds for them.

Prints the counts after the storm, after the retries, and after the one reconcile, and exits
non-zero when anyone is still missing accounts.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.soak import ROOT, _identifier, _signed_in, _wait_for, host_env, host_stack_start
from tests.simprocess import SimulatorProcess, free_port

PEOPLE = int(os.environ.get("BENCH_STORM_PEOPLE", "30"))
# The outage lasts at least this long, and until every task's webhook has met it.
STORM_SECONDS = float(os.environ.get("BENCH_STORM_SECONDS", "40"))
# One reconcile period: everything must have healed this long after the sweep starts.
PERIOD = float(os.environ.get("BENCH_STORM_PERIOD", "300"))
COMPANIES = ("streamly", "tunewave", "harborline-auto", "brightline-fiber", "northpeak-mobile")
# Short, so the retries run out while the outage lasts and reconcile has work to do.
RETRIES = {
    "PAYLINK_SYNC_RETRY_ATTEMPTS": "3",
    "PAYLINK_SYNC_RETRY_BASE_SECONDS": "2",
    "PAYLINK_SYNC_RETRY_MAX_SECONDS": "8",
}
FAULTS = (("500", 0), ("429", 0), ("slow", 6), ("503", 0))


def _held(db_path: Path, identifier: str) -> set[str]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute(
            "SELECT s.payload FROM paylink_accountsnapshot s JOIN paylink_profile p"
            " ON p.id = s.profile_id WHERE p.identifier = ?",
            (identifier,),
        ).fetchone()
    finally:
        db.close()
    payload = json.loads(row[0]) if row and row[0] else {}
    return {str(a.get("_id")) for a in payload.get("accounts", []) if isinstance(a, dict)}


def _final_at_host(db_path: Path) -> int:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        row = db.execute(
            "SELECT COUNT(*) FROM paylink_task WHERE status IN ('completed', 'failed')"
        ).fetchone()
    finally:
        db.close()
    return int(row[0])


def _missing(truth: dict[str, set[str]], db_path: Path) -> int:
    """People whose copy at the host lacks any account Atomic holds for them."""
    return sum(not accounts <= _held(db_path, who) for who, accounts in truth.items())


def main() -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Seeded, for runs that can be compared; nothing secret.
    rng = random.Random(int(os.environ.get("BENCH_STORM_SEED", "20")))  # noqa: S311
    sim = SimulatorProcess(
        step_seconds=0.5, retry_delay=2.0, webhook_url=f"{base}/webhooks/atomic/"
    )
    sim.start()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="paylink-storm-") as tmp:
        db_path = Path(tmp) / "host.sqlite3"
        env = {
            **host_env(sim=sim, db_path=db_path, port=port),
            # A slow answer (6 s) outlasts the host's patience: a timeout, worth retrying.
            "ATOMIC_READ_TIMEOUT": "4",
            **{name: os.environ.get(name, value) for name, value in RETRIES.items()},
            "PYTHONUNBUFFERED": "1",
        }
        manage = [sys.executable, "manage.py"]
        logs = host_stack_start(env=env, tmp=Path(tmp), people=PEOPLE, processes=processes)
        try:
            _wait_for(f"{base}/accounts/login/")
            for n in range(PEOPLE):
                _signed_in(base, f"soak{n}")
            identifiers = [_identifier(db_path, f"soak{n}") for n in range(PEOPLE)]
            # The outage: the accounts endpoint fails every way, in turns, until it is cleared.
            for _ in range(60):
                for kind, delay in FAULTS:
                    fault = {"endpoint": "accounts", "kind": kind, "times": 5}
                    if delay:
                        fault["delay"] = delay
                    sim.control_faults(**fault, retry_after=1)
            started = time.monotonic()

            def connect(identifier: str) -> int:
                chosen = rng.sample(COMPANIES, k=rng.choice((3, 4)))
                for company in chosen:
                    sim.connect(identifier, company, username="test-good", wait=False)
                return len(chosen)

            with ThreadPoolExecutor(8) as pool:
                tasks = sum(pool.map(connect, identifiers))
            # The outage lasts until every task's webhook has reached the host (so each of its
            # syncs met the outage), then until the retries have run out, and at least
            # STORM_SECONDS.
            until = time.monotonic() + 300
            while _final_at_host(db_path) < tasks and time.monotonic() < until:
                time.sleep(1)
            retries = sum(
                min(
                    float(env["PAYLINK_SYNC_RETRY_MAX_SECONDS"]),
                    2.0**n * float(env["PAYLINK_SYNC_RETRY_BASE_SECONDS"]),
                )
                for n in range(int(env["PAYLINK_SYNC_RETRY_ATTEMPTS"]))
            )
            time.sleep(retries + 5)
            time.sleep(max(0.0, STORM_SECONDS - (time.monotonic() - started)))
            outage = time.monotonic() - started
            copies = {who: _held(db_path, who) for who in identifiers}
            api_faults = sim.state()["faults"]["api"]
            used = 60 * len(FAULTS) * 5 - sum(int(f.get("remaining", 0)) for f in api_faults)
            sim.reset()  # the outage ends
            cleared = time.monotonic()
            # What Atomic holds for each, read once its API answers again.
            truth = {who: {str(a["_id"]) for a in sim.accounts(who)} for who in identifiers}
            during = sum(not truth[who] <= copies[who] for who in identifiers)
            # The retries still waiting run out first (the last is due within the cap).
            time.sleep(float(env["PAYLINK_SYNC_RETRY_MAX_SECONDS"]) + 4)
            after_retries = _missing(truth, db_path)
            swept = time.monotonic()
            subprocess.run(  # noqa: S603
                [*manage, "paylink_reconcile", "--enqueue"], cwd=ROOT, env=env, check=True
            )
            healed_at = None
            while time.monotonic() - swept < PERIOD:
                if _missing(truth, db_path) == 0:
                    healed_at = time.monotonic()
                    break
                time.sleep(1)
            after_reconcile = _missing(truth, db_path)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            logs.close()
            sim.stop()
    print(
        f"{PEOPLE} people connected {tasks} billers during a {outage:.0f} s outage "
        "of the accounts endpoint"
    )
    print(f"accounts calls answered with a fault (500, 429, 503, 6 s slow): {used}")
    print(f"people missing accounts Atomic holds, at the end of the outage: {during}")
    print(f"... {swept - cleared:.0f} s after it, the retries done: {after_retries}")
    if healed_at is not None:
        print(
            f"... after one reconcile: {after_reconcile}, "
            f"all healed {healed_at - swept:.1f} s into the period"
        )
    else:
        print(f"... after one reconcile period ({PERIOD:g} s): {after_reconcile}")
    return 1 if after_reconcile else 0


if __name__ == "__main__":
    raise SystemExit(main())
