"""The host's settings and commands in a process of their own, configured only by what a test
gives: start-up checks, settings read from the environment and release steps are what a real
deployment runs, so they are tested the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What configures the host: a fresh process inherits none of the test run's own values.
_HOST_VARIABLES = ("DJANGO_", "ATOMIC_", "PAYLINK_", "CACHE_URL", "THROTTLE_", "DATABASE_")


def environment(**env: str) -> dict[str, str]:
    """This machine's environment without the host's variables, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_VARIABLES)}
    return clean | env


def python_run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in the project folder with `environment(**env)`; never raises on failure."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return python_run("manage.py", *args, **env)


def settings_run(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings with `env` alone and print `expression` (`s` is the module)."""
    return python_run("-c", f"import hubsite.settings as s; print({expression})", **env)


def settings_value(expression: str, **env: str) -> str:
    """`settings_run`'s output, the settings having loaded without error."""
    result = settings_run(expression, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
