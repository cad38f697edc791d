"""The dashboard's whole page kept in the shared cache, one copy per person, and served warm
from what the session's round trip brought (paylink/lib/sessions.py): no query, no template.

A page is drawn with marks where each answer differs (its CSRF token, its CSP nonce, how long ago
the data came, the moment its poll counts from) and kept under the person's session tag with all
it was drawn for: whose it is, their name, language, time zone and day, the release that drew
it, and their snapshot's generation. A request is served the kept page only when every one of
those is its own, with the marks filled in for it alone.

The generation is a random token a person's snapshot gets anew, after commit, at every write
that can change the page (`_retire`); a page carries the token read before its snapshot was, so
one drawn from data older than a write never matches again. Only the plain page is kept: a
request with a query (filters, pages), from htmx, or with messages to show is drawn as before.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

from paylink.formatting import ago
from paylink.lib.csrf_token import csrf_token
from paylink.lib.row_changes import rows_updated
from paylink.lib.sessions import NOT_ASKED, owner_tag, prefetch_register, prefetched
from paylink.models import AccountSnapshot, Profile
from paylink.selectors.dashboard import FRAGMENT_CACHE_SECONDS
from paylink.time_zone import SESSION_KEY as TIME_ZONE_KEY

# As long as the fragments inside it (they hold action ids Atomic expires).
PAGE_SECONDS = FRAGMENT_CACHE_SECONDS
# Outlives any page drawn under it; a generation lost early only costs a page drawn again.
GENERATION_SECONDS = 24 * 3600
# Snapshot columns no page shows: writing only these retires nothing.
_UNSHOWN = frozenset({"sync_requested_at", "sync_queued_at"})
_FORMAT = 2
# Where each answer differs: its CSRF token, its CSP nonce, when its poll counts from, how long
# ago the data came. No name begins another.
SLOTS = ("csrf", "nonce", "after", "ago")


def page_key(tag: str) -> str:
    return f"paylink:dashboard-page:{tag}"


def generation_key(tag: str) -> str:
    return f"paylink:dashboard-generation:{tag}"


@functools.cache
def _dashboard_path() -> str:
    return reverse("paylink:dashboard")


# The settings the page prints.
_RELEASE_SETTINGS = (
    "STATIC_URL",
    "ATOMIC_TRANSACT_SDK_URL",
    "ATOMIC_TRANSACT_SDK_INTEGRITY",
    "ATOMIC_TRANSACT_ORIGIN",
    "PAYLINK_HUB_APPS",
    "PAYLINK_POLL_SECONDS",
    "SIMULATOR_MODE",
)


@functools.cache
def release() -> str:
    """What the page's markup comes from besides the person's data: the templates, the
    translations, the static files' names and the settings it prints. A deploy that changes
    any of them draws every page again (and every task status line kept by `hub.task_status`)."""
    digest = hashlib.sha256()
    templates: list[dict[str, Any]] = settings.TEMPLATES
    folders = [Path(d) for engine in templates for d in engine.get("DIRS", [])]
    folders += [Path(d) for d in settings.LOCALE_PATHS]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".html", ".mo", ".txt"):
                digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    manifest = Path(settings.STATIC_ROOT or ".") / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    for name in _RELEASE_SETTINGS:
        digest.update(f"{name}={getattr(settings, name, '')!r}".encode())
    return digest.hexdigest()[:16]


@receiver(setting_changed, dispatch_uid="paylink-dashboard-page-settings")
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting in _RELEASE_SETTINGS or setting in ("TEMPLATES", "LOCALE_PATHS", "STATIC_ROOT"):
        release.cache_clear()
    if setting == "ROOT_URLCONF":
        _dashboard_path.cache_clear()


def keepable(request: HttpRequest) -> bool:
    """The plain page: GET (or HEAD) of the dashboard's own address, nothing asked of it, no
    htmx, no message waiting in the cookie (the session's are checked once it is read)."""
    return (
        request.method in ("GET", "HEAD")
        and request.path_info == _dashboard_path()
        and not request.META.get("QUERY_STRING")
        and "HX-Request" not in request.headers
        and settings.MESSAGE_STORAGE.endswith("FallbackStorage")
        and "messages" not in request.COOKIES
    )


def _prefetch(request: HttpRequest, tag: str) -> list[str]:
    return [page_key(tag), generation_key(tag)] if keepable(request) else []


prefetch_register(_prefetch)


def _variant(request: HttpRequest, user: User) -> str:
    # Everything the page is drawn for besides the snapshot: whose it is and the name it shows,
    # the language, the time zone (the session's, so "not known yet" and UTC differ) and the day.
    return "|".join(
        (
            str(user.pk),
            user.get_username(),
            get_language() or "",
            str(request.session.get(TIME_ZONE_KEY, "")),
            timezone.get_current_timezone_name(),
            timezone.localdate().isoformat(),
            release(),
        )
    )


def _read(request: HttpRequest, key: str) -> Any:
    found = prefetched(request, key)
    return cache.get(key) if found is NOT_ASKED else found


class Drawing:
    """A page about to be drawn: the marks its template context carries, and the generation
    read before the snapshot (None: the page is drawn but not kept)."""

    def __init__(self, *, request: HttpRequest, generation: str | None) -> None:
        self.request = request
        self.generation = generation
        self.mark = f"pl{secrets.token_hex(8)}"

    def slot(self, name: str) -> str:
        assert name in SLOTS
        return f"{self.mark}{name}"

    def context(self) -> dict[str, str]:
        """What the template prints where each answer differs."""
        return {
            "csrf_token": self.slot("csrf"),
            "csp_nonce": self.slot("nonce"),
            "fetched_ago": self.slot("ago"),
        }

    def answer(self, *, body: str, fetched_at: datetime | None, keep: bool) -> HttpResponse:
        """The drawn page filled in for this request, kept for the next if `keep`."""
        user = self.request.user
        entry = {
            "format": _FORMAT,
            "user": user.pk,
            "variant": _variant(self.request, user),  # type: ignore[arg-type]  # signed in
            "generation": self.generation,
            # The page cut at its marks: text, a slot's name, text, a slot's name... text; the
            # text already encoded, as the answer sends it.
            "parts": [
                part if i % 2 else part.encode()
                for i, part in enumerate(re.split(f"{self.mark}({'|'.join(SLOTS)})", body))
            ],
            "fetched_at": fetched_at.isoformat() if fetched_at else None,
        }
        if keep and self.generation is not None:
            cache.set(page_key(owner_tag(user.pk)), entry, PAGE_SECONDS)
        return _filled(self.request, entry)


def drawing(request: HttpRequest) -> Drawing | None:
    """For a keepable request whose kept page could not serve it: how to draw one to keep."""
    if not keepable(request) or not request.user.is_authenticated:
        return None
    if "_messages" in request.session:
        return None
    key = generation_key(owner_tag(request.user.pk))
    generation = _read(request, key)
    if not isinstance(generation, str):
        # None yet (or lost): one is made now, before the snapshot is read.
        cache.add(key, secrets.token_hex(8), GENERATION_SECONDS)
        generation = cache.get(key)
    return Drawing(request=request, generation=generation if isinstance(generation, str) else None)


def served(request: HttpRequest) -> HttpResponse | None:
    """The kept page, filled in for this request, when it was drawn for exactly this."""
    if not keepable(request) or not request.user.is_authenticated:
        return None
    if "_messages" in request.session:
        return None
    user = request.user
    tag = owner_tag(user.pk)
    entry = _read(request, page_key(tag))
    if not (
        isinstance(entry, dict)
        and entry.get("format") == _FORMAT
        and entry.get("user") == user.pk
        and entry.get("generation") is not None
        and entry.get("generation") == _read(request, generation_key(tag))
        and entry.get("variant") == _variant(request, user)
    ):
        return None
    return _filled(request, entry)


def _filled(request: HttpRequest, entry: dict[str, Any]) -> HttpResponse:
    nonce = get_nonce(request)
    fetched_at = entry["fetched_at"]
    slots = {
        "csrf": csrf_token(request),
        "nonce": str(nonce) if nonce is not None else "",
        "after": str(int(time.time() * 1000)),
        "ago": escape(ago(datetime.fromisoformat(fetched_at))) if fetched_at else "",
    }
    filled = {name: value.encode() for name, value in slots.items()}
    parts = entry["parts"]
    # Odd places hold slots' names, even places the text between them.
    response = HttpResponse(b"".join(filled[p] if i % 2 else p for i, p in enumerate(parts)))
    # One address, two answers (the page, or its body for htmx): as the view drawing it says.
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def _retire(user_ids: list[int]) -> None:
    """Every kept page of these people no longer matches their snapshot: at once, and again
    when the write is visible to others (a page drawn between the two read the data from
    before it, under the first token)."""
    keys = [generation_key(owner_tag(uid)) for uid in set(user_ids)]

    def new_generations() -> None:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, GENERATION_SECONDS)

    if keys:
        new_generations()
        transaction.on_commit(new_generations)


