"""Log lines: one JSON object a line in production, plain readable lines in development.

Every line carries the context's fields (request id, ce-id, job) and passes through the one
scrubbing rule (`scrub.text_scrubbed`), so no secret or whole account number is written
whichever logger wrote it. Lines about a request from Django's own loggers name the route,
never the raw path (which may hold a calendar or password-reset token).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from paylink.observability.log_context import FIELDS
from paylink.observability.scrub import text_scrubbed, value_scrubbed

# The request line's own fields (paylink.observability.request_log), printed when present.
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "user")


def _message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)
    if path and isinstance(path, str) and path in message:
        match = getattr(request, "resolver_match", None)
        message = message.replace(path, f"<{match.view_name if match else 'unrouted'}>")
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context and request fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": text_scrubbed(_message(record)),
        }
        for name in (*FIELDS, *REQUEST_FIELDS):
            value = getattr(record, name, "")
            if value not in ("", None):
                line[name] = value_scrubbed(value)
        if record.exc_info:
            line["error"] = text_scrubbed(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message`, for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [getattr(record, name, "") for name in ("request_id", "ce_id", "job")]
        record.context = f" [{' '.join(i for i in ids if i)}]" if any(ids) else ""
        saved = record.msg, record.args
        record.msg, record.args = text_scrubbed(_message(record)), None
        try:
            formatted = super().format(record)
        finally:
            record.msg, record.args = saved
        return text_scrubbed(formatted) if record.exc_info else formatted


def logging_config(*, style: str, level: str) -> dict[str, Any]:
    """Django's LOGGING for `style` "json" or "plain"."""
    formatter = "json" if style == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "paylink.observability.log_context.ContextFilter"}},
        "formatters": {
            "json": {"()": "paylink.observability.logs.JsonFormatter"},
            "plain": {"()": "paylink.observability.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The scheduler would log each run of its 5-second lock refresh.
            "apscheduler.executors.default": {"level": "WARNING"},
        },
    }
