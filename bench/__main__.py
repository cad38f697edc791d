"""Times the hot pages side by side, interleaved, as ratios to a trivial login-required view.

`python -m bench` runs in this process against a throwaway SQLite database and a local memory
cache, timing each request by the wall clock and by CPU time; `python -m bench --server`
against gunicorn (from gunicorn.conf.py) on PostgreSQL and Redis with production's settings,
one request at a time and then with 1, 8 and 32 in flight, repeated. Each figure is printed
beside its target, judged met or MISSED; a MISSED target makes the command exit with 1.
Endpoints that are missing are reported as not available instead of stopping the run.
BENCH_ENDPOINTS="cold,month" times only the endpoints whose names hold one of those parts (with
the trivial view and the pages their targets are relative to); everything is still set up.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

WARMUP = 10


def _environment(tmp: Path) -> None:
    # Read by hubsite.settings, so they must be set before django.setup().
    os.environ["PAYLINK_TESTING"] = "true"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["CACHE_URL"] = "locmemcache://"
    # Enqueued work is recorded, not run: the webhook figure is ingest alone, and the task
    # poll is timed without the background status check it may ask for.
    os.environ["PAYLINK_TASKS_BACKEND"] = "django.tasks.backends.dummy.DummyBackend"
    os.environ.setdefault("ATOMIC_ENV", "simulator")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubsite.settings"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "200")), help="default 200"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="time gunicorn on PostgreSQL and Redis instead of this process on SQLite",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/paylink_bench"
        ),
        help=(
            "--server: a PostgreSQL database of the bench's own (createdb it first);"
            " it is flushed on each run"
        ),
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14"),
        help="--server: the Redis cache",
    )
    parser.add_argument("--workers", type=int, default=2, help="--server: gunicorn workers")
    parser.add_argument("--port", type=int, default=8765, help="--server: gunicorn's port")
    parser.add_argument(
        "--concurrency",
        default="1,8,32",
        help="--server: requests in flight for the throughput table, comma-separated",
    )
    parser.add_argument(
        "--repetitions", type=int, default=3, help="--server: of the throughput table"
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=1,
        help="--server: whole seconds each endpoint is driven by wrk at each concurrency",
    )
    parser.add_argument(
        "--atomic-delay-ms",
        type=float,
        default=0.0,
        help="how long the stand-in for Atomic takes to answer a status check (default 0)",
    )
    return parser.parse_args()


def main() -> int:
    arguments = _arguments()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if arguments.server:
        return _server(arguments)
    with tempfile.TemporaryDirectory(prefix="paylink-bench-") as tmp:
        _environment(Path(tmp))
        import django

        django.setup()
        # Per-request log lines and the missing collectstatic folder are noise here.
        logging.disable(logging.WARNING)
        warnings.filterwarnings("ignore", message="No directory at")
        from django.test.utils import override_settings, setup_test_environment

        from bench.run import bench_run

        setup_test_environment()
        with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"]):
            return bench_run(
                rounds=arguments.rounds,
                warmup=WARMUP,
                atomic_delay=arguments.atomic_delay_ms / 1000,
            )


def _server(arguments: argparse.Namespace) -> int:
    import subprocess

    from bench.server import ROOT, server_environment

    # wrk drives the throughput table: installed here if missing, or a sentence and exit 1.
    if subprocess.run([ROOT / "bin" / "ensure-wrk"], check=False).returncode:  # noqa: S603
        return 1

    server_environment(database_url=arguments.database_url, cache_url=arguments.cache_url)
    import django

    django.setup()
    logging.disable(logging.WARNING)
    from bench.server import server_run

    return server_run(
        rounds=arguments.rounds,
        warmup=WARMUP,
        atomic_delay=arguments.atomic_delay_ms / 1000,
        workers=arguments.workers,
        port=arguments.port,
        levels=tuple(int(level) for level in arguments.concurrency.split(",")),
        repetitions=arguments.repetitions,
        seconds=arguments.seconds,
    )


if __name__ == "__main__":
    raise SystemExit(main())
