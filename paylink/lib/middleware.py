"""Request-wide behaviour of the host: every refusal says why in a sentence, no page may use the
browser's powerful features, and signed-in pages are never stored.

Also Django's and django_otp's middleware made cheaper where every request pays for them: the
Content-Security-Policy built once per policy (only the nonce differs between answers), the
message storage made only when a message is read or added, the admin's code check only on the
admin's addresses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware, get_nonce
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP, build_policy
from django.utils.functional import SimpleLazyObject, empty
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from django_otp.middleware import OTPMiddleware

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
            if "Cache-Control" in response or "Expires" in response:
                add_never_cache_headers(response)  # merged with what the view said
            else:
                # What add_never_cache_headers writes on a bare answer, without parsing it.
                response.headers["Expires"] = http_date()
                response.headers["Cache-Control"] = NEVER_CACHE
        return response


NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
# Stands for the nonce in a policy built ahead; no policy source can contain it.
_NONCE_MARK = "\x00nonce\x00"


@functools.cache
def _policies(config_items: tuple[tuple[str, Any], ...]) -> tuple[str, str]:
    """A policy as sent with a nonce (the mark standing for it) and without one."""
    config = dict(config_items)
    return build_policy(config, _NONCE_MARK), build_policy(config, None)


def _frozen(values: Any) -> Any:
    if isinstance(values, list | tuple):
        return tuple(values)
    if isinstance(values, set):
        return tuple(sorted(values))  # as build_policy orders a set
    return values


def csp_policy(config: dict[str, Any], nonce: str | None) -> str:
    """`build_policy(config, nonce)`, building each policy once."""
    with_nonce, without = _policies(tuple((k, _frozen(v)) for k, v in config.items()))
    return with_nonce.replace(_NONCE_MARK, nonce) if nonce else without


class CachedPolicyCSPMiddleware(ContentSecurityPolicyMiddleware):
    """Django's Content-Security-Policy middleware, with each policy built once: a nonce, made
    afresh for each answer that uses one, is filled into the policy built ahead."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        nonce = get_nonce(request)
        sentinel: Any = object()
        # As Django's: a view's own policy (csp_override) wins over the settings'.
        config: Any = getattr(response, "_csp_config", sentinel)
        if config is sentinel:
            config = settings.SECURE_CSP
        report_only: Any = getattr(response, "_csp_ro_config", sentinel)
        if report_only is sentinel:
            report_only = settings.SECURE_CSP_REPORT_ONLY
        for header, policy in ((CSP.HEADER_ENFORCE, config), (CSP.HEADER_REPORT_ONLY, report_only)):
            if policy and header not in response:
                response.headers[str(header)] = csp_policy(policy, str(nonce) if nonce else None)
        return response


class _LazyStorage(SimpleLazyObject):
    pass


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, making the message storage only when the request reads or
    adds a message; an answer that did neither has nothing to store."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = _LazyStorage(lambda: default_storage(request))  # type: ignore[attr-defined]  # Django's own attribute

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        storage = getattr(request, "_messages", None)
        if type(storage) is _LazyStorage and storage._wrapped is empty:
            return response
        return super().process_response(request, response)


@functools.cache
def _admin_prefix() -> str:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return "/"  # No admin to find: the check runs everywhere, as django_otp's would.


@receiver(setting_changed, dispatch_uid="paylink-admin-prefix")
def _urls_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "ROOT_URLCONF":
        _admin_prefix.cache_clear()


class AdminOTPMiddleware(OTPMiddleware):
    """django_otp's middleware on the admin's addresses only, the one place that asks whether a
    session signed in with a code (paylink/admin_site.py); elsewhere `request.user` stays one
    lazy object rather than two, on every request."""

    def __call__(self, request: HttpRequest) -> Any:
        if request.path_info.startswith(_admin_prefix()):
            return super().__call__(request)
        return self.get_response(request)
