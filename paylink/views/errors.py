"""The host's answer to an unhandled error: a page (or JSON) with a sentence, never a bare 500.

Neither page touches the database or the cache: both may be what failed. An outage (the
database or Redis unreachable, paylink/lib/outage.py) answers 503 with Retry-After; anything else
500. The language is the one the request was being served in (LocaleMiddleware activated it).
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from paylink.lib.outage import RETRY_AFTER, UNAVAILABLE, is_outage

SERVER_ERROR = _(
    "Billfold could not finish this request. Nothing you saved was lost. Please try "
    "again in a moment."
)


def _stylesheet() -> str:
    # Without collectstatic's manifest the address cannot be had; the page reads fine without.
    try:
        return static("paylink/css/base.css")
    except ValueError:
        return ""


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.content_type == "application/json"


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called while the exception is being handled, so it can tell which it was."""
    outage = is_outage(sys.exception())
    status = 503 if outage else 500
    sentence = str(UNAVAILABLE if outage else SERVER_ERROR)
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"error": sentence, "retryable": True}, status=status)
    else:
        template = loader.get_template("503.html" if outage else "500.html")
        context = {"sentence": sentence, "stylesheet": _stylesheet()}
        response = HttpResponse(template.render(context), status=status)
    if outage:
        response["Retry-After"] = str(RETRY_AFTER)
    return response
