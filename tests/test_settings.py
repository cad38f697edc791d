"""Start-up configuration: a missing secret stops the host with a sentence naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with only `env` configured."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ATOMIC_", "PAYLINK_"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import hubsite.settings as s; print(s.ATOMIC_API_URL)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key_outside_debug():
    result = start_settings(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("missing", ["ATOMIC_API_KEY", "ATOMIC_API_SECRET"])
def test_it_refuses_to_start_against_the_sandbox_without_credentials(missing):
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "x" * 50,
        "ATOMIC_ENV": "sandbox",
        "ATOMIC_API_KEY": "key",
        "ATOMIC_API_SECRET": "secret",
    }
    del env[missing]
    result = start_settings(**env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_it_names_the_allowed_values_of_a_bad_atomic_env():
    result = start_settings(DJANGO_DEBUG="true", ATOMIC_ENV="staging")
    assert result.returncode != 0
    assert (
        "ATOMIC_ENV is 'staging'; it must be one of: simulator, sandbox, production"
        in result.stderr
    )


def test_the_sandbox_defaults_point_at_atomics_sandbox():
    result = start_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 50,
        ATOMIC_ENV="sandbox",
        ATOMIC_API_KEY="key",
        ATOMIC_API_SECRET="secret",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://sandbox-api.atomicfi.com"


def test_each_atomic_setting_can_be_set_on_its_own():
    result = start_settings(DJANGO_DEBUG="true", ATOMIC_API_URL="http://127.0.0.1:9999/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:9999"
