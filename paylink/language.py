"""The language a page is served in: the signed-in person's choice first, then the cookie,
then the browser's Accept-Language (Django's LocaleMiddleware does the last two; the
middleware below is it, with the first put in front).

The profile's choice is copied into the session at sign-in and whenever it changes, so no
request pays a query for it. Another device's session picks up a change at its next sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.auth import user_logged_in
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from paylink.lib.outage import OUTAGE_ERRORS
from paylink.models import Profile
from paylink.services.profiles import profile_language_set

SESSION_KEY = "paylink_language"


def _supported(language: str) -> bool:
    return language in dict(settings.LANGUAGES)


@receiver(user_logged_in, dispatch_uid="paylink-language-at-sign-in")
def language_at_sign_in(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # Read, not created: signing in alone makes no profile.
    language = Profile.objects.filter(user=user).values_list("language", flat=True).first() or ""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    # Picked in the switcher before signing in: from now on the profile keeps it (emails, the
    # calendar feed, other devices). A profile's own choice is never overwritten here.
    if (
        not language
        and _supported(chosen)
        and Profile.objects.filter(user=user, language="").update(language=chosen)
    ):
        language = chosen
    if _supported(language):
        request.session[SESSION_KEY] = language
        translation.activate(language)
        request.LANGUAGE_CODE = language


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie, safe `next`), open to everyone, and kept on the profile."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if not _supported(language):
        # Django accepts any language it has files for; the host speaks only LANGUAGES.
        response.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    elif request.user.is_authenticated:
        profile_language_set(user=request.user, language=language)
        request.session[SESSION_KEY] = language
    return response


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware with the signed-in person's saved language first: it serves a
    signed-in person in their language whatever their browser asks for, and otherwise as Django
    does (the cookie, then Accept-Language).

    It stands where LocaleMiddleware stands, so even a refusal before sign-in is known (a bad
    host name) is worded in the person's language. The saved choice is read from the session
    (copied there at sign-in and at each change, gone at sign-out), so it costs no query and
    needs no user. The cookie follows the saved choice too, so it outlives sign-out on this
    browser; Content-Language says the language served.
    """

    def process_request(self, request: HttpRequest) -> None:
        saved = ""
        session = getattr(request, "session", None)
        # Only a session the browser named is read: reading none would add Vary: Cookie.
        if session is not None and session.session_key is not None:
            try:
                saved = session.get(SESSION_KEY, "")
            except OUTAGE_ERRORS:
                # The session cannot be read: the request meets that again further in, and
                # says so in the browser's language.
                saved = ""
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        if not _supported(saved) or is_language_prefix_patterns_used(urlconf)[0]:
            super().process_request(request)
            return
        request.paylink_saved_language = saved  # type: ignore[attr-defined]  # for the answer
        translation.activate(saved)
        request.LANGUAGE_CODE = saved

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        saved = getattr(request, "paylink_saved_language", "")
        if not saved:
            return super().process_response(request, response)
        # As LocaleMiddleware answers when no address carries a language.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        cookie = settings.LANGUAGE_COOKIE_NAME
        # Not over a cookie the switcher has just set in this very response.
        if request.COOKIES.get(cookie) != saved and cookie not in response.cookies:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                saved,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # a str, as Django passes it
            )
        return response
