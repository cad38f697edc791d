"""The dashboard at `/`, and each of its fragments at its own address: drawn from the read
model, never from a live call to Atomic."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget

from paylink.lib.rate_limits import rate_limited
from paylink.lib.whole_numbers import whole_number
from paylink.models import AccountSnapshot
from paylink.selectors.dashboard import (
    Filters,
    Freshness,
    Pages,
    account_types_for,
    dashboard_for_snapshot,
    filters_from_query,
    freshness_for_snapshot,
    page_number,
    snapshot_for_user,
)
from paylink.services import accounts as account_services
from paylink.services.account_rows import accounts_rows_ensure
from paylink.services.profiles import profile_for_user

TEMPLATE = "paylink/dashboard.html"
# The cached fragments hold action ids, which Atomic expires after about an hour.
REGIONS_CACHE_SECONDS = 600
# A refresh that has not landed by then stops polling and shows what is there.
POLL_DEADLINE_MS = 90_000
# A thousand accounts make 167 pages of six cards; a later page is drawn but not cached.
MAX_CACHED_PAGE = 200

# Each list that loads a page at a time: its URL name and the template partial of its items.
LISTS = {
    "bills": ("paylink:dashboard-bills", "bill_rows"),
    "suggestions": ("paylink:dashboard-suggestions", "suggestion_items"),
    "cards": ("paylink:dashboard-cards", "card_items"),
}
_ALL_PARTS = ("summary", "bills", "suggestions", "cards", "spending")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pages(request: HttpRequest) -> Pages:
    return Pages(**{name: page_number(request.GET.get(name, "")) for name in LISTS})


def _snapshot_and_filters(request: HttpRequest) -> tuple[AccountSnapshot | None, Filters]:
    """The person's snapshot (its rows made sure of) and the filters, checked against the
    closed set of choices before anything is drawn or cached."""
    snapshot = snapshot_for_user(user=request.user)
    if snapshot is not None:
        accounts_rows_ensure(snapshot=snapshot)
    wants_filter = any(request.GET.get(name) for name in ("type", "status", "sort"))
    filters = (
        filters_from_query(
            type=request.GET.get("type", "")[:64],
            status=request.GET.get("status", ""),
            sort=request.GET.get("sort", ""),
            types=account_types_for(snapshot=snapshot) if request.GET.get("type") else (),
        )
        if wants_filter
        else Filters()
    )
    return snapshot, filters


def _fragment_html(
    *, snapshot: AccountSnapshot | None, part: str, pages: Pages, filters: Filters
) -> str:
    """The regions (summary, filters, bills, spending, suggestions, accounts) or one list's
    page of items, cached per snapshot version.

    The key holds the day and the time zone because overdue, due-soon and paused depend on
    the person's today, the language because the fragments carry words, and the filters and
    page numbers because they choose what is listed.
    """
    today = timezone.localdate()
    partial = LISTS[part][1] if part in LISTS else part
    template = f"{TEMPLATE}#{partial}"
    parts = (part,) if part in LISTS else _ALL_PARTS
    numbers = (
        (getattr(pages, part),) if part in LISTS else (pages.bills, pages.suggestions, pages.cards)
    )
    if snapshot is None:
        dashboard = dashboard_for_snapshot(
            snapshot=None, today=today, pages=pages, filters=filters, parts=parts
        )
        return render_to_string(template, {"dashboard": dashboard})
    key = (
        f"paylink:dashboard:{snapshot.profile_id}:{snapshot.version}:{get_language()}:"
        f"{timezone.get_current_timezone_name()}:{today.isoformat()}:{part}:"
        f"{'.'.join(map(str, numbers))}:{filters.key}"
    )
    html = cache.get(key)
    if html is None:
        dashboard = dashboard_for_snapshot(
            snapshot=snapshot, today=today, pages=pages, filters=filters, parts=parts
        )
        html = render_to_string(template, {"dashboard": dashboard, "appending": part in LISTS})
        # Page numbers come from the address bar: only the pages a list can have are kept.
        if max(numbers) <= MAX_CACHED_PAGE:
            cache.set(key, html, REGIONS_CACHE_SECONDS)
    return html


def _body_context(
    *, snapshot: AccountSnapshot | None, freshness: Freshness, pages: Pages, filters: Filters
) -> dict[str, Any]:
    return {
        "freshness": freshness,
        "regions_html": _fragment_html(
            snapshot=snapshot, part="regions", pages=pages, filters=filters
        ),
        "watch_url": _poll_url(since=freshness.version, after=_now_ms()),
    }


def _poll_url(*, since: int, after: int) -> str:
    return f"{reverse('paylink:dashboard-poll')}?since={since}&after={after}"


def _int_param(request: HttpRequest, name: str) -> int | None:
    return whole_number(request.GET.get(name, ""))


def _later_than(moment: datetime | None, *, after_ms: int) -> bool:
    return moment is not None and moment.timestamp() * 1000 > after_ms


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    snapshot, filters = _snapshot_and_filters(request)
    freshness = freshness_for_snapshot(snapshot=snapshot)
    context = _body_context(
        snapshot=snapshot, freshness=freshness, pages=_pages(request), filters=filters
    )
    # The filter form, sent by htmx, gets only the body it replaces, not the page around it.
    name = f"{TEMPLATE}#body" if _wants_body(request) else TEMPLATE
    response = render(request, name, context)
    # One address, two answers: no cache may hand the body alone to a full page load.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _wants_body(request: HttpRequest) -> bool:
    htmx = request.htmx
    return bool(htmx) and htmx.target == "dashboard-body" and not htmx.history_restore_request


def _list_page(request: HttpRequest, part: str) -> HttpResponse:
    """One list's page: its items alone for htmx's "show more", appended where its link was;
    without htmx, the dashboard at that page."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('paylink:dashboard')}{'?' + query if query else ''}")
    snapshot, filters = _snapshot_and_filters(request)
    html = _fragment_html(snapshot=snapshot, part=part, pages=_pages(request), filters=filters)
    return HttpResponse(html)


