"""POST /webhooks/atomic/: Atomic's signed webhooks. `webhook_receive` decides; this view reads
the body within bounds and maps the outcome to a status code.

The signature comes first: a request without a readable one is refused before a byte of its
body is read. A signed body (up to PAYLINK_WEBHOOK_MAX_BYTES, a few megabytes: Atomic may send a
user's accounts in one) is read in chunks, never more than the cap plus one chunk.

`WebhookMiddleware` hands the request to the view early, past the middleware only pages need."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import ResolverMatch, URLResolver, get_resolver, get_urlconf
from django.views.decorators.csrf import csrf_exempt

from paylink.lib.request_body import (
    body_declared_length,
    body_declared_too_large,
    body_length_unreadable,
    body_read,
)
from paylink.observability.metrics import webhook_stage
from paylink.observability.request_log import WEBHOOK_PATH
from paylink.services.webhooks import (
    SIGNATURE_HEADER,
    WebhookOutcome,
    webhook_receive,
    webhook_refuse,
    webhook_signature_readable,
)

# How each outcome is counted (paylink_webhooks_total{stage}).
_STAGES = {
    WebhookOutcome.ACCEPTED: "accepted",
    WebhookOutcome.REJECTED: "refused",
    WebhookOutcome.INVALID: "invalid",
    WebhookOutcome.DUPLICATE: "duplicate",
    WebhookOutcome.STALE: "stale",
}


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


@csrf_exempt
@login_not_required
def atomic_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # Atomic only ever POSTs; anything else is not this endpoint's business.
        response = _answer(405, "Only POST is accepted.")
        response["Allow"] = "POST"
        return response

    webhook_stage("received")
    limit = settings.PAYLINK_WEBHOOK_MAX_BYTES
    if body_length_unreadable(request):
        webhook_stage("refused")
        return _answer(400, "The Content-Length header is not a whole number.")
    if body_declared_too_large(request, limit=limit):
        # Refused before reading a byte: a huge body must not cost memory or a row.
        webhook_stage("refused")
        return _answer(413, "Body too large.")
    if not webhook_signature_readable(request.headers.get(SIGNATURE_HEADER)):
        # No signature could match: nothing of the body is read, a small record is kept.
        webhook_refuse(headers=request.headers, size=body_declared_length(request) or 0)
        webhook_stage("refused")
        return _answer(401, "Invalid signature.")
    body = body_read(request, limit=limit)
    if body is None:
        # The declared length lied (or was missing); still nothing unbounded was read.
        webhook_stage("refused")
        return _answer(413, "Body too large.")

    receipt = webhook_receive(body=body, headers=request.headers)
    webhook_stage(_STAGES[receipt.outcome])
    match receipt.outcome:
        case WebhookOutcome.REJECTED:
            # Not provably from Atomic: nothing of it is acted on, and its body is not kept.
            return _answer(401, receipt.message)
        case WebhookOutcome.INVALID:
            # Signed but unreadable: a retry of the same bytes cannot help, so say it plainly.
            return _answer(400, receipt.message)
        case WebhookOutcome.DUPLICATE | WebhookOutcome.STALE:
            # Atomic's retry, a replay, or news older than the task holds: a 200 stops
            # Atomic retrying (it retries on anything else), and nothing changes.
            return _answer(200, receipt.message)
    return _answer(200, receipt.message)


class WebhookMiddleware:
    """Answers Atomic's webhooks as soon as a request is known to be one, skipping the
    middleware behind it in MIDDLEWARE: static files, sessions, language, CSRF (the view is
    exempt), sign-in and OTP (it needs neither), messages, htmx and the headers of pages. None
    of it applies to a signed POST from a machine, and together it cost as much as the view.

    Placed after the request log and SecurityMiddleware, so a webhook still gets its log line
    and request id, its metrics, the HTTPS redirect and HSTS. The view is the one the URLconf
    names for the path (resolved once per URLconf, not once per request); as CommonMiddleware
    would, the host is checked against ALLOWED_HOSTS (a 400 otherwise) and the answer given its
    Content-Length."""

    # The URLconf's resolver (a new one whenever Django clears its URL caches) and what it
    # makes of WEBHOOK_PATH: the same for every request, and read only.
    _resolved: tuple[URLResolver, ResolverMatch] | None = None

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != WEBHOOK_PATH:
            return self.get_response(request)
        match = self._match(getattr(request, "urlconf", None))
        if match.func is not atomic_webhook:
            return self.get_response(request)
        request.get_host()
        request.resolver_match = match
        response = atomic_webhook(request)
        # As CommonMiddleware sets it: without it the answer would go out chunked.
        response["Content-Length"] = str(len(response.content))
        return response

    @classmethod
    def _match(cls, urlconf: str | None) -> ResolverMatch:
        resolver = get_resolver(urlconf or get_urlconf())
        if cls._resolved is None or cls._resolved[0] is not resolver:
            cls._resolved = (resolver, resolver.resolve(WEBHOOK_PATH))
        return cls._resolved[1]
