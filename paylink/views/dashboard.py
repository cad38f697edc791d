"""The dashboard at `/`, and each of its fragments at its own address: drawn from the read
model, never from a live call to Atomic."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget

from paylink.formatting import ago
from paylink.lib.http import AuthedHttpRequest
from paylink.lib.rate_limits import rate_limited
from paylink.lib.whole_numbers import whole_number
from paylink.models import AccountSnapshot
from paylink.selectors.dashboard import (
    DashboardFragment,
    Filters,
    Freshness,
    Pages,
    account_types_for,
    dashboard_fragment,
    filters_from_query,
    freshness_for_snapshot,
    page_number,
    snapshot_for_user,
)
from paylink.services import accounts as account_services
from paylink.services.account_rows import accounts_rows_ensure
from paylink.services.profiles import profile_for_user
from paylink.views import dashboard_page

TEMPLATE = "paylink/dashboard.html"
# A refresh that has not landed by then stops polling and shows what is there.
POLL_DEADLINE_MS = 90_000

# Each list that loads a page at a time: its URL name and the template partial of its items.
LISTS = {
    "bills": ("paylink:dashboard-bills", "bill_rows"),
    "suggestions": ("paylink:dashboard-suggestions", "suggestion_items"),
    "cards": ("paylink:dashboard-cards", "card_items"),
}
_ALL_PARTS = ("summary", "bills", "suggestions", "cards", "spending")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pages(request: AuthedHttpRequest) -> Pages:
    return Pages(**{name: page_number(request.GET.get(name, "")) for name in LISTS})


def _snapshot_and_filters(request: AuthedHttpRequest) -> tuple[AccountSnapshot | None, Filters]:
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


def _fragment(
    *, snapshot: AccountSnapshot | None, part: str, pages: Pages, filters: Filters
) -> DashboardFragment:
    """The regions (summary, filters, bills, spending, suggestions, accounts), or one list's
    page of items; the template keeps it in the cache (`dashboard_fragment`)."""
    partial = LISTS[part][1] if part in LISTS else part
    return dashboard_fragment(
        snapshot=snapshot,
        template=f"{TEMPLATE}#{partial}",
        parts=(part,) if part in LISTS else _ALL_PARTS,
        pages=pages,
        filters=filters,
        today=timezone.localdate(),
    )


def _body_context(
    *,
    snapshot: AccountSnapshot | None,
    freshness: Freshness,
    pages: Pages,
    filters: Filters,
    drawing: dashboard_page.Drawing | None = None,
) -> dict[str, Any]:
    """The body's context; a page drawn to be kept has marks where each answer differs."""
    return {
        "freshness": freshness,
        "fetched_ago": ago(freshness.fetched_at),
        "fragment": _fragment(snapshot=snapshot, part="regions", pages=pages, filters=filters),
        "watch_url": _poll_url(
            since=freshness.version, after=drawing.slot("after") if drawing else _now_ms()
        ),
        **(drawing.context() if drawing else {}),
    }


def _poll_url(*, since: int, after: int | str) -> str:
    return f"{reverse('paylink:dashboard-poll')}?since={since}&after={after}"


def _int_param(request: AuthedHttpRequest, name: str) -> int | None:
    return whole_number(request.GET.get(name, ""))


def _later_than(moment: datetime | None, *, after_ms: int) -> bool:
    return moment is not None and moment.timestamp() * 1000 > after_ms


@require_safe
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    # The plain page, warm: kept whole in the cache and read with the session.
    kept = dashboard_page.served(request)
    if kept is not None:
        return kept
    drawing = dashboard_page.drawing(request)
    snapshot, filters = _snapshot_and_filters(request)
    freshness = freshness_for_snapshot(snapshot=snapshot)
    context = _body_context(
        snapshot=snapshot,
        freshness=freshness,
        pages=_pages(request),
        filters=filters,
        drawing=drawing,
    )
    if drawing is not None:
        body = render_to_string(TEMPLATE, context, request)
        return drawing.answer(body=body, fetched_at=freshness.fetched_at, keep=snapshot is not None)
    # The filter form, sent by htmx, gets only the body it replaces, not the page around it.
    name = f"{TEMPLATE}#body" if _wants_body(request) else TEMPLATE
    response = render(request, name, context)
    # One address, two answers: no cache may hand the body alone to a full page load.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _wants_body(request: AuthedHttpRequest) -> bool:
    htmx = request.htmx
    return bool(htmx) and htmx.target == "dashboard-body" and not htmx.history_restore_request


def _list_page(request: AuthedHttpRequest, part: str) -> HttpResponse:
    """One list's page: its items alone for htmx's "show more", appended where its link was;
    without htmx, the dashboard at that page."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('paylink:dashboard')}{'?' + query if query else ''}")
    snapshot, filters = _snapshot_and_filters(request)
    fragment = _fragment(snapshot=snapshot, part=part, pages=_pages(request), filters=filters)
    return render(request, f"{TEMPLATE}#fragment", {"fragment": fragment})


@require_safe
def dashboard_bills(request: AuthedHttpRequest) -> HttpResponse:
    return _list_page(request, "bills")


@require_safe
def dashboard_suggestions(request: AuthedHttpRequest) -> HttpResponse:
    return _list_page(request, "suggestions")


@require_safe
def dashboard_cards(request: AuthedHttpRequest) -> HttpResponse:
    return _list_page(request, "cards")


@require_safe
def dashboard_poll(request: AuthedHttpRequest) -> HttpResponse:
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
def dashboard_refresh(request: AuthedHttpRequest) -> HttpResponse:
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