def _owners(snapshot_ids: list[int]) -> list[int]:
    rows = AccountSnapshot.objects.filter(pk__in=snapshot_ids)
    return list(rows.values_list("profile__user_id", flat=True))


@receiver(rows_updated, sender=AccountSnapshot, dispatch_uid="paylink-page-snapshot-updated")
def _snapshots_updated(*, pks: list[int], fields: frozenset[str], **kwargs: object) -> None:
    if fields - _UNSHOWN:
        _retire(_owners(pks))


@receiver(post_save, sender=AccountSnapshot, dispatch_uid="paylink-page-snapshot-saved")
def _snapshot_saved(
    *,
    instance: AccountSnapshot,
    created: bool,
    update_fields: frozenset[str] | None,
    **kwargs: object,
) -> None:
    # A snapshot just made has no page yet: pages are kept only of a snapshot (and a deleted
    # one's were retired with it).
    if created:
        return
    if update_fields is None or update_fields - _UNSHOWN:
        owner = Profile.objects.filter(pk=instance.profile_id).values_list("user_id", flat=True)
        _retire(list(owner))


@receiver(post_delete, sender=AccountSnapshot, dispatch_uid="paylink-page-snapshot-deleted")
def _snapshot_deleted(*, instance: AccountSnapshot, **kwargs: object) -> None:
    owner = Profile.objects.filter(pk=instance.profile_id).values_list("user_id", flat=True)
    _retire(list(owner))
