"""The dashboard at `/`: drawn from the stored snapshot, never from a live call to Atomic."""

from __future__ import annotations

import time
from dataclasses import astuple
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

from paylink.models import AccountSnapshot
from paylink.rate_limits import rate_limited
from paylink.selectors.dashboard import (
    Filters,
    Freshness,
    Pages,
    dashboard_for_payload,
    dashboard_for_snapshot,
    filters_from_query,
    freshness_for_snapshot,
    snapshot_for_user,
)
from paylink.services import accounts as account_services
from paylink.services.profiles import profile_for_user
from paylink.whole_numbers import whole_number

TEMPLATE = "paylink/dashboard.html"
# The cached fragments hold action ids, which Atomic expires after about an hour.
REGIONS_CACHE_SECONDS = 600
# A refresh that has not landed by then stops polling and shows what is there.
POLL_DEADLINE_MS = 90_000
# A thousand accounts make 167 pages of six cards; a later page is drawn but not cached.
MAX_CACHED_PAGE = 200


def _now_ms() -> int:
    return int(time.time() * 1000)


# The lists that load a page at a time, and the template partial holding each one's items.
_LISTS = {"bills": "bill_rows", "suggestions": "suggestion_items", "cards": "card_items"}


def _pages(request: HttpRequest) -> Pages:
    numbers = {name: _int_param(request, name) or 1 for name in _LISTS}
    return Pages(**numbers)


def _filters(request: HttpRequest) -> Filters:
    return filters_from_query(
        type=request.GET.get("type", "")[:64],
        status=request.GET.get("status", ""),
        sort=request.GET.get("sort", ""),
    )


def _fragment_html(
    *, snapshot: AccountSnapshot | None, part: str, pages: Pages, filters: Filters
) -> str:
    """The regions (summary, filters, bills, spending, suggestions, accounts) or one list's
    page of items: the costly part, cached per snapshot version.

    The key holds the day because overdue and due-soon flags depend on today, the language
    because the fragments carry words, and the filters and order because they choose what is
    listed. A hit reads no payload at all; a miss reads the accounts it shows (see
    `dashboard_for_snapshot`).
    """
    today = timezone.localdate()
    template = f"{TEMPLATE}#{_LISTS.get(part, part)}"
    regions = part == "regions"
    if snapshot is None:
        dashboard = dashboard_for_payload(payload={}, today=today, pages=pages, filters=filters)
        return render_to_string(template, {"dashboard": dashboard})
    # A list's own page is all its fragment depends on; the regions show one of each.
    numbers = (getattr(pages, part),) if part in _LISTS else astuple(pages)
    key = (
        f"paylink:dashboard:{snapshot.profile_id}:{snapshot.version}:{get_language()}:"
        f"{today.isoformat()}:{part}:{'.'.join(map(str, numbers))}:{filters.key}"
    )
    html = cache.get(key)
    if html is None:
        version, dashboard = dashboard_for_snapshot(
            snapshot=snapshot, today=today, pages=pages, filters=filters, with_spending=regions
        )
        context = {"dashboard": dashboard, "appending": not regions}
        html = render_to_string(template, context)
        # A sync that landed in between is rendered and cached by the next request; page
        # numbers come from the address bar, so only the pages a list can have are kept.
        if version == snapshot.version and max(numbers) <= MAX_CACHED_PAGE:
            cache.set(key, html, REGIONS_CACHE_SECONDS)
    return html


def _body_context(
    *,
    snapshot: AccountSnapshot | None,
    freshness: Freshness,
    pages: Pages,
    filters: Filters | None = None,
) -> dict[str, Any]:
    regions = _fragment_html(
        snapshot=snapshot, part="regions", pages=pages, filters=filters or Filters()
    )
    return {
        "freshness": freshness,
        "regions_html": regions,
        "watch_url": _poll_url(since=freshness.version, after=_now_ms()),
    }


def _poll_url(*, since: int, after: int) -> str:
    return f"{reverse('paylink:dashboard')}?partial=poll&since={since}&after={after}"


def _int_param(request: HttpRequest, name: str) -> int | None:
    return whole_number(request.GET.get(name, ""))


def _later_than(moment: datetime | None, *, after_ms: int) -> bool:
    return moment is not None and moment.timestamp() * 1000 > after_ms


def _poll(request: HttpRequest, *, snapshot: AccountSnapshot | None) -> HttpResponse:
    """Waits for a sync: answers with the same polling region until a newer snapshot or a
    newer error has landed, then with the whole body, retargeted over the old one."""
    since = _int_param(request, "since")
    after = _int_param(request, "after")
    if since is None or after is None:
        return HttpResponseBadRequest(
            "The poll needs whole-number 'since' (a version) and 'after' (ms) parameters."
        )
    freshness = freshness_for_snapshot(snapshot=snapshot)
    # A sync that found nothing new keeps the version but moves fetched_at.
    landed = (
        freshness.version > since
        or _later_than(freshness.fetched_at, after_ms=after)
        or _later_than(freshness.error_at, after_ms=after)
    )
    if landed or _now_ms() - after > POLL_DEADLINE_MS:
        context = _body_context(snapshot=snapshot, freshness=freshness, pages=Pages())
        response = render(request, f"{TEMPLATE}#body", context)
        return reswap(retarget(response, "#dashboard-body"), "outerHTML")
    return render(request, f"{TEMPLATE}#poll", {"poll_url": _poll_url(since=since, after=after)})


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    snapshot = snapshot_for_user(user=request.user)
    pages = _pages(request)
    filters = _filters(request)
    match request.GET.get("partial", ""):
        case "poll":
            return _poll(request, snapshot=snapshot)
        case "":
            pass
        case part if part in _LISTS:
            # htmx's "show more": the next page of one list, appended where its link was.
            html = _fragment_html(snapshot=snapshot, part=part, pages=pages, filters=filters)
            return HttpResponse(html)
        case _:
            return HttpResponseBadRequest("Unknown part of the dashboard.")
    freshness = freshness_for_snapshot(snapshot=snapshot)
    context = _body_context(snapshot=snapshot, freshness=freshness, pages=pages, filters=filters)
    # The filter form, sent by htmx, gets only the body it replaces, not the page around it.
    name = f"{TEMPLATE}#body" if _wants_body(request) else TEMPLATE
    response = render(request, name, context)
    # One address, two answers: no cache may hand the body alone to a full page load.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _wants_body(request: HttpRequest) -> bool:
    htmx = request.htmx
    return bool(htmx) and htmx.target == "dashboard-body" and not htmx.history_restore_request


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
