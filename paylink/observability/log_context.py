"""The fields every log line of a piece of work carries: the request id, and a webhook's ce-id.

A context variable, so each thread (and each job a worker runs) has its own. A job enqueued
during a request takes the request's fields with it (`job_context_save`, through the cache, as
a job may run on another machine) and its worker puts them back before it runs the job
(`job_context_restore`), so one id follows a webhook into its job and the sync that job asks for.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

logger = logging.getLogger(__name__)

# What a line carries, at most: the request's id, the webhook's ce-id, and the job's id and name.
FIELDS = ("request_id", "ce_id", "job_id", "job")
_context: ContextVar[dict[str, str]] = ContextVar("paylink_log_context", default={})  # noqa: B039

# A request id from the client or a proxy is kept only if it looks like one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
_VALUE_MAX = 200
JOB_CONTEXT_SECONDS = 24 * 3600


def _job_key(job_id: object) -> str:
    return f"paylink:job-log-context:{job_id}"


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a sane id, else a new one."""
    if header and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def current() -> dict[str, str]:
    return dict(_context.get())


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every line logged inside the block carries `fields` (empty values are left out)."""
    added = {
        key: str(value)[:_VALUE_MAX] for key, value in fields.items() if value not in (None, "")
    }
    token = _context.set({**_context.get(), **added})
    try:
        yield
    finally:
        _context.reset(token)


def context_replace(fields: dict[str, str]) -> Token[dict[str, str]]:
    """Make `fields` the whole context of this thread from now on; the token puts back what
    was there before (`context_reset`)."""
    return _context.set({key: value for key, value in fields.items() if key in FIELDS and value})


def context_reset(token: Token[dict[str, str]]) -> None:
    try:
        _context.reset(token)
    except ValueError:  # Set in another thread's context: start this one afresh instead.
        _context.set({})


class ContextFilter(logging.Filter):
    """Puts the context's fields on each record, so formatters can print them."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, fields.get(name, ""))
        return True


def job_context_save(*, job_id: object) -> None:
    """Keep this request's fields for job `job_id`, for its worker to restore."""
    fields = job_row_fields()
    if not fields:
        return
    from django.core.cache import cache

    try:
        cache.set(_job_key(job_id), fields, timeout=JOB_CONTEXT_SECONDS)
    except Exception:  # The job must still run; only its lines lose the request's id.
        logger.warning("log context of job %s not kept: the cache did not answer", job_id)


# Where a job's own row carries its enqueuer's fields (paylink/lib/queued_insert.py writes a
# webhook's job so), in place of the cache.
JOB_ROW_FIELDS = "log"


def job_row_fields() -> dict[str, str]:
    """The fields a job enqueued now takes with it, for a job row that carries them."""
    return {key: value for key, value in _context.get().items() if key in ("request_id", "ce_id")}


# The saved fields of the jobs a worker has just claimed, read together (`job_contexts_fetch`).
_fetched: dict[str, dict[str, str]] = {}


def job_contexts_fetch(
    *, job_ids: list[object], carried: dict[str, dict[str, str]] | None = None
) -> None:
    """Read the saved fields of the jobs a worker is about to run, in one cache round trip,
    for `job_context_restore` to use instead of one read per job. Jobs whose rows carried
    their fields (`carried`, by job id) are not looked for in the cache."""
    from django.core.cache import cache

    carried = carried or {}
    _fetched.clear()
    wanted = [job_id for job_id in job_ids if str(job_id) not in carried]
    found = {}
    if wanted:
        try:
            found = cache.get_many([_job_key(job_id) for job_id in wanted])
        except Exception:
            found = {}
    _fetched.update(
        {
            str(job_id): carried.get(str(job_id)) or found.get(_job_key(job_id)) or {}
            for job_id in job_ids
        }
    )


def job_context_restore(*, job_id: object, job_name: str) -> Token[dict[str, str]]:
    """Start job `job_id` with the fields of the request that enqueued it, if any (a job run
    inline keeps its caller's); the token ends it."""
    from django.core.cache import cache

    fields = _fetched.pop(str(job_id), None)
    if fields is None:
        try:
            fields = cache.get(_job_key(job_id)) or {}
        except Exception:
            fields = {}
    return context_replace({**_context.get(), **fields, "job_id": str(job_id), "job": job_name})
