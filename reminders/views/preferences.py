"""Reminder settings (signed in) and one-click unsubscribe from reminder emails (signed link)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from paylink.lib.http import AuthedHttpRequest
from paylink.services.profiles import profile_for_user
from reminders.forms import ReminderPreferencesForm
from reminders.models import ReminderKind
from reminders.services.preferences import (
    calendar_token_rotate,
    reminder_preferences_for_profile,
    reminder_preferences_update,
    reminders_unsubscribe,
)
from reminders.unsubscribe_tokens import unsubscribe_token_read

# The session key of a feed token just made, until the settings page has shown it.
_NEW_FEED_TOKEN = "paylink_calendar_token_new"


@require_http_methods(["GET", "HEAD", "POST"])
def reminder_settings(request: AuthedHttpRequest) -> HttpResponse:
    preferences = reminder_preferences_for_profile(profile=profile_for_user(user=request.user))
    if request.method == "POST":
        form = ReminderPreferencesForm(request.POST, instance=preferences)
        if form.is_valid():
            reminder_preferences_update(
                preferences=preferences,
                days_before=form.cleaned_data["days_before"],
                email_reminders=form.cleaned_data["email_reminders"],
                weekly_summary=form.cleaned_data["weekly_summary"],
            )
            messages.success(request, _("Your reminder settings are saved."))
            return redirect("reminders:reminder-settings")
    else:
        form = ReminderPreferencesForm(instance=preferences)
    context = {
        "form": form,
        "has_feed_link": preferences.calendar_token_sha256 is not None,
        "has_email": bool(request.user.email),
    }
    # A link just made is shown this once (only its digest is kept), then forgotten.
    token = request.session.pop(_NEW_FEED_TOKEN, None)
    if token:
        # From the configured address, never the request's Host: a link people keep and share.
        feed_url = settings.PAYLINK_SITE_URL + reverse("reminders:calendar-feed", args=[token])
        context |= {"feed_url": feed_url, "webcal_url": "webcal://" + feed_url.split("://", 1)[1]}
    return render(request, "reminders/reminder_settings.html", context)


@require_POST
def calendar_link_renew(request: AuthedHttpRequest) -> HttpResponse:
    preferences = reminder_preferences_for_profile(profile=profile_for_user(user=request.user))
    had_link = preferences.calendar_token_sha256 is not None
    # Kept in the session only until the page this redirects to shows it.
    request.session[_NEW_FEED_TOKEN] = calendar_token_rotate(preferences=preferences)
    if had_link:
        messages.success(
            request,
            _(
                "Here is your new calendar link. The old one no longer works: subscribe with "
                "this one."
            ),
        )
    else:
        messages.success(request, _("Here is your calendar link."))
    return redirect(reverse("reminders:reminder-settings") + "#calendar")


# The signed token is the credential: mail clients POST here without a session or a CSRF
# cookie (RFC 8058 one-click), so neither can be asked for.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe_token_read(token=token)
    if found is None:
        # A forged, altered or foreign token: nothing to say about whose it might be.
        raise Http404
    preferences, kind = found
    if request.method != "POST":
        # Link scanners follow GETs and send HEADs: only a POST (the button, or the mail
        # client's one-click) unsubscribes.
        return render(
            request,
            "reminders/unsubscribe.html",
            {"kind": kind, "is_weekly": kind is ReminderKind.WEEKLY, "done": False},
        )
    reminders_unsubscribe(preferences=preferences, kind=kind)
    return render(
        request,
        "reminders/unsubscribe.html",
        {"kind": kind, "is_weekly": kind is ReminderKind.WEEKLY, "done": True},
    )
