"""Loaded with `-p tests.testenv` before Django's settings are read: the test environment."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ["PAYLINK_TESTING"] = "true"
os.environ.setdefault("ATOMIC_ENV", "simulator")
# Tasks run inline in tests; the database backend and its worker are exercised on their own.
os.environ.setdefault("PAYLINK_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
# A per-process cache keeps tests independent of each other's throttles.
os.environ.setdefault("CACHE_URL", "locmemcache://")
# Playwright drives the machine's Chromium; it never downloads a browser.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
# Live servers and the browser run on this machine; keep proxies out of loopback traffic.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# Playwright's sync API runs an event loop in the test thread; the ORM calls in those tests are
# still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# One SQLite test database per run (and, through pytest-django's suffix, per xdist worker), so
# two runs in one checkout never share a file. xdist workers inherit the controller's folder.
if "PAYLINK_TEST_SQLITE_DIR" not in os.environ:
    os.environ["PAYLINK_TEST_SQLITE_DIR"] = tempfile.mkdtemp(prefix="hub-tests-")
    atexit.register(shutil.rmtree, os.environ["PAYLINK_TEST_SQLITE_DIR"], ignore_errors=True)
# Each run's processes count their metrics into a folder of their own (prometheus-client's
# multiprocess files), never the checkout's var/metrics.
if "PAYLINK_METRICS_DIR" not in os.environ:
    os.environ["PAYLINK_METRICS_DIR"] = tempfile.mkdtemp(prefix="hub-metrics-")
    atexit.register(shutil.rmtree, os.environ["PAYLINK_METRICS_DIR"], ignore_errors=True)
# `PUBLISHED_SDK_PATH=.../index.js make test`: the simulator serves Atomic's published SDK in place
# of ours, so every browser test runs against Atomic's own script.
_published_sdk = os.environ.get("PUBLISHED_SDK_PATH", "")
if _published_sdk:
    if not Path(_published_sdk).is_file():
        sys.exit(
            f"PUBLISHED_SDK_PATH is {_published_sdk!r}, which is not a file: point it at index.js "
            "of @atomicfi/transact-javascript (npm pack it in a scratch folder), or unset it."
        )
    os.environ["SIMULATOR_SDK_FILE"] = str(Path(_published_sdk).resolve())
