"""Metric files of processes that are gone are dropped at start; live processes' are kept."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

from paylink.observability.metrics_files import dead_process_files_remove

CONF = Path(__file__).resolve().parents[3] / "gunicorn.conf.py"


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_the_files_of_processes_that_are_gone_are_removed(tmp_path):
    gone = _gone_pid()
    for name in (
        f"counter_{gone}.db",
        f"histogram_{gone}.db",
        f"counter_{os.getpid()}.db",
        "notes.txt",
    ):
        (tmp_path / name).write_bytes(b"")
    assert dead_process_files_remove(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{os.getpid()}.db", "notes.txt"]


def test_gunicorn_prunes_the_folder_the_settings_use_when_it_starts(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("PAYLINK_METRICS_DIR", str(tmp_path))
    (tmp_path / f"counter_{_gone_pid()}.db").write_bytes(b"")
    runpy.run_path(str(CONF))["on_starting"](None)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_nothing_to_prune(tmp_path):
    assert dead_process_files_remove(tmp_path / "absent") == 0
