"""POST /webhooks/atomic/: Atomic's signed webhooks. Store, verify, then hand off to a task."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from paylink.services.webhooks import (
    SIGNATURE_HEADER,
    webhook_event_claim,
    webhook_event_reject,
    webhook_event_store,
    webhook_event_unverified,
    webhook_signature_valid,
)
from paylink.tasks import process_webhook_event
from paylink.vendor_json import JsonRejected, json_object_parse


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

    limit = settings.PAYLINK_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        # Refused before reading a byte: a huge body must not cost memory or a row.
        return _answer(413, "Body too large.")
    body = request.read(limit + 1)
    if len(body) > limit:
        # The declared length lied (or was missing); still nothing unbounded was read.
        return _answer(413, "Body too large.")

    event = webhook_event_store(body=body, headers=request.headers)

    if not webhook_signature_valid(body=body, signature=request.headers.get(SIGNATURE_HEADER)):
        # Not provably from Atomic: stored for the record (signature_valid False), not acted on.
        webhook_event_unverified(event=event)
        return _answer(401, "Invalid signature.")

    if not webhook_event_claim(event=event):
        # A retry of an event already received: acknowledge so Atomic stops, change nothing.
        return _answer(200, "Already received.")

    try:
        json_object_parse(body)
    except JsonRejected as error:
        # Signed but unreadable: a retry of the same bytes cannot help, so say it plainly.
        webhook_event_reject(event=event, reason=str(error))
        return _answer(400, str(error))

    transaction.on_commit(lambda: process_webhook_event.enqueue(event.pk))
    return _answer(200, "Received.")
