"""Times the hot pages side by side, interleaved, against a throwaway SQLite database.

Prints the median of each, its ratio to a trivial login-required view, dashboard/hub, and
the dashboard's SQL query count for 1 and 50 accounts. Endpoints that are missing are
reported as not available instead of stopping the run.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
WARMUP = 10


def _environment(tmp: Path) -> None:
    # Read by hubsite.settings, so they must be set before django.setup().
    os.environ["PAYLINK_TESTING"] = "true"
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["CACHE_URL"] = "locmemcache://"
    os.environ["PAYLINK_TASKS_BACKEND"] = "django.tasks.backends.immediate.ImmediateBackend"
    os.environ.setdefault("ATOMIC_ENV", "simulator")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hubsite.settings"


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
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
            return bench_run(rounds=ROUNDS, warmup=WARMUP)


if __name__ == "__main__":
    raise SystemExit(main())
