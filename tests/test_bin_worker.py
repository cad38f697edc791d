"""bin/worker QUEUES starts the database backend's worker on the queues."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def python_that_shows_the_command(tmp_path: Path) -> Path:
    """A `python` that resolves the settings for real but prints any manage.py command."""
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = manage.py ]; then echo "$@"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    return fake


def worker_command(python: Path, queues: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PAYLINK_", "CACHE_URL"))
    }
    return subprocess.run(
        [str(ROOT / "bin" / "worker"), queues],
        env={**clean, "DJANGO_DEBUG": "true", "PYTHON": str(python), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_database_backend_gets_db_worker_on_the_queues(python_that_shows_the_command):
    result = worker_command(python_that_shows_the_command, "webhooks,default")
    assert result.stdout.strip() == "manage.py paylink_db_worker --queue-name webhooks,default"


def test_the_procfile_starts_workers_through_bin_worker():
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procfile["worker"] == "bin/worker webhooks,default"
    assert procfile["worker_atomic"] == "bin/worker atomic"
