"""The time zone a page is served in: the signed-in person's (`Profile.time_zone`), else the
site's. "Today" and every date and time a person sees follow it.

As with the language (`paylink.language`), the profile's zone is copied into the session at
sign-in and whenever it changes, so no request pays a query for it. A person without one gets
it from their browser on their first visit: the page posts
`Intl.DateTimeFormat().resolvedOptions().timeZone` to `time_zone_report`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import user_logged_in
from django.contrib.auth.models import User
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from paylink.formatting import time_zone_for, time_zone_valid
from paylink.lib.http import AuthedHttpRequest
from paylink.models import Profile
from paylink.services.account_rows import rows_rezone
from paylink.services.profiles import profile_for_user

SESSION_KEY = "paylink_time_zone"
# In the session when the person has no zone yet: the page then asks the browser for one.
UNKNOWN = "?"


def time_zone_remember(*, request: HttpRequest, name: str) -> None:
    """Serve this session in `name` from now on (after the profile was changed)."""
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = name or UNKNOWN


@receiver(user_logged_in, dispatch_uid="paylink-time-zone-at-sign-in")
def time_zone_at_sign_in(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    if request is None:
        return
    name = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""
    time_zone_remember(request=request, name=time_zone_valid(name) or "")


def time_zone_set(*, user: User, name: str) -> bool:
    """Keep `name` as the person's time zone; False (nothing kept) when it is not one."""
    valid = time_zone_valid(name)
    if valid is None:
        return False
    profile = profile_for_user(user=user)
    if profile.time_zone != valid:
        profile.time_zone = valid
        profile.save(update_fields=["time_zone"])
        # The spending by month and the month view group by days in the person's zone.
        rows_rezone(profile=profile)
    return True


@require_POST
def time_zone_report(request: AuthedHttpRequest) -> HttpResponse:
    """The browser's zone, reported once by the page of a person who has none yet.

    A person who already has one keeps it (they may have chosen it): the report is ignored.
    """
    if request.session.get(SESSION_KEY, UNKNOWN) != UNKNOWN:
        return HttpResponse(status=204)
    name = time_zone_valid(request.POST.get("time_zone", ""))
    if name is None:
        # Refused before anything is read or written.
        return HttpResponse(_("That is not a time zone this site knows."), status=400)
    kept = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first()
    if kept:
        time_zone_remember(request=request, name=kept)
        return HttpResponse(status=204)
    time_zone_set(user=request.user, name=name)
    time_zone_remember(request=request, name=name)
    return HttpResponse(status=204)


class ProfileTimeZoneMiddleware:
    """Activates the signed-in person's time zone for the request, from the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = None
        if request.user.is_authenticated:
            name = request.session.get(SESSION_KEY)
            if name is None:
                # A session from before this setting (or a signal-less sign-in): one read.
                name = (
                    Profile.objects.filter(user=request.user)
                    .values_list("time_zone", flat=True)
                    .first()
                    or ""
                )
                time_zone_remember(request=request, name=time_zone_valid(name) or "")
                name = request.session[SESSION_KEY]
            zone = time_zone_for(name) if name != UNKNOWN else None
            # The page asks the browser only while the person has no zone.
            request.paylink_time_zone_unknown = name == UNKNOWN  # type: ignore[attr-defined]  # for the page to read
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
