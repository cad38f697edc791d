"""The host's only HTTP speaker: Atomic's server API.

One `requests.Session` per configuration, with default (connect, read) timeouts so no call can
hang, and urllib3 retries on connection errors and on 429/502/503/504 only. Every failure comes
out as one `AtomicError` whose message is safe to show and log: it never carries the API key,
the secret, a publicToken or a response body.

Calls made while a person waits run under `deadline(seconds)`: together they get that long,
retries and Retry-After waits included, so a slow Atomic cannot hold a web worker for the
tens of seconds a background sync may spend.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from paylink.atomic_values import fail_reason
from paylink.lib.vendor_json import flag, text, when
from paylink.observability.metrics import atomic_call

logger = logging.getLogger(__name__)

# Status codes worth a second try: Atomic (or its edge) is busy or briefly away.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Every verb used here may be retried. PUT /user and end-monitoring are idempotent upserts;
# a retried POST /access-token at worst mints a second token for the same identifier, which
# is harmless: it expires on its own and grants nothing the first did not.
RETRY_METHODS = frozenset({"GET", "POST", "PUT"})
RETRY_TOTAL = 2
RETRY_BACKOFF = 0.2
# Atomic's messages are short; anything longer is cut so a log line stays a line.
MESSAGE_MAX = 200
# Under a deadline, a retry is only worth starting with at least this long left to answer.
DEADLINE_MARGIN = 0.5


class AtomicError(Exception):
    """Atomic could not answer as asked.

    `status` is the HTTP status (None when no answer came), `code` Atomic's numeric code if it
    sent one, and `retryable` whether the same call could succeed later (5xx, 429, timeouts,
    connection errors, garbled answers) or never will as sent (other 4xx).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.code = code

    def __str__(self) -> str:
        return self.message


