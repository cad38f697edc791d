from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest


@pytest.fixture
def person() -> Callable[[str], str]:
    """A fresh identifier for a named person, unique within the shared simulator process."""
    return lambda name: f"{name}-{uuid.uuid4().hex[:10]}"
