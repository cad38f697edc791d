"""Atomic's JSON as the suite keeps it, under tests/fixtures/, and the one way to read it.

- `accounts/`: answers of GET /accounts, one per shape the host meets (`accounts/hulu` is Hulu's
  account as Atomic's documentation shows it, the suite's one copy);
- `atomic/`: answers of the other endpoints (access token, task status and details, user tasks);
- `webhooks/`: webhook bodies, Atomic's published ones under `webhooks/published/`;
- `simulator/`: the published examples the simulator's answers are held to, key by key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def atomic_json(name: str) -> Any:
    """tests/fixtures/<name>.json, parsed anew on every call, so a test may change its copy."""
    return json.loads((FIXTURES / f"{name}.json").read_text())
