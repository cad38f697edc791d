"""Start-up configuration: a missing secret stops the host with a sentence naming it."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from paylink.apps import local_folders_make
from paylink.observability.metrics_files import metrics_folder_make
from tests.fresh_process import python_run, settings_run


def start_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with only `env` configured."""
    return settings_run("s.ATOMIC_API_URL", **env)


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


def test_it_names_the_allowed_values_of_a_bad_accounts_api():
    result = start_settings(DJANGO_DEBUG="true", ATOMIC_ACCOUNTS_API="v3")
    assert result.returncode != 0
    assert "ATOMIC_ACCOUNTS_API is 'v3'; it must be one of: v1, v2, auto." in result.stderr


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


@pytest.mark.skipif(
    not os.environ.get("PUBLISHED_SDK_PATH"),
    reason="PUBLISHED_SDK_PATH is not set (the published-SDK check)",
)
def test_the_published_sdk_file_is_the_one_the_host_pins_for_sandbox_and_production():
    """CI fetches Atomic's published SDK (see tests/simulator/browser/test_published_sdk.py);
    the digest the host's pages demand of it must be that file's."""
    from hubsite.settings import _PUBLISHED_SDK_INTEGRITY

    digest = hashlib.sha384(Path(os.environ["PUBLISHED_SDK_PATH"]).read_bytes()).digest()
    assert f"sha384-{base64.b64encode(digest).decode()}" == _PUBLISHED_SDK_INTEGRITY


def test_each_atomic_setting_can_be_set_on_its_own():
    result = start_settings(DJANGO_DEBUG="true", ATOMIC_API_URL="http://127.0.0.1:9999/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:9999"


def database_options(**env: str) -> str:
    d = "s.DATABASES['default']"
    result = settings_run(
        f"{d}['CONN_MAX_AGE'], {d}['CONN_HEALTH_CHECKS'], {d}.get('OPTIONS', {{}}).get('pool'), "
        f"{d}.get('DISABLE_SERVER_SIDE_CURSORS', False)",
        DJANGO_DEBUG="true",
        **env,
    )
    return (result.stdout + result.stderr).strip()


POSTGRES = "postgres://root@127.0.0.1:5432/paylink"


def test_postgres_keeps_connections_a_minute_and_checks_them_by_default():
    assert database_options(DATABASE_URL=POSTGRES) == "60 True None False"


def test_a_pool_size_turns_on_djangos_psycopg_pool():
    options = database_options(DATABASE_URL=POSTGRES, DATABASE_POOL_MAX_SIZE="8")
    assert options == "0 True {'min_size': 2, 'max_size': 8, 'timeout': 10.0} False"


def test_behind_pgbouncer_there_are_no_persistent_connections_or_server_side_cursors():
    assert database_options(DATABASE_URL=POSTGRES, DATABASE_PGBOUNCER="true") == "0 True None True"


def test_a_pool_behind_pgbouncer_is_refused_with_a_sentence():
    options = database_options(
        DATABASE_URL=POSTGRES, DATABASE_POOL_MAX_SIZE="8", DATABASE_PGBOUNCER="true"
    )
    assert "Set DATABASE_POOL_MAX_SIZE or DATABASE_PGBOUNCER, not both" in options


_NO_FOLDERS = """
import os, pathlib
made = []
pathlib.Path.mkdir = lambda self, *a, **k: made.append(str(self))
os.makedirs = lambda name, *a, **k: made.append(str(name))
import hubsite.settings, simulator.settings
print(made)
"""


def test_importing_either_settings_module_makes_no_folder():
    result = python_run("-c", _NO_FOLDERS, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_start_up_makes_the_folders_of_local_state(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "var" / "staticfiles"
    local_folders_make(settings)
    assert settings.STATIC_ROOT.is_dir()


def test_the_first_process_to_count_makes_the_metrics_folder(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    metrics_folder_make()
    assert folder.is_dir()


def test_the_tests_collect_into_a_folder_of_their_own(settings):
    # What a release step or `python -m bench --server` collected into var/staticfiles (725
    # files) would otherwise be scanned by WhiteNoise for every test client, tripling some files'
    # run time.
    assert settings.STATIC_ROOT == settings.BASE_DIR / "var" / "test-staticfiles"