# When (time.monotonic()) the calls of the current request must be done; None outside one.
# A context variable, so each thread (and task) of a web worker has its own.
_deadline: ContextVar[float | None] = ContextVar("atomic_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every call to Atomic inside the block, retries and waits included, ends within `seconds`
    of entering it; one that cannot raises a retryable AtomicError ("did not answer in time").
    A deadline already in force and sooner is kept."""
    until = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(until if current is None else min(current, until))
    try:
        yield
    finally:
        _deadline.reset(token)


class AtomicDeadlineMiddleware:
    """Calls to Atomic made while a request is served share ATOMIC_REQUEST_DEADLINE_SECONDS,
    so a slow Atomic costs a person a few seconds and a sentence, never a stuck worker."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with deadline(settings.ATOMIC_REQUEST_DEADLINE_SECONDS):
            return self.get_response(request)


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _request_slots() -> threading.BoundedSemaphore | None:
    """How many calls made inside web requests may wait on Atomic at once in this process
    (ATOMIC_REQUEST_CONCURRENCY; 0 for no limit), so a slow Atomic cannot take every thread."""
    size = int(settings.ATOMIC_REQUEST_CONCURRENCY)
    if size <= 0:
        return None
    with _slots_lock:
        if size not in _slots:
            _slots[size] = threading.BoundedSemaphore(size)
        return _slots[size]


def _seconds_left() -> float | None:
    until = _deadline.get()
    return None if until is None else until - time.monotonic()


class _DeadlineTimeout(Timeout):
    """A (connect, read) timeout that never reaches past the deadline: urllib3 clones it for
    each attempt, and each clone gets only the time then left as its total."""

    def __init__(self, *, until: float, connect: float, read: float) -> None:
        # A timeout must be positive; an expired deadline gets the smallest, which times out.
        super().__init__(connect=connect, read=read, total=max(until - time.monotonic(), 0.001))
        self.until = until
        self.connect_seconds = connect
        self.read_seconds = read

    def clone(self) -> _DeadlineTimeout:
        return _DeadlineTimeout(
            until=self.until, connect=self.connect_seconds, read=self.read_seconds
        )


class _CappedRetry(Retry):
    """urllib3's Retry, except that it gives up instead of waiting longer than allowed.

    A 429 asking for a longer wait than `retry_after_max` gives up (urllib3 would clamp the
    wait and still retry); under a deadline, so does any retry whose wait would pass it. The
    answer in hand goes back to the caller as a retryable AtomicError.
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        wait = None
        if response is not None and response.status == 429:
            wait = _retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.retry_after_max:
                # With raise_on_status off, urllib3 hands the 429 itself back to us.
                reason = ResponseError("Retry-After too long")
                raise MaxRetryError(_pool, url, reason)  # type: ignore[arg-type]  # may be None, as in urllib3
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        left = _seconds_left()
        if left is not None:
            # The next attempt needs its wait plus some time to answer; without both, stop now.
            wait = wait if wait is not None else retry.get_backoff_time()
            if wait + DEADLINE_MARGIN >= left:
                reason = ResponseError("deadline reached")
                raise MaxRetryError(_pool, url, reason)  # type: ignore[arg-type]  # may be None, as in urllib3
        return retry


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return Retry(retry_after_max=sys.maxsize).parse_retry_after(value)
    except InvalidHeader:
        return None


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request the configured (connect, read) timeout unless it brings its own."""

    def __init__(self, *, timeout: tuple[float, float], **kwargs: Any) -> None:
        self.default_timeout = timeout
        super().__init__(**kwargs)

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        # A (connect, read) pair, or urllib3's Timeout under a deadline (requests passes it on).
        timeout: Any = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=self.default_timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


class AtomicSession(requests.Session):
    def __init__(self, *, timeout: tuple[float, float], max_retry_after: float) -> None:
        super().__init__()
        retry = _CappedRetry(
            total=RETRY_TOTAL,
            connect=RETRY_TOTAL,
            # A read that timed out or broke may have reached Atomic; waiting twice as long
            # helps nobody, so read errors go straight back to the caller.
            read=False,
            status=RETRY_TOTAL,
            other=0,
            redirect=False,
            allowed_methods=RETRY_METHODS,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=RETRY_BACKOFF,
            respect_retry_after_header=True,
            retry_after_max=max_retry_after,  # type: ignore[arg-type]  # typed int; a float works
            raise_on_status=False,
        )
        adapter = _TimeoutAdapter(timeout=timeout, max_retries=retry)
        self.mount("https://", adapter)
        self.mount("http://", adapter)


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskStatusReport:
    status: str
    fail_reason: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class TaskDetails:
    id: str
    status: str
    fail_reason: str | None
    authenticated: bool | None
    company_id: str | None
    company_name: str | None
    product: str | None
    identifier: str | None
    created_at: datetime | None
    updated_at: datetime | None
    metadata: dict[str, Any]


@dataclass(frozen=True)
class TaskSummary:
    id: str
    status: str
    fail_reason: str | None
    authenticated: bool | None
    product: str | None
    company_id: str | None
    company_name: str | None
    created_at: datetime | None


def _opt(value: object) -> str | None:
    return text(value) or None


def _company(value: object) -> tuple[str | None, str | None]:
    if isinstance(value, dict):
        return _opt(value.get("_id")), _opt(value.get("name"))
    return None, None


def _malformed(what: str, status: int) -> AtomicError:
    return AtomicError(f"Atomic sent a malformed answer ({what}).", status=status, retryable=True)


def _unwrap_task(payload: dict[str, Any]) -> dict[str, Any]:
    """The task object, whether Atomic sent it bare or inside `data.task`."""
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get("task"), dict):
        return data["task"]
    return payload


_NOT_JSON = object()


# --- The client ------------------------------------------------------------------------------


class AtomicClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        api_secret: str,
        session: requests.Session,
        timeout: tuple[float, float] = (3.05, 10.0),
        accounts_api: str = "v1",
    ):
        self.base_url = base_url.rstrip("/")
        self.accounts_api = accounts_api
        self._headers = {"x-api-key": api_key, "x-api-secret": api_secret}
        self.session = session
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One request; the parsed JSON answer (None for an empty 2xx), or AtomicError."""
        until = _deadline.get()
        if until is None:
            return self._exchange(
                method, path, json=json, params=params, headers=headers, timeout=None
            )
        if until <= time.monotonic():
            logger.warning("atomic %s %s not sent: the request's deadline has passed", method, path)
            raise AtomicError(f"Atomic did not answer {method} {path} in time.", retryable=True)
        slots = _request_slots()
        if slots is not None and not slots.acquire(blocking=False):
            # Enough of this process's threads already wait on Atomic; the rest serve pages.
            logger.warning("atomic %s %s not sent: too many calls already waiting", method, path)
            raise AtomicError(f"Atomic is busy; {method} {path} was not sent.", retryable=True)
        try:
            connect, read = self.timeout
            timeout = _DeadlineTimeout(until=until, connect=connect, read=read)
            return self._exchange(
                method, path, json=json, params=params, headers=headers, timeout=timeout
            )
        finally:
            if slots is not None:
                slots.release()

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Any,
        headers: dict[str, str] | None,
        timeout: Timeout | None,
    ) -> Any:
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=json,
                params=params,
                headers={**self._headers, "accept": "application/json", **(headers or {})},
                timeout=timeout,  # type: ignore[arg-type]  # requests passes urllib3's Timeout on
            )
        except requests.Timeout:
            logger.warning("atomic %s %s timed out", method, path)
            raise AtomicError(
                f"Atomic did not answer {method} {path} in time.", retryable=True
            ) from None
        except requests.RequestException as exc:
            logger.warning("atomic %s %s failed: %s", method, path, type(exc).__name__)
            raise AtomicError(
                f"Could not reach Atomic for {method} {path}.", retryable=True
            ) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        logger.info("atomic %s %s -> %s in %.0f ms", method, path, status, elapsed_ms)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = _NOT_JSON
        if status >= 400:
            raise self._error(method, path, status, body)
        if body is _NOT_JSON:
            raise _malformed("not JSON", status)
        return body

    @staticmethod
    def _error(method: str, path: str, status: int, body: Any) -> AtomicError:
        message, code = None, None
        if isinstance(body, dict):
            message = _opt(body.get("message"))
            raw_code = body.get("code")
            code = (
                raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
            )
        text = f"Atomic answered {status} to {method} {path}"
        if message:
            text += f": {message[:MESSAGE_MAX]}"
        retryable = status >= 500 or status == 429
        return AtomicError(text + ".", status=status, retryable=retryable, code=code)

    # --- Endpoints (one method each) ---------------------------------------------------------

    @atomic_call
    def access_token_create(self, *, identifier: str, token_lifetime: int | None = None) -> str:
        """POST /access-token: a publicToken for the Atomic user `identifier`."""
        body: dict[str, Any] = {"identifier": identifier}
        if token_lifetime is not None:
            body["tokenLifetime"] = token_lifetime
        payload = self._call("POST", "/access-token", json=body)
        data = payload.get("data") if isinstance(payload, dict) else None
        # The deprecated top-level `token` is ignored on purpose: publicToken is the contract.
        token = _opt(data.get("publicToken")) if isinstance(data, dict) else None
        if token is None:
            raise _malformed("no publicToken", 200)
        return token

    @atomic_call
    def accounts_get(self, *, identifier: str) -> dict[str, Any]:
        """The user's PayLink accounts: the raw payload, checked to hold an accounts list.

        By `ATOMIC_ACCOUNTS_API`: `v1` asks the seed's `GET /{identifier}/pay-link/accounts`,
        `v2` the newer guides' `GET /pay-link/accounts` (`x-api-version: v2`), and `auto` the
        seed's route first and the v2 one when that answers 404. A payload wrapped in `data`
        is unwrapped, so what comes back always has `accounts` at the top. Parsing into typed
        accounts is `paylink.payloads`' job; this only guards the shape.
        """
        match self.accounts_api:
            case "v2":
                return self.accounts_v2_get(identifier=identifier)
            case "auto":
                try:
                    return self.accounts_v1_get(identifier=identifier)
                except AtomicError as error:
                    if error.status != 404:
                        raise
                    logger.info("atomic accounts: the seed's route answered 404; asking v2")
                    return self.accounts_v2_get(identifier=identifier)
        return self.accounts_v1_get(identifier=identifier)

    def accounts_v1_get(self, *, identifier: str) -> dict[str, Any]:
        """GET /{identifier}/pay-link/accounts, the seed's route."""
        payload = self._call("GET", f"/{_segment(identifier)}/pay-link/accounts")
        return _accounts_payload(payload)

    def accounts_v2_get(self, *, identifier: str) -> dict[str, Any]:
        """GET /pay-link/accounts?identifier= with `x-api-version: v2`, the newer guides' route
        (the identifier as a query parameter is our convention: Atomic's pages do not show it)."""
        payload = self._call(
            "GET",
            "/pay-link/accounts",
            params={"identifier": identifier},
            headers={"x-api-version": "v2"},
        )
        return _accounts_payload(payload)

    @atomic_call
    def task_status_get(self, *, task_id: str) -> TaskStatusReport:
        """GET /task/{id}/status: the lightweight status, bare or wrapped in `data.task`."""
        payload = self._call("GET", f"/task/{_segment(task_id)}/status")
        task = _unwrap_task(payload) if isinstance(payload, dict) else {}
        status = _opt(task.get("status"))
        if status is None:
            raise _malformed("no task status", 200)
        return TaskStatusReport(
            status=status,
            fail_reason=fail_reason(task) or None,
            created_at=when(task.get("createdAt")),
        )

    @atomic_call
    def task_details_get(self, *, task_id: str) -> TaskDetails:
        """GET /task/{id}/details: the full task record."""
        payload = self._call("GET", f"/task/{_segment(task_id)}/details")
        task = _unwrap_task(payload) if isinstance(payload, dict) else {}
        status = _opt(task.get("status"))
        if status is None:
            raise _malformed("no task status", 200)
        company_id, company_name = _company(task.get("company"))
        user = task.get("user")
        metadata = task.get("metadata")
        return TaskDetails(
            id=_opt(task.get("_id")) or task_id,
            status=status,
            fail_reason=fail_reason(task) or None,
            authenticated=flag(task.get("authenticated")),
            company_id=company_id,
            company_name=company_name,
            product=_opt(task.get("product")),
            identifier=_opt(user.get("identifier")) if isinstance(user, dict) else None,
            created_at=when(task.get("createdAt")),
            updated_at=when(task.get("updatedAt")),
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    @atomic_call
    def user_tasks_list(self, *, identifier: str, status: str | None = None) -> list[TaskSummary]:
        """GET /user/{identifier}/tasks: the user's tasks; entries without an id are skipped."""
        params = {"status": status} if status else None
        payload = self._call("GET", f"/user/{_segment(identifier)}/tasks", params=params)
        data = payload.get("data") if isinstance(payload, dict) else None
        tasks = data.get("tasks") if isinstance(data, dict) else None
        if not isinstance(tasks, list):
            raise _malformed("no tasks list", 200)
        summaries = []
        for item in tasks:
            if not isinstance(item, dict) or not _opt(item.get("_id")):
                continue
            company_id, company_name = _company(item.get("company"))
            summaries.append(
                TaskSummary(
                    id=item["_id"],
                    status=_opt(item.get("status")) or "",
                    fail_reason=fail_reason(item) or None,
                    authenticated=flag(item.get("authenticated")),
                    product=_opt(item.get("product")),
                    company_id=company_id,
                    company_name=company_name,
                    created_at=when(item.get("createdAt")),
                )
            )
        return summaries

    @atomic_call
    def user_update(self, *, identifier: str, data: dict[str, Any]) -> None:
        """PUT /user: upsert data on the user, the server's answer to onDataRequest."""
        self._call("PUT", "/user", json={"identifier": identifier, "data": data})

    @atomic_call
    def user_end_monitoring(self, *, identifier: str) -> None:
        """PUT /user/{identifier}/end-monitoring: stop continuous monitoring of the user."""
        self._call("PUT", f"/user/{_segment(identifier)}/end-monitoring")


def _accounts_payload(payload: Any) -> dict[str, Any]:
    wrapped = isinstance(payload, dict) and "accounts" not in payload
    if wrapped and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    if not isinstance(payload, dict) or not isinstance(payload.get("accounts"), list):
        raise _malformed("no accounts list", 200)
    return payload


def _segment(value: str) -> str:
    """One path segment: slashes, dots and the rest are escaped so an id cannot move the path."""
    if value in {"", ".", ".."}:
        raise AtomicError("An empty or relative id cannot name an Atomic resource.")
    return quote(value, safe="")


_sessions: dict[tuple[float, float, float], AtomicSession] = {}


def atomic_client() -> AtomicClient:
    """A client built from the current settings (read now, so overrides apply)."""
    timeout = (float(settings.ATOMIC_CONNECT_TIMEOUT), float(settings.ATOMIC_READ_TIMEOUT))
    cap = float(settings.ATOMIC_MAX_RETRY_AFTER)
    # A session keeps connections alive between calls; one per configuration per process.
    key = (*timeout, cap)
    session = _sessions.get(key)
    if session is None:
        session = _sessions[key] = AtomicSession(timeout=timeout, max_retry_after=cap)
    return AtomicClient(
        base_url=settings.ATOMIC_API_URL,
        api_key=settings.ATOMIC_API_KEY,
        api_secret=settings.ATOMIC_API_SECRET,
        session=session,
        timeout=timeout,
        accounts_api=settings.ATOMIC_ACCOUNTS_API,
    )
