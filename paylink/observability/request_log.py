"""One structured log line per request, and its latency by route.

The line names the route (its URL name), never the path, which may hold a token; the person as a
keyed hash of their user id, never their name. The request id (the caller's X-Request-ID when it
is sane, else a new one) is on every line the request writes, on the jobs it enqueues
(`log_context`), and in the answer's X-Request-ID header. A webhook's ce-id is added to them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from paylink.observability import metrics
from paylink.observability.log_context import log_context, request_id_from

logger = logging.getLogger("paylink.request")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The route whose requests carry Atomic's ce-id header.
WEBHOOK_PATH = "/webhooks/atomic/"


def user_hash(user_id: object) -> str:
    """A short keyed hash of a user id: the same person reads the same in every line, and the
    id cannot be recovered from it without the secret key."""
    return _user_hash(settings.SECRET_KEY, str(user_id))


@functools.lru_cache(maxsize=4096)
def _user_hash(secret: str, user_id: str) -> str:
    # Kept: the same people make request after request.
    digest = hmac.new(secret.encode(), f"user:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def _user(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user_hash(user.pk)


def route_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match else "") or "unrouted"


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        ce_id = request.headers.get("ce-id", "") if request.path_info == WEBHOOK_PATH else ""
        started = time.monotonic()
        with log_context(request_id=request_id, ce_id=ce_id[:200]):
            response = self.get_response(request)
            seconds = time.monotonic() - started
            route = route_name(request)
            method = request.method if request.method in _METHODS else "other"
            metrics.request_observed(
                route=route, method=method, status=response.status_code, seconds=seconds
            )
            # A warning, not an error: the exception itself is reported once, by Django and Sentry.
            level = logging.WARNING if response.status_code >= 500 else logging.INFO
            if logger.isEnabledFor(level):
                # Made and handled as logger.log would, less its walk up the stack for the
                # caller's file and line: always this one.
                record = logger.makeRecord(
                    logger.name,
                    level,
                    __file__,
                    0,
                    "%s %s %s in %.0f ms",
                    (method, route, response.status_code, seconds * 1000),
                    None,
                    extra={
                        "method": method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": round(seconds * 1000, 1),
                        "user": _user(request),
                    },
                )
                logger.handle(record)
        response["X-Request-ID"] = request_id
        return response
