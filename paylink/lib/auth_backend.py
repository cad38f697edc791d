"""Who a signed-in request is, without a query: the user row from the shared cache.

Every signed-in request asks for its user (AuthenticationMiddleware, then the sign-in check);
Django reads the row from the database each time. `CachedUserBackend.get_user` keeps it in the
default cache for USER_CACHE_SECONDS instead, and Django still checks the session's password
hash against it, so a password change signs other sessions out as before: every change of the
row (a save, a deletion) replaces the cached copy with a short-lived marker, at once and again
when the transaction commits. While the marker lives, the row is read from the database and not
cached, so a read that began before the change cannot put the old row back.

Only where the cache is shared by every process (settings.PAYLINK_SHARED_CACHE: Redis, or the
one process of the tests): a process's own memory would keep a copy the others never forget.

The row is keyed by its owner's session tag (paylink/lib/sessions.py), so the session store reads
it in the same round trip as the session; `SessionAuthenticationMiddleware` hands what it read
to `get_user`, which then asks the cache nothing.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from paylink.lib.row_cache import row_dump, row_load, row_shape
from paylink.lib.sessions import NOT_ASKED, owner_tag, prefetched

USER_CACHE_SECONDS = 300
# Long enough for any read of the row begun before a change to have finished.
_CHANGED = "changed"
_CHANGED_SECONDS = 10


# The row being asked for while `auth.get_user` runs, as the session's read brought it.
_brought: ContextVar[Any] = ContextVar("paylink_user_row_brought", default=NOT_ASKED)


@functools.cache
def _user_shape() -> str:
    return row_shape(get_user_model())


def user_cache_key_for_tag(tag: str) -> str:
    # The row as a dict of its columns, under its shape (paylink/lib/row_cache.py).
    return f"paylink:auth-user:{_user_shape()}:{tag}"


def user_cache_key(user_id: object) -> str:
    return user_cache_key_for_tag(owner_tag(user_id))


class CachedUserBackend(ModelBackend):
    """Django's ModelBackend, reading the signed-in user from the shared cache."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            # Refused here, so ModelBackend (listed after this one only for sessions signed in
            # before it) does not hash the same wrong password a second time.
            raise PermissionDenied
        return user

    def get_user(self, user_id: Any) -> Any:
        if not settings.PAYLINK_SHARED_CACHE:
            return super().get_user(user_id)
        key = user_cache_key(user_id)
        cached = _brought.get()
        if cached is NOT_ASKED:
            cached = cache.get(key)
        if isinstance(cached, dict) and str(cached.get("id")) == str(user_id):
            kept = row_load(get_user_model(), cached)
            return kept if self.user_can_authenticate(kept) else None
        user = super().get_user(user_id)
        if user is not None and cached is None:
            # `add`: a change made meanwhile left its marker, and wins.
            cache.add(key, row_dump(user), USER_CACHE_SECONDS)
        return user


def user_forget(user_id: object) -> None:
    """The cached row of `user_id` is no longer to be trusted: it is read afresh for a while."""
    cache.set(user_cache_key(user_id), _CHANGED, _CHANGED_SECONDS)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="paylink-user-saved")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="paylink-user-deleted")
def _user_changed(sender: object, instance: Any, **kwargs: object) -> None:
    user_id = instance.pk
    user_forget(user_id)
    # Again once the change is visible to others: a read between the two sees the old row.
    transaction.on_commit(lambda: user_forget(user_id))


def _user_of(request: HttpRequest) -> Any:
    # django.contrib.auth.middleware.get_user, handing the backend the row read with the session.
    if not hasattr(request, "_cached_user"):
        token = _brought.set(NOT_ASKED)
        try:
            user_id = request.session.get(auth.SESSION_KEY)
            if user_id is not None:
                _brought.set(prefetched(request, user_cache_key(user_id)))
            request._cached_user = auth.get_user(request)  # type: ignore[attr-defined]  # Django's own attribute
        finally:
            _brought.reset(token)
    return request._cached_user  # type: ignore[attr-defined]  # set above


class SessionAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, whose user is read with the row the session brought."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user_of(request))  # type: ignore[assignment]  # lazy, as Django's own
