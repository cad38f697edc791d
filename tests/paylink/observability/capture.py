"""Every log line the host writes during a test, as its handler would format it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from paylink.observability.log_context import ContextFilter
from paylink.observability.logs import JsonFormatter, PlainFormatter


class Lines:
    def __init__(self) -> None:
        self.json = io.StringIO()
        self.plain = io.StringIO()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.json.getvalue().splitlines() if line]

    def text(self) -> str:
        return self.json.getvalue() + self.plain.getvalue()


@contextmanager
def log_lines(level: int = logging.INFO) -> Iterator[Lines]:
    """The root logger's lines in both formats while the block runs."""
    lines = Lines()
    handlers = []
    for stream, formatter in ((lines.json, JsonFormatter()), (lines.plain, PlainFormatter())):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())
        handler.setLevel(level)
        handlers.append(handler)
    root = logging.getLogger()
    saved = root.level
    root.setLevel(level)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield lines
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(saved)
