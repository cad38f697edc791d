"""Counters in fixed windows, and the decorator that answers 429 once a limit is used up.

Every counter lives in the `throttle` cache alias, never the default cache, so routine cache
writes cannot evict one (hubsite/settings.py, paylink/checks.py). Counting is one atomic `incr`
per hit: two requests racing for the last try cannot both get it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, ngettext

from paylink.lib.client_address import address_bucket, client_address
from paylink.lib.outage import CACHE_ERRORS, RETRY_AFTER, SIGN_IN_UNAVAILABLE
from paylink.lib.whole_numbers import whole_number
from paylink.observability import metrics

logger = logging.getLogger(__name__)

THROTTLE_CACHE = "throttle"


@dataclass(frozen=True)
class WindowCount:
    count: int
    retry_after: int  # seconds until the window ends


def _counter_key(scope: str, value: str) -> str:
    # Hashed: usernames, emails and addresses never appear in keys.
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()
    return f"paylink:count:{scope}:{digest}"


def counter_hit(*, scope: str, value: str, window: int) -> WindowCount:
    """Count one hit against (scope, value) in a window that starts at its first hit."""
    store = caches[THROTTLE_CACHE]
    key = _counter_key(scope, value)
    now = time.time()
    count = 0
    for _ in range(3):
        # add() creates the window only if absent; incr() keeps the expiry it was given.
        store.add(f"{key}:start", now, timeout=window)
        store.add(key, 0, timeout=window)
        try:
            count = store.incr(key)
            break
        except ValueError:
            continue  # The window ended between add and incr: open the next one.
    started = store.get(f"{key}:start", now)
    return WindowCount(count=count, retry_after=_seconds_left(started, window, now))


def counter_peek(*, scope: str, value: str, window: int) -> WindowCount:
    """The count so far, without adding to it."""
    store = caches[THROTTLE_CACHE]
    key = _counter_key(scope, value)
    now = time.time()
    values = store.get_many([key, f"{key}:start"])
    started = values.get(f"{key}:start", now)
    return WindowCount(count=values.get(key, 0), retry_after=_seconds_left(started, window, now))


def counter_undo(*, scope: str, value: str) -> None:
    """Give back one hit (a request that turned out not to be what the limit is about)."""
    # A counter that already expired has nothing to give back.
    with contextlib.suppress(ValueError):
        caches[THROTTLE_CACHE].decr(_counter_key(scope, value))


def counter_clear(*, scope: str, value: str) -> None:
    key = _counter_key(scope, value)
    caches[THROTTLE_CACHE].delete_many([key, f"{key}:start"])


def _seconds_left(started: float, window: int, now: float) -> int:
    return max(1, math.ceil(started + window - now))


def wait_phrase(seconds: int) -> str:
    """'1 minute', '15 minutes', '40 seconds': how long, in words a page can show."""
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# --- Named limits -------------------------------------------------------------------------------

KeyedBy = Literal["address", "user", "email"]


@dataclass(frozen=True)
class RateLimit:
    name: str
    keyed_by: KeyedBy
    # Whole sentences, not "Too many <what>": other languages agree nouns and adjectives.
    sentence: Promise  # with %(wait)s, e.g. "5 minutes"

    @property
    def fails_closed(self) -> bool:
        """Whether a request is refused when the counters cannot be reached: the limits that
        guard anonymous doors (sign-in, sign-up, password resets) are; those on a signed-in
        person's own actions let the request through rather than fail a page."""
        return self.keyed_by != "user"

    def budget(self) -> tuple[int, int]:
        """(count, seconds) from PAYLINK_RATE_LIMITS, read per request so tests can change it."""
        raw = settings.PAYLINK_RATE_LIMITS.get(self.name, "")
        count, _, seconds = (whole_number(part) for part in raw.partition("/"))
        if count is None or not seconds:
            raise ImproperlyConfigured(
                f"PAYLINK_RATE_LIMITS[{self.name!r}] is {raw!r}; it must read count/seconds."
            )
        return count, seconds


