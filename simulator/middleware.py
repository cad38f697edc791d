"""The simulator's own middleware: JSON for every uncaught error, and the background threads
started with the first request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from simulator.api import error_response, server_error_view
from simulator.startup import engine_start

logger = logging.getLogger(__name__)


class JsonErrorMiddleware:
    """Any uncaught exception becomes a JSON 500, even with DEBUG on: no HTML error pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        match exception:
            case RequestDataTooBig():
                return error_response(413, "The request body is too large.")
            case SuspiciousOperation():
                return error_response(400, "The request was unacceptable.")
            case Http404():
                return error_response(404, "Not found.")
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return server_error_view(request)


class EngineStartMiddleware:
    """Starts the background threads with the first request (never during `migrate`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        engine_start()
        return self.get_response(request)
