"""The language a page is served in: the signed-in person's choice first, then the cookie,
then the browser's Accept-Language (Django's LocaleMiddleware does the last two).

The profile's choice is copied into the session at sign-in and whenever it changes, so no
request pays a query for it. Another device's session picks up a change at its next sign-in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

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


class ProfileLanguageMiddleware:
    """Serves a signed-in person in their saved language, whatever their browser asks for.

    Runs after LocaleMiddleware and AuthenticationMiddleware; LocaleMiddleware's response
    half then sets Content-Language from the language activated here. The cookie follows the
    profile too, so the choice outlives sign-out on this browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = ""
        if request.user.is_authenticated:
            language = request.session.get(SESSION_KEY, "")
            if _supported(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        cookie = settings.LANGUAGE_COOKIE_NAME
        # Not over a cookie the switcher has just set in this very response.
        if (
            _supported(language)
            and request.COOKIES.get(cookie) != language
            and cookie not in response.cookies
        ):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # a str, as Django passes it
            )
        return response
