"""A person's own account: name, language, time zone, email (confirmed by a link) and password."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from paylink import language as site_language
from paylink.account_forms import (
    EmailChangeForm,
    ProfileSettingsForm,
    ThrottledPasswordChangeForm,
)
from paylink.lib.http import AuthedHttpRequest
from paylink.lib.rate_limits import rate_limited
from paylink.models import Profile
from paylink.services.email_change import (
    EmailChangeInvalid,
    email_change_confirm,
    email_change_read,
    email_change_request,
)
from paylink.services.profiles import profile_settings_update
from paylink.views.auth import throttled_answer

logger = logging.getLogger(__name__)


def _page(
    request: AuthedHttpRequest,
    *,
    profile_form: ProfileSettingsForm | None = None,
    email_form: EmailChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    if profile_form is None:
        # Read, not created: showing the page (or refusing a form) stores nothing.
        profile = Profile.objects.filter(user=user).only("language", "time_zone").first()
        profile_form = ProfileSettingsForm(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "language": profile.language if profile else "",
                "time_zone": profile.time_zone if profile else "",
            },
            prefix="profile",
        )
    if email_form is None:
        email_form = EmailChangeForm(user=user, request=request, prefix="email")
    context = {"profile_form": profile_form, "email_form": email_form}
    return render(request, "paylink/account_settings.html", context, status=status)


def language_apply(request: AuthedHttpRequest, language: str) -> None:
    """The saved language takes effect at once in this session (paylink/language.py)."""
    if language:
        request.session[site_language.SESSION_KEY] = language
        translation.activate(language)
        request.LANGUAGE_CODE = language
    else:
        request.session.pop(site_language.SESSION_KEY, None)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def account_settings(request: AuthedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = ProfileSettingsForm(request.POST, prefix="profile")
    if not form.is_valid():
        return _page(request, profile_form=form, status=400)
    data = form.cleaned_data
    profile_settings_update(
        user=request.user,
        first_name=data["first_name"],
        last_name=data["last_name"],
        language=data["language"],
        time_zone=data["time_zone"],
    )
    language_apply(request, data["language"])
    messages.success(request, _("Your settings are saved."))
    response = redirect("paylink:account-settings")
    if not data["language"]:
        # Back to following the browser: the switcher's cookie would otherwise still decide.
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
    return response


@require_POST
@sensitive_post_parameters("email-password")
@never_cache
@rate_limited("email_change")
def email_change(request: AuthedHttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST, user=request.user, request=request, prefix="email")
    if not form.is_valid():
        return throttled_answer(_page(request, email_form=form, status=400), form)
    new_email = form.cleaned_data["email"]
    try:
        email_change_request(user=request.user, new_email=new_email)
    except (OSError, smtplib.SMTPException):
        logger.exception("The email change confirmation could not be sent")
        messages.error(
            request,
            _(
                "We could not send the confirmation email just now, so nothing changed. "
                "Please try again in a few minutes."
            ),
        )
        return _page(request, email_form=form, status=503)
    messages.success(
        request,
        _(
            "We sent a link to %(email)s. Your email address changes when you open it and "
            "confirm. Until then, we keep using the one you have."
        )
        % {"email": new_email},
    )
    return redirect("paylink:account-settings")


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def email_confirm(request: AuthedHttpRequest, token: str) -> HttpResponse:
    # Opening the link changes nothing (mail scanners open links too); the button does.
    try:
        change = email_change_read(token=token, user=request.user)
        if request.method == "POST":
            email_change_confirm(change=change)
    except EmailChangeInvalid:
        return render(request, "paylink/email_confirm.html", {"change": None}, status=400)
    if request.method == "POST":
        messages.success(
            request, _("Your email address is now %(email)s.") % {"email": change.new_email}
        )
        return redirect("paylink:account-settings")
    return render(request, "paylink/email_confirm.html", {"change": change})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (it rotates the session key and keeps this session signed in),
    with the old password behind the sign-in throttle; back to the account page after."""

    form_class = ThrottledPasswordChangeForm
    success_url = reverse_lazy("paylink:account-settings")

    def get_form_kwargs(self) -> dict[str, object]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return throttled_answer(response, form)