@require_safe
def dashboard_bills(request: HttpRequest) -> HttpResponse:
    return _list_page(request, "bills")


@require_safe
def dashboard_suggestions(request: HttpRequest) -> HttpResponse:
    return _list_page(request, "suggestions")


@require_safe
def dashboard_cards(request: HttpRequest) -> HttpResponse:
    return _list_page(request, "cards")


@require_safe
def dashboard_poll(request: HttpRequest) -> HttpResponse:
    """Waits for a sync: answers with the same polling region until a newer snapshot or a
    newer error has landed, then with the whole body, retargeted over the old one."""
    since = _int_param(request, "since")
    after = _int_param(request, "after")
    if since is None or after is None:
        return HttpResponseBadRequest(
            "The poll needs whole-number 'since' (a version) and 'after' (ms) parameters."
        )
    snapshot = snapshot_for_user(user=request.user)
    freshness = freshness_for_snapshot(snapshot=snapshot)
    # A sync that found nothing new keeps the version but moves fetched_at.
    landed = (
        freshness.version > since
        or _later_than(freshness.fetched_at, after_ms=after)
        or _later_than(freshness.error_at, after_ms=after)
    )
    if landed or _now_ms() - after > POLL_DEADLINE_MS:
        if snapshot is not None:
            accounts_rows_ensure(snapshot=snapshot)
        context = _body_context(
            snapshot=snapshot, freshness=freshness, pages=Pages(), filters=Filters()
        )
        response = render(request, f"{TEMPLATE}#body", context)
        return reswap(retarget(response, "#dashboard-body"), "outerHTML")
    return render(request, f"{TEMPLATE}#poll", {"poll_url": _poll_url(since=since, after=after)})


@require_POST
@rate_limited("dashboard_refresh")
def dashboard_refresh(request: HttpRequest) -> HttpResponse:
    """Asks for a fresh copy of the accounts; HTMX then polls until it lands."""
    profile = profile_for_user(user=request.user)
    before = freshness_for_snapshot(snapshot=snapshot_for_user(user=request.user))
    after = _now_ms()
    account_services.accounts_sync_request(profile=profile)
    if not request.htmx:
        return redirect("paylink:dashboard")
    return render(
        request, f"{TEMPLATE}#poll", {"poll_url": _poll_url(since=before.version, after=after)}
    )
