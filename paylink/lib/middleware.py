"""Request-wide behaviour of the host: every refusal says why in a sentence, no page may use the
browser's powerful features, and signed-in pages are never stored."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

# Django's own refusals that come without a word: a 405 from `require_POST` and friends or a
# class-based view, and the bare 4xx a view may build. Each gets one plain sentence instead.
_SENTENCES = {
    400: _("The request could not be understood."),
    403: _("You are not allowed to do that."),
    404: _("There is nothing at this address."),
    405: _("This address does not accept {method} requests; it accepts {allowed}."),
}


class RefusalSentenceMiddleware:
    """Fills the empty body of a 4xx with a sentence saying what was refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        template = _SENTENCES.get(response.status_code)
        if template is None or response.streaming or response.content:
            return response
        response.content = (
            str(template)
            .format(method=request.method, allowed=response.get("Allow") or _("other methods"))
            .encode()
        )
        response["Content-Type"] = "text/plain; charset=utf-8"
        if response.has_header("Content-Length"):
            # Set (to 0) further in already: a server would cut the sentence off.
            response["Content-Length"] = str(len(response.content))
        return response


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every answer (PERMISSIONS_POLICY): no page of the host, nor any
    frame in it, may use the camera, microphone, location, payment handlers or other powerful
    features; Transact's frame needs none of them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in person.

    Their pages show bills and accounts: no shared proxy may keep them, and the browser's back
    button must not show them after sign-out on a shared computer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