LIMITS = {
    limit.name: limit
    for limit in [
        RateLimit(
            "sign_in", "address", gettext_lazy("Too many sign-in attempts. Try again in %(wait)s.")
        ),
        RateLimit(
            "sign_up",
            "address",
            gettext_lazy("Too many sign-ups from your network. Try again in %(wait)s."),
        ),
        RateLimit(
            "password_reset",
            "address",
            gettext_lazy("Too many password reset requests. Try again in %(wait)s."),
        ),
        RateLimit(
            "password_reset_email",
            "email",
            gettext_lazy(
                "Too many password reset requests for that address. Try again in %(wait)s."
            ),
        ),
        RateLimit(
            "hub_token",
            "user",
            gettext_lazy("Too many attempts to open the Payments Hub. Try again in %(wait)s."),
        ),
        RateLimit(
            "hub_events",
            "user",
            gettext_lazy("Too many updates from the Payments Hub. Try again in %(wait)s."),
        ),
        RateLimit(
            "dashboard_refresh", "user", gettext_lazy("Too many refreshes. Try again in %(wait)s.")
        ),
        RateLimit(
            "email_change",
            "user",
            gettext_lazy("Too many email address changes. Try again in %(wait)s."),
        ),
    ]
}


def _key_value(limit: RateLimit, request: HttpRequest) -> str | None:
    match limit.keyed_by:
        case "user" if request.user.is_authenticated:
            return f"user:{request.user.pk}"
        case "email":
            email = request.POST.get("email", "").strip().casefold()
            return f"email:{email}" if email else None
        case _:
            return f"address:{address_bucket(client_address(request))}"


class CountersUnreachable(Exception):
    """The throttle cache (Redis) cannot be reached and the limit must not be skipped."""


def rate_limit_hit(*, names: tuple[str, ...], request: HttpRequest) -> tuple[RateLimit, int] | None:
    """Counts the request against each named limit; the first one used up, with its wait.

    CountersUnreachable when the counters cannot be reached for a limit that fails closed.
    """
    for name in names:
        limit = LIMITS[name]
        value = _key_value(limit, request)
        if value is None:
            continue
        allowed, window = limit.budget()
        try:
            hit = counter_hit(scope=f"rate:{name}", value=value, window=window)
        except CACHE_ERRORS as error:
            if limit.fails_closed:
                raise CountersUnreachable(name) from error
            logger.warning("rate limit %s not counted (counters unreachable): %s", name, error)
            continue
        if hit.count > allowed:
            metrics.refusal(kind="rate_limit", scope=name)
            return limit, hit.retry_after
    return None


def service_unavailable(request: HttpRequest, *, as_json: bool = False) -> HttpResponse:
    """503 with Retry-After and a sentence: the counters a door needs cannot be reached, so
    the door stays shut (sign-in fails closed) and says why."""
    return _refusal(
        request,
        sentence=str(SIGN_IN_UNAVAILABLE),
        status=503,
        retry_after=RETRY_AFTER,
        as_json=as_json,
    )


def rate_limit_give_back(*, name: str, request: HttpRequest) -> None:
    """Return the hit this request took from the named limit (it was not what the limit counts,
    e.g. a sign-in that succeeded)."""
    value = _key_value(LIMITS[name], request)
    if value is not None:
        try:
            counter_undo(scope=f"rate:{name}", value=value)
        except CACHE_ERRORS as error:
            logger.warning("rate limit %s: hit not given back: %s", name, error)


def too_many_requests(
    request: HttpRequest, *, sentence: str, retry_after: int, as_json: bool = False
) -> HttpResponse:
    """429 with the sentence: JSON for script callers, a fragment for htmx, else a page."""
    return _refusal(
        request, sentence=sentence, status=429, retry_after=retry_after, as_json=as_json
    )


def _refusal(
    request: HttpRequest, *, sentence: str, status: int, retry_after: int, as_json: bool
) -> HttpResponse:
    if as_json:
        response: HttpResponse = JsonResponse({"error": sentence, "retryable": True}, status=status)
    else:
        template = "paylink/rate_limited.html"
        if getattr(request, "htmx", False):
            template += "#message"
        response = render(request, template, {"sentence": sentence}, status=status)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(*names: str, as_json: bool = False) -> Callable:
    """Answer 429 to a POST past any of the named limits (settings: PAYLINK_RATE_LIMITS)."""
    for name in names:
        if name not in LIMITS:
            raise ImproperlyConfigured(f"No rate limit is named {name!r}.")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method == "POST":
                try:
                    used_up = rate_limit_hit(names=names, request=request)
                except CountersUnreachable:
                    return service_unavailable(request, as_json=as_json)
                if used_up is not None:
                    limit, retry_after = used_up
                    sentence = str(limit.sentence) % {"wait": wait_phrase(retry_after)}
                    return too_many_requests(
                        request, sentence=sentence, retry_after=retry_after, as_json=as_json
                    )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
