"""The multiprocess metric files of processes that are gone: removed when gunicorn starts.

Each process writes `<kind>_<pid>.db` into PROMETHEUS_MULTIPROC_DIR, and /metrics adds up every
file there. Files of processes that ended before this start (the last deploy's) are dropped, so
counters start again from zero with the new processes, as Prometheus expects of a restart;
files of live processes (a worker started a moment before gunicorn) are kept. No Django here:
gunicorn's master reads this before any app is loaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_FILE = re.compile(r"^[a-z_]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Someone else's process: alive.
        return True
    return True


def metrics_folder_make() -> None:
    """Make PROMETHEUS_MULTIPROC_DIR if it is set and missing: the first process to count (or
    to read the counts) makes it, not whoever imports the settings."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)


def dead_process_files_remove(directory: str | os.PathLike[str]) -> int:
    """Delete the metric files in `directory` whose process is not running; how many went."""
    removed = 0
    folder = Path(directory)
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        match = _FILE.match(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
