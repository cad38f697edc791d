"""The private iCalendar feed of due dates (its secret URL is the credential) and the month view."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import parse_etags
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from paylink.lib.http import AuthedHttpRequest
from paylink.lib.whole_numbers import whole_number
from paylink.models import AccountSnapshot
from paylink.selectors.dashboard import snapshot_for_user
from paylink.selectors.due_month import month_of_due_dates
from reminders.calendar_feed import calendar_feed_kept
from reminders.models import ReminderPreferences, calendar_token_digest
from reminders.page_cache import MONTH_SECONDS, month_key


def _preferences_for_token(token: str) -> ReminderPreferences | None:
    # Looked up by digest (all that is kept), so the index search leaks nothing about the token.
    return (
        ReminderPreferences.objects.filter(
            calendar_token_sha256=calendar_token_digest(token), profile__user__is_active=True
        )
        .select_related("profile")
        .first()
    )


@login_not_required
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    preferences = _preferences_for_token(token)
    if preferences is None:
        # Unknown or revoked: the same 404 either way, so old links reveal nothing.
        raise Http404
    profile = preferences.profile
    # Only what the feed needs: the payload is the record, the rows are read.
    snapshot = (
        AccountSnapshot.objects.filter(profile=profile)
        .only("pk", "profile_id", "version", "payload_sha256", "fetched_at")
        .first()
    )
    feed = calendar_feed_kept(profile=profile, snapshot=snapshot, preferences=preferences)
    response: HttpResponse
    if feed.etag in parse_etags(request.headers.get("If-None-Match", "")):
        # The calendar app has this very file: nothing to send again.
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(feed.body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="bills.ics"'
    response["ETag"] = feed.etag
    # Someone's bills: a shared cache must never keep them.
    response["Cache-Control"] = "private"
    return response


def _month_param(value: str, *, today: date) -> date:
    """`?month=2026-12` as the first of that month; anything else is this month."""
    year_text, _, month_text = value.partition("-")
    year = whole_number(year_text, max_digits=4)
    month = whole_number(month_text, max_digits=2)
    if year is not None and month is not None and 1900 <= year <= 2200 and 1 <= month <= 12:
        return date(year, month, 1)
    return today.replace(day=1)


def _drawn(request: AuthedHttpRequest, *, part: str) -> str:
    """The month's page (`part` "month") or one page of its list ("bill_days"), drawn, or
    as the cache kept it for the same version of the person's data (`page_cache`)."""
    today = timezone.localdate()
    first = _month_param(request.GET.get("month", ""), today=today)
    page = whole_number(request.GET.get("page", ""), max_digits=6) or 1
    snapshot = snapshot_for_user(user=request.user)
    key = (
        month_key(
            snapshot=snapshot,
            month=first,
            page=page,
            part=part,
            language=get_language(),
            zone=timezone.get_current_timezone_name(),
            today=today,
        )
        if snapshot is not None
        else None
    )
    drawn = cache.get(key) if key else None
    if drawn is None:
        month = month_of_due_dates(snapshot=snapshot, first=first, today=today, page=page)
        drawn = render_to_string(
            f"reminders/calendar_month.html#{part}",
            {"month": month, "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)]},
            request=request,
        )
        if key:
            cache.set(key, drawn, MONTH_SECONDS)
    return mark_safe(drawn)  # noqa: S308  # drawn by the template, escaped there


@require_safe
def calendar_month(request: AuthedHttpRequest) -> HttpResponse:
    """The month's grid and a page of its bills (`?page=`, so each page has an address that
    works without JavaScript)."""
    return render(
        request, "reminders/calendar_month.html", {"month_html": _drawn(request, part="month")}
    )


@require_safe
def calendar_month_bills(request: AuthedHttpRequest) -> HttpResponse:
    """One page of the month's bills: for htmx's "Show more", the days alone, appended where
    its link was; without htmx, the month at that page."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('reminders:calendar-month')}?{query}#month-bills")
    return HttpResponse(_drawn(request, part="bill_days"))
