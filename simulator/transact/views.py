"""The Transact page the SDK frames, and the SDK script for simulator mode."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from simulator.errors import SimulatorError
from simulator.models import choice
from simulator.transact.config import config_decode

# The page runs only its own script and calls only its own origin; any site may frame it,
# as Atomic's Transact is framed by every integrator.
_PAGE_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors *",
    ]
)


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    context = {
        "task_poll_ms": max(50, settings.SIMULATOR_TRANSACT_POLL_MS),
        "close_reason": choice("close_reason"),
        **context,
    }
    response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = _PAGE_CSP
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def initialize_view(request: HttpRequest, config: str) -> HttpResponse:
    """`/initialize/{base64 config}#hId=...`: the Transact app, or an error screen (400)."""
    try:
        parsed = config_decode(config)
    except SimulatorError as exc:
        context = {"message": exc.message}
        return _page(request, "simulator/transact/error.html", context, status=exc.status)
    return _page(request, "simulator/transact/app.html", {"config": parsed.for_page()})


@cache
def _sdk_source_cached() -> bytes:
    return Path(settings.SIMULATOR_SDK_FILE).read_bytes()


def _sdk_source() -> bytes:
    # Re-read on every request while developing, so an edit shows without a restart.
    if settings.DEBUG:
        return Path(settings.SIMULATOR_SDK_FILE).read_bytes()
    return _sdk_source_cached()


@require_safe
@cache_control(public=True, max_age=300)
def sdk_view(request: HttpRequest) -> HttpResponse:
    """The SDK's browser side for pages that use the simulator (ours, or the published file)."""
    response = HttpResponse(_sdk_source(), content_type="text/javascript; charset=utf-8")
    # Integrators may load it with crossorigin/SRI from their own origin.
    response["Access-Control-Allow-Origin"] = "*"
    return response
